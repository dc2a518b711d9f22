package tmc.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the helper programs the tests use (certtool, xwd, xdotool) and fails with their output when they fail. */
final class Programs {
    private Programs() {}

    /** Runs to completion (at most a minute) and returns standard output; a non-zero exit throws with stderr. */
    static byte[] run(ProcessBuilder pb) throws IOException {
        String what = String.join(" ", pb.command());
        Process p = pb.start();
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
