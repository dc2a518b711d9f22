package tmc.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the helper programs the tests use (certtool, xwd, xdotool, Xvfb, vncviewer, haproxy) and fails with their output when
 * they fail, or with the Debian package to install when one is missing (a test never skips for it).
 */
final class Programs {
    /** The Debian package of each helper program; scripts/install-deps.sh installs them all. */
    private static final Map<String, String> PACKAGES = Map.of("certtool", "gnutls-bin", "xwd", "x11-apps",
            "xdotool", "xdotool", "Xvfb", "xvfb", "vncviewer", "tigervnc-viewer", "haproxy", "haproxy");

    private Programs() {}

    /** Starts the program; a missing one fails with the package that has it. */
    static Process start(ProcessBuilder pb) throws IOException {
        String program = pb.command().get(0);
        try {
            return pb.start();
        } catch (IOException e) {
            if (!Files.isExecutable(Path.of(program)) && PACKAGES.containsKey(program)) {
                throw new IOException(program + " is missing: apt-get install " + PACKAGES.get(program)
                        + " (scripts/install-deps.sh, which make test runs, installs it)", e);
            }
            throw e;
        }
    }

    /** Runs to completion (at most a minute) and returns standard output; a non-zero exit throws with stderr. */
    static byte[] run(ProcessBuilder pb) throws IOException {
        String what = String.join(" ", pb.command());
        Process p = start(pb);
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(what + " did not finish within a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + what, e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(what + " failed with exit " + p.exitValue() + ": "
                    + new String(err.join(), StandardCharsets.UTF_8) + new String(out, StandardCharsets.UTF_8));
        }
        return out;
    }
}
