package tmc.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's websockify (0.10) relaying a loopback WebSocket port to an RFB server: the anchor tmc is held to. */
final class WebsockifyProcess implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;

    private WebsockifyProcess(int targetPort) throws IOException {
        String exe = System.getProperty("tmc.bench.websockify", "/usr/bin/websockify");
        if (!Files.isExecutable(Path.of(exe))) {
            throw new IOException(exe + " not found: apt-get install websockify");
        }
        port = freePort();
        log = Files.createTempFile("tmc-bench-websockify-", ".log");
        process = new ProcessBuilder(List.of(exe, "127.0.0.1:" + port, "127.0.0.1:" + targetPort))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }, "stop-websockify"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                break;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    close();
                    throw new IOException("websockify did not start: " + Files.readString(log));
                }
                GatewayProcess.sleep(50);
            }
        }
    }

    static WebsockifyProcess start(int targetPort) throws IOException {
        return new WebsockifyProcess(targetPort);
    }

    static String version() {
        try {
            Process p = new ProcessBuilder("dpkg-query", "-W", "-f=${Version}", "websockify").start();
            p.waitFor(10, TimeUnit.SECONDS);
            return new String(p.getInputStream().readAllBytes()).trim();
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }

    URI uri() {
        return URI.create("ws://127.0.0.1:" + port + "/");
    }

    /** CPU seconds of websockify and the children it forks per connection. */
    double cpuSeconds() {
        return Cpu.tree(process.pid());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // Temporary file.
        }
    }
}
