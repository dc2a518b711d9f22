package tmc.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;

/**
 * A QMP server for faults a real QEMU can't be made to produce (endless lines, bad JSON, replies out of order).
 * Sends the greeting, answers qmp_capabilities, then hands every later command to {@code onCommand} with a way
 * to write raw lines back.
 */
public final class FakeQmpServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    public final Path path;
    final ServerSocketChannel server;
    public final BlockingQueue<JsonNode> commands = new LinkedBlockingQueue<>();
    public volatile BiConsumer<JsonNode, Conn> onCommand = (cmd, conn) -> conn.send("{\"return\": {}, \"id\": "
            + cmd.get("id") + "}");
    public volatile Conn current;
    public volatile int accepted;

    public final class Conn {
        final SocketChannel ch;
        final OutputStream out;

        Conn(SocketChannel ch) {
            this.ch = ch;
            this.out = Channels.newOutputStream(ch);
        }

        public synchronized void send(String line) {
            try {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                // client gone
            }
        }

        synchronized void sendRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        public void close() throws IOException {
            ch.close();
        }
    }

    public FakeQmpServer() throws IOException {
        this(newSocketPath());
    }

    /**
     * A socket path in a temporary directory of its own. Tests restart a server at the same path after closing it,
     * so the directory stays until the JVM exits (it is empty by then: close() removes the socket).
     */
    private static Path newSocketPath() throws IOException {
        Path dir = Files.createTempDirectory("fakeqmp");
        dir.toFile().deleteOnExit();
        return dir.resolve("qmp.sock");
    }

    public static FakeQmpServer at(Path path) throws IOException {
        return new FakeQmpServer(path);
    }

    private FakeQmpServer(Path path) throws IOException {
        this.path = path;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread.ofVirtual().start(this::acceptLoop);
    }

    public QmpAddress address() {
        return new QmpAddress.Unix(path);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                accepted++;
                Conn conn = new Conn(ch);
                current = conn;
                Thread.ofVirtual().start(() -> serve(conn));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Conn conn) {
        conn.send("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 13, \"minor\": 0, \"major\": 10}}, "
                + "\"capabilities\": []}}");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(conn.ch),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode cmd = JSON.readTree(line);
                if ("qmp_capabilities".equals(cmd.path("execute").asText())) {
                    conn.send("{\"return\": {}, \"id\": " + cmd.get("id") + "}");
                    continue;
                }
                commands.add(cmd);
                onCommand.accept(cmd, conn);
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        Conn c = current;
        if (c != null) {
            c.close();
        }
        Files.deleteIfExists(path);
    }
}
