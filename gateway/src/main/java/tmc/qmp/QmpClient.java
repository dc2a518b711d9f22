package tmc.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One QMP connection: reads the greeting, negotiates capabilities, then runs commands (each with its own
 * {@code id}, so replies are matched even when events and other replies come in between) and hands events to a
 * {@link Listener}.
 *
 * <p>Threads: one reader (virtual) thread owns the input and calls the listener; {@link #execute} may be called
 * from any thread, writes go out one whole line at a time under {@link #writeLock}. {@link #fail} runs once, and
 * fails every pending command.
 */
public final class QmpClient implements Closeable, QmpCommands {
    private static final Logger LOG = Logger.getLogger(QmpClient.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest line accepted from QEMU (replies to our own commands are small; this bounds a broken peer). */
    static final int MAX_LINE = 4 << 20;

    /** Called on the reader thread; must not block for long. */
    public interface Listener {
        void onEvent(String name, JsonNode data, JsonNode timestamp);

        /** Called once when the connection ends; {@code cause} is null after {@link #close()}. */
        void onClosed(Throwable cause);
    }

    private final QmpAddress address;
    private final SocketChannel channel;
    private final LineReader reader;
    private final OutputStream out;
    private final Listener listener;
    private final JsonNode greeting;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong();
    private final AtomicBoolean failed = new AtomicBoolean();
    private final Thread readerThread;

    private QmpClient(QmpAddress address, SocketChannel channel, Listener listener, JsonNode greeting,
                      LineReader reader, OutputStream out) {
        this.address = address;
        this.channel = channel;
        this.listener = listener;
        this.greeting = greeting;
        this.reader = reader;
        this.out = out;
        this.readerThread = Thread.ofVirtual().name("qmp-reader " + address).unstarted(this::readLoop);
    }

    /**
     * Connects, reads the greeting and enters command mode, all within {@code timeout}. The listener gets events
     * only after this returns.
     */
    public static QmpClient connect(QmpAddress address, Listener listener, Duration timeout)
            throws IOException, QmpException {
        SocketChannel ch = SocketChannel.open(address.family());
        try {
            // Connect, greeting and capabilities run on this thread under a watchdog that closes the channel
            // (unblocking connect or read) when they take longer than timeout.
            AtomicBoolean done = new AtomicBoolean();
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(timeout);
                    if (!done.get()) {
                        closeQuietly(ch); // unblocks the read below
                    }
                } catch (InterruptedException ignored) {
                    // handshake finished first
                }
            });
            try {
                ch.connect(address.socketAddress());
                InputStream in = Channels.newInputStream(ch);
                OutputStream out = Channels.newOutputStream(ch);
                LineReader reader = new LineReader(in, MAX_LINE);
                JsonNode greeting = readJson(reader);
                if (greeting == null || !greeting.has("QMP")) {
                    throw new ProtocolException("no QMP greeting from " + address + ": " + greeting);
                }
                out.write("{\"execute\":\"qmp_capabilities\",\"id\":\"caps\"}\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                while (true) {
                    JsonNode reply = readJson(reader);
                    if (reply == null) {
                        throw new ProtocolException("QMP connection to " + address + " closed during negotiation");
                    }
                    if (reply.has("event")) {
                        continue; // an event before command mode: nobody is listening yet
                    }
                    if (reply.has("error")) {
                        throw error(reply.get("error"));
                    }
                    if (reply.has("return")) {
                        break;
                    }
                }
                done.set(true);
                watchdog.interrupt();
                QmpClient client = new QmpClient(address, ch, listener, greeting, reader, out);
                client.readerThread.start();
                return client;
            } catch (IOException e) {
                if (!done.get() && !ch.isOpen()) {
                    throw new SocketTimeoutException("QMP handshake with " + address + " took longer than "
                            + timeout.toMillis() + " ms");
                }
                throw e;
            } finally {
                done.set(true);
                watchdog.interrupt();
            }
        } catch (IOException | QmpException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    public QmpAddress address() {
        return address;
    }

    /** The server's greeting, e.g. {"QMP": {"version": {...}, "capabilities": [...]}}. */
    public JsonNode greeting() {
        return greeting;
    }

    public boolean isOpen() {
        return !failed.get();
    }

    /**
     * Runs {@code command} with {@code arguments} (may be null) and returns its "return" value.
     *
     * @throws QmpException QEMU answered with an error
     * @throws IOException  the connection failed or closed, or no reply came within {@code timeout}
     */
    @Override
    public JsonNode execute(String command, ObjectNode arguments, Duration timeout) throws IOException, QmpException {
        if (failed.get()) {
            throw new IOException("QMP connection to " + address + " is closed");
        }
        String id = "tmc-" + nextId.incrementAndGet();
        ObjectNode req = JSON.createObjectNode();
        req.put("execute", command);
        if (arguments != null) {
            req.set("arguments", arguments);
        }
        req.put("id", id);
        byte[] line = (JSON.writeValueAsString(req) + "\n").getBytes(StandardCharsets.UTF_8);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            writeLock.lock();
            try {
                out.write(line);
                out.flush();
            } finally {
                writeLock.unlock();
            }
            JsonNode r = reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return r;
        } catch (IOException e) {
            fail(e);
            throw e;
        } catch (TimeoutException e) {
            throw new SocketTimeoutException("QMP " + command + " on " + address + ": no reply within "
                    + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof QmpException q) {
                throw new QmpException(q.errorClass(), q.description()); // this thread's stack
            }
            if (c instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException(c);
        } finally {
            pending.remove(id);
        }
    }

    @Override
    public void close() {
        fail(null);
    }

    // ===== PRIVATE METHODS =====

    private void readLoop() {
        try {
            while (true) {
                JsonNode msg = readJson(reader);
                if (msg == null) {
                    fail(new IOException("QMP connection to " + address + " closed by QEMU"));
                    return;
                }
                if (msg.has("event")) {
                    try {
                        listener.onEvent(msg.get("event").asText(), msg.path("data"), msg.path("timestamp"));
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "QMP event listener failed", e);
                    }
                    continue;
                }
                JsonNode id = msg.get("id");
                CompletableFuture<JsonNode> f = id == null ? null : pending.get(id.asText());
                if (f == null) {
                    LOG.warning("QMP " + address + ": reply to no pending command: " + abbreviate(msg.toString()));
                    continue;
                }
                if (msg.has("error")) {
                    f.completeExceptionally(error(msg.get("error")));
                } else {
                    f.complete(msg.path("return"));
                }
            }
        } catch (IOException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(new IOException("QMP reader failed", e));
        }
    }

    private void fail(Throwable cause) {
        if (!failed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(channel);
        IOException closed = new IOException("QMP connection to " + address + " closed"
                + (cause != null ? ": " + cause.getMessage() : ""), cause);
        for (CompletableFuture<JsonNode> f : pending.values()) {
            f.completeExceptionally(closed);
        }
        try {
            listener.onClosed(cause);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "QMP close listener failed", e);
        }
    }

    private static JsonNode readJson(LineReader reader) throws IOException {
        while (true) {
            String line = reader.readLine();
            if (line == null) {
                return null;
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new ProtocolException("QMP sent bad JSON: " + abbreviate(line));
            }
            if (n == null || !n.isObject()) {
                throw new ProtocolException("QMP sent a non-object: " + abbreviate(line));
            }
            return n;
        }
    }

    private static QmpException error(JsonNode err) {
        return new QmpException(err.path("class").asText("GenericError"), err.path("desc").asText(""));
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already broken
        }
    }
}
