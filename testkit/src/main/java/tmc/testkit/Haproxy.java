package tmc.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Debian's HAProxy in front of gateways, configured from the project's own {@code docker/haproxy.cfg} (what the
 * compose {@code fleet} profile runs): the test keeps its global, defaults, frontend and backend settings and
 * replaces only the addresses, namely the frontend's {@code bind} (a free port on 127.0.0.1) and the backend's
 * {@code server} lines (one per gateway, connecting from {@code source}, so the gateways can tell the proxy from a
 * client by address). It adds a stats socket, through which the test learns that HAProxy has started and how it
 * sees its servers.
 */
public final class Haproxy implements AutoCloseable {
    /** The backend HAProxy sends browsers to, in docker/haproxy.cfg. */
    public static final String BACKEND = "gateways";

    private final Process process;
    private final Path stats;
    private final Path log;
    public final int port;
    public final URI uri;

    private Haproxy(Process process, Path stats, Path log, int port) {
        this.process = process;
        this.stats = stats;
        this.log = log;
        this.port = port;
        this.uri = URI.create("http://127.0.0.1:" + port);
    }

    /**
     * Starts HAProxy from {@code template} with {@code servers} ({@code host:port} of each gateway, named g0, g1...)
     * and returns once it serves. {@code source}: the address HAProxy connects to the gateways from.
     */
    public static Haproxy start(Path template, Path dir, List<String> servers, String source) throws IOException {
        Files.createDirectories(dir);
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            // HAProxy cannot bind port 0: take a port the kernel just handed out, and another if someone took it
            // in between (the start then fails to bind, and says so).
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            Path cfg = dir.resolve("haproxy.cfg");
            // A unix socket's path has at most 107 bytes (HAProxy: 97): the stats socket lives under /tmp.
            Path stats = Files.createTempDirectory(Path.of("/tmp"), "tmc-haproxy-").resolve("stats.sock");
            Path log = dir.resolve("haproxy.log");
            Files.deleteIfExists(stats);
            Files.writeString(cfg, config(Files.readString(template), port, servers, source, stats));
            Process p = Programs.start(new ProcessBuilder("haproxy", "-db", "-f", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()));
            Haproxy h = new Haproxy(p, stats, log, port);
            try {
                FileWatch.awaitFile(stats, p.toHandle(), h::exitText, Duration.ofSeconds(30));
                h.command("show info"); // answered once HAProxy runs its loop: every listener is bound by then
                return h;
            } catch (IOException e) {
                h.close();
                last = e;
                if (!h.exitText().contains("cannot bind")) {
                    throw e;
                }
            } catch (RuntimeException e) { // nothing started is left running, whatever went wrong
                h.close();
                throw e;
            }
        }
        throw last;
    }

    /** The config HAProxy runs: the template with this test's addresses. */
    static String config(String template, int port, List<String> servers, String source, Path stats) {
        StringBuilder out = new StringBuilder();
        String section = "";
        boolean serversWritten = false;
        for (String line : template.split("\n", -1)) {
            String t = line.strip();
            if (!line.startsWith(" ") && !line.startsWith("\t") && !t.isEmpty() && !t.startsWith("#")) {
                section = t;
            }
            if (t.startsWith("bind ") && section.startsWith("frontend")) {
                out.append("    bind 127.0.0.1:").append(port).append('\n');
            } else if (t.startsWith("server ") && section.equals("backend " + BACKEND)) {
                if (!serversWritten) { // in place of the template's: after its default-server line
                    for (int i = 0; i < servers.size(); i++) {
                        out.append("    server g").append(i).append(' ').append(servers.get(i)).append(" source ")
                                .append(source).append('\n');
                    }
                    serversWritten = true;
                }
                continue;
            } else {
                out.append(line).append('\n');
            }
            if (t.equals("global")) {
                out.append("    stats socket ").append(stats).append(" mode 600 level admin\n");
                out.append("    noreuseport\n"); // a port someone else holds is a failed bind, not a shared one
            }
        }
        if (!serversWritten) {
            throw new IllegalArgumentException("the template has no server line in backend " + BACKEND);
        }
        return out.toString();
    }

    /** One command on HAProxy's runtime API; its answer. */
    public String command(String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(stats));
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            return new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Each server of the gateways' backend and its status as HAProxy sees it (UP, DOWN, ...). */
    public Map<String, String> servers() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        String[] lines = command("show stat").split("\n");
        if (lines.length == 0 || !lines[0].startsWith("# ")) {
            throw new IOException("unexpected show stat answer: " + String.join("\n", lines));
        }
        List<String> header = List.of(lines[0].substring(2).split(","));
        int status = header.indexOf("status");
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",", -1);
            if (f.length > status && f[0].equals(BACKEND) && !f[1].equals("BACKEND")) {
                out.put(f[1], f[status]);
            }
        }
        return out;
    }

    /** What HAProxy printed, for failure messages. */
    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private String exitText() {
        return "haproxy exited" + (process.isAlive() ? "" : " with " + process.exitValue()) + ": " + logText();
    }

    /** {@code haproxy -c}: HAProxy's own check of a configuration file; throws with its complaint. */
    public static String check(Path cfg) throws IOException {
        return new String(Programs.run(new ProcessBuilder("haproxy", "-c", "-f", cfg.toString())
                .redirectErrorStream(true)), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            Files.deleteIfExists(stats);
            Files.deleteIfExists(stats.getParent());
        } catch (IOException e) {
            // a temp directory left behind
        }
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
