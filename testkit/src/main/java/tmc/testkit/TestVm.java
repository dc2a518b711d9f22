package tmc.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A real VM for tests: the patched qemu-system-x86_64 (TCG) booting the tiny test guest (scripts/build-guest.sh),
 * with a VNC server on a loopback port, two QMP monitors (one for the product, one for the test itself) and the
 * guest's serial port, which logs every input event the guest receives.
 *
 * <pre>{@code
 * try (TestVm vm = TestVm.builder().name("vm1").start()) {
 *   RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null);
 *   vm.qmp().execute("query-status");
 * }
 * }</pre>
 */
public final class TestVm implements Guest, AutoCloseable {
    /**
     * The guest boots in 5-10 s under TCG on an idle 2-core machine, but took over 2 minutes at load 28 (several test
     * JVMs, QEMU builds and Chromium at once): a missing guest still fails, only later.
     */
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(300);

    private final Builder config;
    private final Path runDir;
    private final Path logDir;
    private final int vncPort;
    private final int websocketPort;
    private Process process;
    private SerialConsole serial;
    private QmpClient qmp;
    private int generation;

    private TestVm(Builder config) throws IOException {
        this.config = config;
        // Unix socket paths must stay under 108 bytes: keep them in a short temp directory.
        this.runDir = Files.createTempDirectory(Path.of("/tmp"), "tmc-vm-");
        this.logDir = TestEnv.buildDir().resolve("vms").resolve(config.name + "-" + runDir.getFileName());
        Files.createDirectories(logDir);
        this.vncPort = freePort(5900);
        this.websocketPort = config.vncWebsocket ? freePort(5700) : -1;
    }

    public static Builder builder() {
        return new Builder();
    }

    private void boot() throws IOException {
        generation++;
        Path guest = config.guest != null ? config.guest : TestEnv.guest();
        String cmdline = Files.readString(guest.resolve("cmdline")).trim() + " tmc.name=" + config.name;
        List<String> cmd = new ArrayList<>(List.of(
                config.qemu.toString(),
                "-machine", "pc", "-accel", "tcg", "-m", String.valueOf(config.memoryMib), "-nodefaults", "-vga", "std",
                "-display", config.dbusDisplay ? "dbus,p2p=yes" : "none", "-no-reboot",
                "-device", "virtio-tablet-pci",
                "-kernel", guest.resolve("vmlinuz").toString(),
                "-initrd", guest.resolve("initrd.img").toString(),
                "-append", cmdline,
                "-chardev", "socket,id=ser0,path=" + serialSocket() + ",server=on,wait=on",
                "-serial", "chardev:ser0",
                "-chardev", "socket,id=qmp0,path=" + qmpSocket() + ",server=on,wait=off",
                "-mon", "chardev=qmp0,mode=control",
                "-qmp", "unix:" + testQmpSocket() + ",server=on,wait=off"));
        StringBuilder vnc = new StringBuilder("127.0.0.1:" + (vncPort - 5900));
        if (config.vncPassword != null) {
            cmd.addAll(List.of("-object", "secret,id=vncpw,data=" + config.vncPassword));
            vnc.append(",password-secret=vncpw");
        }
        if (websocketPort > 0) vnc.append(",websocket=127.0.0.1:").append(websocketPort);
        for (String option : config.vncOptions) vnc.append(',').append(option);
        if (!config.dbusDisplay) cmd.addAll(List.of("-vnc", vnc.toString()));
        cmd.addAll(config.extraArgs);

        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(qemuLog().toFile()));
        pb.environment().put("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:log_path=" + logDir.resolve("asan"));
        Files.writeString(logDir.resolve("command-" + generation + ".txt"), String.join(" ", cmd));
        process = pb.start();

