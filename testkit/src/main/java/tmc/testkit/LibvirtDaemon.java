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
 * A private libvirt daemon for tests: Debian's {@code libvirtd} (QEMU driver, system mode, as root) with its own
 * configuration, socket and state, so the machine's own libvirt (if any) is untouched. It runs in a mount
 * namespace of its own ({@code unshare -m}) in which a temporary directory is bind-mounted over {@code /etc/libvirt},
 * {@code /var/lib/libvirt}, {@code /run/libvirt}, {@code /var/cache/libvirt} and {@code /var/log/libvirt}: domain
 * definitions, QEMU state and logs all stay in that directory, and go with it.
 *
 * <p>Its {@code qemu.conf} runs QEMU as root without a security driver, cgroups or device namespaces (the test
 * QEMU lives under root's home), and writes QEMU's output to files (no virtlogd needed).
 */
public final class LibvirtDaemon implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final String[] BIND = {"etc:/etc/libvirt", "lib:/var/lib/libvirt", "run:/run/libvirt",
        "cache:/var/cache/libvirt", "log:/var/log/libvirt"};

    private final Path dir;
    private final Process process;

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
        StringBuilder script = new StringBuilder("set -e\n");
        for (String b : BIND) {
            String[] p = b.split(":");
            Files.createDirectories(dir.resolve(p[0]));
            // The mount points must exist on the host; creating an empty directory there changes nothing.
            script.append("mkdir -p ").append(p[1]).append(" && mount --bind ").append(dir.resolve(p[0]))
                    .append(' ').append(p[1]).append('\n');
        }
        script.append("exec /usr/sbin/libvirtd -f ").append(dir.resolve("libvirtd.conf")).append('\n');
        Files.createDirectories(dir.resolve("sock"));
        Files.writeString(dir.resolve("libvirtd.conf"), """
                unix_sock_dir = "%s"
                auth_unix_rw = "none"
                auth_unix_ro = "none"
                log_outputs = "3:file:%s"
                """.formatted(dir.resolve("sock"), dir.resolve("libvirtd.log")));
        Files.writeString(dir.resolve("etc/qemu.conf"), """
                user = "root"
                group = "root"
                dynamic_ownership = 0
                remember_owner = 0
                security_driver = "none"
                namespaces = [ ]
                cgroup_controllers = [ ]
                stdio_handler = "file"
                """);
        Files.writeString(dir.resolve("start.sh"), script);
        Process p = new ProcessBuilder("/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh",
                dir.resolve("start.sh").toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("libvirtd.out").toFile())
                .start();
        LibvirtDaemon d = new LibvirtDaemon(dir, p);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.exists(d.socket())) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String out = Files.readString(dir.resolve("libvirtd.out"), StandardCharsets.UTF_8);
                d.close();
                throw new IOException("libvirtd did not start: " + out);
            }
            sleep(20);
        }
        d.virsh("version"); // answers once the drivers are up
        return d;
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
        if (process.isAlive()) {
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
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
