package tmc.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private libvirt daemon for tests: Debian's {@code libvirtd} (QEMU driver, system mode, as root) run by
 * scripts/libvirtd-private.sh with its own configuration, socket and state in a temporary directory (bind-mounted
 * over /etc/libvirt, /var/lib/libvirt, /run/libvirt, ... in a mount namespace of its own), so the machine's own
 * libvirt (if any) is untouched and everything goes with the directory. QEMU runs as root without a security
 * driver, cgroups or device namespaces, its output to files (no virtlogd).
 */
public final class LibvirtDaemon implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private Process process;

    private LibvirtDaemon(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
    }

    /** Starts a daemon; fails (never skips) when libvirtd is not installed (scripts/install-deps.sh does it). */
    public static LibvirtDaemon start() throws IOException {
        for (String tool : new String[] {"/usr/sbin/libvirtd", "/usr/bin/virsh", "/usr/bin/unshare"}) {
            if (!Files.isExecutable(Path.of(tool))) {
                throw new IllegalStateException("missing " + tool + ": install libvirt-daemon-system, "
                        + "libvirt-daemon-driver-qemu and libvirt-clients (scripts/install-deps.sh does)");
            }
        }
        // Unix socket paths must stay under 108 bytes.
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "tmc-lv-");
        LibvirtDaemon d = new LibvirtDaemon(dir, null);
        try {
            d.launch();
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /**
     * Stops the daemon (SIGTERM) and starts it again on the same directory, as an administrator restarting
     * libvirtd would: running domains keep running and the new daemon takes them back.
     */
    public void restart() throws IOException {
        stopDaemon();
        launch();
    }

    private void launch() throws IOException {
        Files.deleteIfExists(socket());
        Files.createDirectories(socket().getParent()); // watched below (the script's mkdir -p keeps it)
        process = new ProcessBuilder(script().toString(), dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("libvirtd.out").toFile()))
                .start();
        try {
            FileWatch.awaitFile(socket(), process.toHandle(), () -> "libvirtd exited with " + process.exitValue(),
                    START_TIMEOUT);
        } catch (IOException e) {
            throw new IOException("libvirtd did not start (" + e.getMessage() + "): "
                    + Files.readString(dir.resolve("libvirtd.out"), StandardCharsets.UTF_8), e);
        }
        virsh("version"); // answers once the drivers are up
    }

    private void stopDaemon() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** scripts/libvirtd-private.sh of this checkout, found upwards from the working directory (a module's). */
    private static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("scripts/libvirtd-private.sh");
            if (Files.isExecutable(s)) {
                return s;
            }
        }
        throw new IllegalStateException("scripts/libvirtd-private.sh not found above "
                + Path.of("").toAbsolutePath());
    }

    /** The URI clients connect with. */
    public String uri() {
        return "qemu+unix:///system?socket=" + socket();
    }

    public Path dir() {
        return dir;
    }

    private Path socket() {
        return dir.resolve("sock/libvirt-sock");
    }

    /** Runs {@code virsh -c URI args...} and returns its output; throws with virsh's message when it fails. */
    public String virsh(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/virsh", "-q", "-c", uri()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("virsh " + String.join(" ", args) + ": no answer in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) {
            throw new IOException("virsh " + String.join(" ", args) + ": " + out.trim());
        }
        return out;
    }

    /** Defines a domain from its XML (persistent, not started). */
    public void define(String xml, String name) throws IOException {
        Path f = dir.resolve(name + ".xml");
        Files.writeString(f, xml);
        virsh("define", f.toString());
    }

    /** Stops every domain, then the daemon (libvirtd leaves running QEMUs behind when it exits), then cleans up. */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            try {
                for (String name : virsh("list", "--name").split("\n")) {
                    if (!name.isBlank()) {
                        virsh("destroy", name.trim());
                    }
                }
            } catch (IOException e) {
                // best effort; QEMUs left are killed below
            }
        }
        stopDaemon();
        // QEMUs that outlived the daemon: their pid files are in our run directory.
        try (Stream<Path> pids = Files.exists(dir.resolve("run/qemu")) ? Files.list(dir.resolve("run/qemu"))
                : Stream.empty()) {
            for (Path f : pids.filter(x -> x.toString().endsWith(".pid")).toList()) {
                long pid = Long.parseLong(Files.readString(f).trim());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException | NumberFormatException e) {
            // best effort
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp directory
        }
    }
}