        serial = new SerialConsole(connectUnix(serialSocket()),
                logDir.resolve("serial-" + generation + ".log"));
        try {
            serial.awaitLine(0, "TMC-GUEST-READY", BOOT_TIMEOUT);
        } catch (AssertionError e) {
            throw new IOException("guest " + config.name + " did not boot (" + e.getMessage() + "); QEMU log:\n"
                    + qemuLogTail(), e);
        }
        qmp = QmpClient.connect(testQmpSocket());
    }

    private SocketChannel connectUnix(Path socket) throws IOException {
        return UnixSockets.connect(socket, process.toHandle(),
                () -> "QEMU exited with " + process.exitValue() + ": " + qemuLogTail());
    }

    /** Picks a free loopback port at or above {@code base} (QEMU takes VNC ports as display numbers). */
    private static int freePort(int base) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = base + 1000 + ThreadLocalRandom.current().nextInt(20000);
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // Try another.
            }
        }
        throw new IOException("no free port found");
    }

    // ===== accessors =====

    public String name() {
        return config.name;
    }

    /** The VNC server's TCP port on 127.0.0.1. */
    public int vncPort() {
        return vncPort;
    }

    /** QEMU's own WebSocket VNC listener's port on 127.0.0.1; only with {@link Builder#vncWebsocket}. */
    public int vncWebsocketPort() {
        if (websocketPort < 0) throw new IllegalStateException("VM started without vncWebsocket(true)");
        return websocketPort;
    }

    /** The QMP socket reserved for the product (the gateway); nothing in the testkit connects to it. */
    public Path qmpSocket() {
        return runDir.resolve("qmp.sock");
    }

    @Override
    public QmpClient qmp() {
        return qmp;
    }

    @Override
    public SerialConsole serial() {
        return serial;
    }

    public Path logDir() {
        return logDir;
    }

    public Path qemuLog() {
        return logDir.resolve("qemu.log");
    }

    /** Text of any AddressSanitizer report QEMU wrote (ASan builds), or "" when there is none. */
    public String asanReports() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(logDir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("asan")).toList()) {
                all.append(Files.readString(f, StandardCharsets.UTF_8));
            }
        }
        String log = Files.exists(qemuLog()) ? Files.readString(qemuLog(), StandardCharsets.UTF_8) : "";
        if (log.contains("AddressSanitizer") || log.contains("runtime error:")) all.append(log);
        return all.toString();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The QEMU process id (for kill -9 tests). */
    public long pid() {
        return process.pid();
    }

    /** Kills QEMU at once (SIGKILL), like a crash. */
    public void kill() throws InterruptedException {
        closeClients();
        process.destroyForcibly();
        process.waitFor();
    }

    /** Kills QEMU and boots it again with the same ports and sockets (the product's QMP client must reconnect). */
    public void restart() throws IOException, InterruptedException {
        if (process.isAlive()) kill();
        Files.deleteIfExists(serialSocket());
        Files.deleteIfExists(qmpSocket());
        Files.deleteIfExists(testQmpSocket());
        boot();
    }

    private Path serialSocket() {
        return runDir.resolve("serial.sock");
    }

    private Path testQmpSocket() {
        return runDir.resolve("qmp-test.sock");
    }

    /** The last lines QEMU wrote to its log, for failure messages. */
    public String qemuLogTail() {
        try {
            List<String> lines = Files.readAllLines(qemuLog());
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private void closeClients() {
        if (qmp != null) qmp.close();
        if (serial != null) serial.close();
    }

    @Override
    public void close() {
        closeClients();
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try (Stream<Path> files = Files.walk(runDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Best effort: it is a temp directory.
        }
    }

    /** Options for a {@link TestVm}. */
    public static final class Builder {
        private String name = "vm";
        private String vncPassword;
        private boolean vncWebsocket;
        private boolean dbusDisplay;
        private Path qemu;
        private final List<String> extraArgs = new ArrayList<>();
        private Path guest;
        private int memoryMib = 256;
        private final List<String> vncOptions = new ArrayList<>();

        private Builder() {}

        /** The guest's name: shown on its screen and in its READY line; also names the log directory. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Require VNC Authentication with this password (null: security type None). */
        public Builder vncPassword(String password) {
            this.vncPassword = password;
            return this;
        }

        /** Also open QEMU's own WebSocket VNC listener. */
        public Builder vncWebsocket(boolean on) {
            this.vncWebsocket = on;
            return this;
        }

        /** Another QEMU binary (e.g. {@link TestEnv#qemuAsan()}); default {@link TestEnv#qemu()}. */
        public Builder qemu(Path qemu) {
            this.qemu = qemu;
            return this;
        }

        /**
         * QEMU's D-Bus display ({@code -display dbus,p2p=yes}) instead of its VNC server, on Debian's stock QEMU
         * ({@link TestEnv#stockQemu()}) unless {@link #qemu} says otherwise. The product attaches through
         * {@link #qmpSocket()} (QMP {@code add_client}); {@link #vncPort()} then has no server behind it.
         */
        public Builder dbusDisplay() {
            this.dbusDisplay = true;
            return this;
        }

        /**
         * Another guest directory (vmlinuz, initrd.img, cmdline), e.g. {@link TestEnv#desktopGuest()} with
         * {@link #memory} 1024; default {@link TestEnv#guest()}.
         */
        public Builder guest(Path dir) {
            this.guest = dir;
            return this;
        }

        /** Guest memory in MiB (default 256). */
        public Builder memory(int mib) {
            this.memoryMib = mib;
            return this;
        }

        /** More options of the main {@code -vnc} display, e.g. {@code "lossy=on"}, {@code "tls-creds=tls0"}. */
        public Builder vncOptions(String... options) {
            vncOptions.addAll(List.of(options));
            return this;
        }

        public Builder extraArgs(String... args) {
            extraArgs.addAll(List.of(args));
            return this;
        }

        /** Boots the VM and waits until the guest's init is up (its input devices are being logged). */
        public TestVm start() throws IOException {
            if (qemu == null) qemu = dbusDisplay ? TestEnv.stockQemu() : TestEnv.qemu();
            TestVm vm = new TestVm(this);
            try {
                vm.boot();
                return vm;
            } catch (IOException | RuntimeException | Error e) {
                vm.close();
                throw e;
            }
        }
    }
}
