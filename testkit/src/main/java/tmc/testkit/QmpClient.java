package tmc.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A small QMP client for tests: one reader thread matches replies to commands by id and keeps every event.
 * Not the gateway's client (that one lives in tmc.qmp); this one stays simple so it can judge the product.
 */
public final class QmpClient implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final SocketChannel channel;
    private final Thread reader;
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final Journal<JsonNode> events = new Journal<>("QMP event");
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();

    private QmpClient(SocketChannel channel) {
        this.channel = channel;
        this.reader = Thread.ofVirtual().name("qmp-test-reader").start(this::readLoop);
    }

    /** Connects to a QMP unix socket and negotiates capabilities. */
    public static QmpClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        QmpClient client = new QmpClient(channel);
        try {
            client.greeting.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            client.close();
            throw new IOException("no QMP greeting on " + socket, e);
        }
        client.execute("qmp_capabilities");
        return client;
    }

    private void readLoop() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                JsonNode message = JSON.readTree(line);
                if (message.has("QMP")) {
                    greeting.complete(message);
                } else if (message.has("event")) {
                    events.add(message);
                } else if (message.has("id")) {
                    CompletableFuture<JsonNode> reply = pending.remove(message.get("id").asText());
                    if (reply != null) reply.complete(message);
                }
            }
        } catch (IOException e) {
            // Connection gone; fail what is pending below.
        } finally {
            events.end();
            IOException gone = new IOException("QMP connection closed");
            greeting.completeExceptionally(gone);
            pending.values().forEach(f -> f.completeExceptionally(gone));
        }
    }

    public JsonNode execute(String command) {
        return execute(command, null);
    }

    /** Runs a command and returns its {@code return} value; throws {@link QmpException} on a QMP error. */
    public JsonNode execute(String command, ObjectNode arguments) {
        JsonNode reply = executeRaw(command, arguments);
        if (reply.has("error")) {
            JsonNode error = reply.get("error");
            throw new QmpException(error.path("class").asText(), error.path("desc").asText());
        }
        return reply.get("return");
    }

    /** Runs a command and returns the whole reply object ({@code return} or {@code error}). */
    public JsonNode executeRaw(String command, ObjectNode arguments) {
        String id = "t" + ids.incrementAndGet();
        ObjectNode request = JSON.createObjectNode().put("execute", command).put("id", id);
        if (arguments != null) request.set("arguments", arguments);
        return sendRaw(id, request.toString());
    }

    /** Sends an arbitrary line (which must carry {@code "id": id}) and waits for the reply with that id. */
    public JsonNode sendRaw(String id, String json) {
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            ByteBuffer bytes = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
            synchronized (channel) {
                while (bytes.hasRemaining()) channel.write(bytes);
            }
            return reply.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | ExecutionException | TimeoutException e) {
            pending.remove(id);
            throw new AssertionError("QMP request failed: " + abbreviate(json), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The number of events seen so far, for {@link #eventsSince} and {@link #awaitEvent(int, String, Duration)}. */
    public int mark() {
        return events.mark();
    }

    public List<JsonNode> eventsSince(int mark) {
        return events.since(mark);
    }

    public List<JsonNode> eventsSince(int mark, String name) {
        return eventsSince(mark).stream().filter(e -> name.equals(e.path("event").asText())).toList();
    }

    /** Waits for an event named {@code name} at or after {@code mark}; returns the whole event object. */
    public JsonNode awaitEvent(int mark, String name, Duration timeout) {
        return awaitEvent(mark, e -> name.equals(e.path("event").asText()), timeout);
    }

    public JsonNode awaitEvent(int mark, Predicate<JsonNode> test, Duration timeout) {
        return events.await(mark, test, timeout, m -> "seen: " + eventsSince(m));
    }

    public static ObjectNode args() {
        return JSON.createObjectNode();
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...(" + s.length() + " chars)";
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
