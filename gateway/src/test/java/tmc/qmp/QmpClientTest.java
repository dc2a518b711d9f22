package tmc.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The QMP client against a scripted server: framing, reply matching, errors, limits, reconnects. */
class QmpClientTest {
    static final Duration T = Duration.ofSeconds(10);

    static final class Recorder implements QmpClient.Listener {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> closed = new CompletableFuture<>();

        @Override
        public void onEvent(String name, JsonNode data, JsonNode timestamp) {
            events.add(name + " " + data);
        }

        @Override
        public void onClosed(Throwable cause) {
            closed.complete(cause);
        }
    }

    @Test
    void repliesAreMatchedByIdEvenOutOfOrder() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer()) {
            BlockingQueue<JsonNode> held = new LinkedBlockingQueue<>();
            java.util.concurrent.Semaphore arrived = new java.util.concurrent.Semaphore(0);
            s.onCommand = (cmd, conn) -> {
                held.add(cmd);
                arrived.release();
                if (held.size() == 2) {
                    // Answer the second first, with an event in between.
                    JsonNode first = held.poll();
                    JsonNode second = held.poll();
                    conn.send("{\"return\": \"second\", \"id\": " + second.get("id") + "}");
                    conn.send("{\"event\": \"STOP\", \"data\": {}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}");
                    conn.send("{\"return\": \"first\", \"id\": " + first.get("id") + "}");
                }
            };
            Recorder rec = new Recorder();
            try (QmpClient c = QmpClient.connect(s.address(), rec, T)) {
                assertEquals(10, c.greeting().path("QMP").path("version").path("qemu").path("major").asInt());
                CompletableFuture<JsonNode> a = CompletableFuture.supplyAsync(() -> call(c, "a"));
                assertTrue(arrived.tryAcquire(10, TimeUnit.SECONDS), "the server got the first command");
                CompletableFuture<JsonNode> b = CompletableFuture.supplyAsync(() -> call(c, "b"));
                assertEquals("first", a.get(10, TimeUnit.SECONDS).asText());
                assertEquals("second", b.get(10, TimeUnit.SECONDS).asText());
                assertEquals("STOP {}", rec.events.poll(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void errorsBecomeQmpExceptions() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer()) {
            s.onCommand = (cmd, conn) -> conn.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"bad id\"},"
                    + " \"id\": " + cmd.get("id") + "}");
            try (QmpClient c = QmpClient.connect(s.address(), new Recorder(), T)) {
                QmpException e = assertThrows(QmpException.class, () -> c.execute("vnc-overlay-add", null, T));
                assertEquals("GenericError", e.errorClass());
                assertEquals("bad id", e.description());
                assertTrue(c.isOpen(), "an error reply keeps the connection");
            }
        }
    }

    @Test
    void anEndlessLineClosesTheConnectionNotTheHeap() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer()) {
            s.onCommand = (cmd, conn) -> {
                try {
                    byte[] chunk = new byte[1 << 20];
                    java.util.Arrays.fill(chunk, (byte) 'x');
                    for (int i = 0; i < 6; i++) {
                        conn.sendRaw(chunk);
                    }
                } catch (IOException e) {
                    // the client hung up as it should
                }
            };
            Recorder rec = new Recorder();
            QmpClient c = QmpClient.connect(s.address(), rec, T);
            IOException e = assertThrows(IOException.class, () -> c.execute("query-status", null, T));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertInstanceOf(ProtocolException.class, rec.closed.get(10, TimeUnit.SECONDS));
            assertTrue(!c.isOpen());
        }
    }

    @Test
    void badJsonAndEofFailPendingCommands() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer()) {
            s.onCommand = (cmd, conn) -> conn.send("{not json");
            Recorder rec = new Recorder();
            QmpClient c = QmpClient.connect(s.address(), rec, T);
            assertThrows(IOException.class, () -> c.execute("query-status", null, T));
            assertTrue(rec.closed.get(10, TimeUnit.SECONDS).getMessage().contains("bad JSON"));
        }
        try (FakeQmpServer s = new FakeQmpServer()) {
            s.onCommand = (cmd, conn) -> {
                try {
                    conn.close();
                } catch (IOException ignored) {
                    // closing
                }
            };
            QmpClient c = QmpClient.connect(s.address(), new Recorder(), T);
            assertThrows(IOException.class, () -> c.execute("query-status", null, T));
            assertThrows(IOException.class, () -> c.execute("query-status", null, T), "after close");
        }
    }

    @Test
    void noReplyTimesOut() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer()) {
            s.onCommand = (cmd, conn) -> { };
            try (QmpClient c = QmpClient.connect(s.address(), new Recorder(), T)) {
                long t0 = System.nanoTime();
                assertThrows(java.net.SocketTimeoutException.class,
                        () -> c.execute("query-status", null, Duration.ofMillis(300)));
                assertTrue(System.nanoTime() - t0 >= 250_000_000L);
            }
        }
    }

    @Test
    void connectionReconnectsWithBackoffAndCountsGenerations() throws Exception {
        FakeQmpServer s = new FakeQmpServer();
        RecordingHandler recorder = new RecordingHandler();
        BlockingQueue<String> log = recorder.log;
        QmpConnection conn = new QmpConnection("vm", s.address(), recorder,
                Duration.ofMillis(50), Duration.ofMillis(400)).start();
        try {
            assertEquals("connected 1", log.poll(10, TimeUnit.SECONDS));
            assertNotNull(conn.awaitClient(T));
            s.current.send("{\"event\": \"RESUME\", \"data\": {}, \"timestamp\": {}}");
            assertEquals("event RESUME", log.poll(10, TimeUnit.SECONDS));
            s.current.close(); // "QEMU restarted"
            assertEquals("disconnected", log.poll(10, TimeUnit.SECONDS));
            assertEquals("connected 2", log.poll(10, TimeUnit.SECONDS));
            // The server goes away entirely, then comes back at the same path.
            s.close();
            assertEquals("disconnected", log.poll(10, TimeUnit.SECONDS));
            Thread.sleep(500);
            try (FakeQmpServer again = new FakeQmpServerAt(s.path).server) {
                assertEquals("connected 3", log.poll(10, TimeUnit.SECONDS));
            }
        } finally {
            conn.close();
        }
    }

    /** Re-binds a fake server at a given path (a QEMU restarted with the same -qmp argument). */
    static final class FakeQmpServerAt {
        final FakeQmpServer server;

        FakeQmpServerAt(java.nio.file.Path path) throws IOException {
            server = FakeQmpServer.at(path);
        }
    }

    @Test
    void lineReaderBoundsAndSplits() throws Exception {
        LineReader r = new LineReader(new ByteArrayInputStream("ab\r\n\ncd\nxyz".getBytes(StandardCharsets.UTF_8)),
                10);
        List<String> lines = new ArrayList<>();
        lines.add(r.readLine());
        lines.add(r.readLine());
        lines.add(r.readLine());
        assertEquals(List.of("ab", "", "cd"), lines);
        assertThrows(EOFException.class, r::readLine);
        LineReader big = new LineReader(new ByteArrayInputStream("0123456789A\n".getBytes(StandardCharsets.UTF_8)),
                10);
        assertThrows(ProtocolException.class, big::readLine);
        LineReader exact = new LineReader(new ByteArrayInputStream("0123456789\n".getBytes(StandardCharsets.UTF_8)),
                10);
        assertEquals("0123456789", exact.readLine());
        assertEquals(null, exact.readLine());
    }

    @Test
    void addresses() {
        assertEquals(new QmpAddress.Unix(java.nio.file.Path.of("/run/q.sock")), QmpAddress.parse("unix:/run/q.sock"));
        assertEquals(new QmpAddress.Unix(java.nio.file.Path.of("/run/q.sock")), QmpAddress.parse("/run/q.sock"));
        assertEquals(new QmpAddress.Tcp("127.0.0.1", 4444), QmpAddress.parse("tcp:127.0.0.1:4444"));
        assertEquals(new QmpAddress.Tcp("::1", 4444), QmpAddress.parse("tcp:[::1]:4444"));
        assertThrows(IllegalArgumentException.class, () -> QmpAddress.parse("tcp:host"));
        assertThrows(IllegalArgumentException.class, () -> QmpAddress.parse("tcp:host:99999"));
        assertThrows(IllegalArgumentException.class, () -> QmpAddress.parse("relative/path"));
    }

    static JsonNode call(QmpClient c, String cmd) {
        try {
            return c.execute(cmd, null, T);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
