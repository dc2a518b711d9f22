package tmc.api;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import tmc.auth.TokenClaims;
import tmc.messages.EventBus;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/**
 * {@code GET /api/v1/events}: server-sent events, one per delivery state change, {@code id:} = the outbox seq.
 * A client that reconnects with {@code Last-Event-ID} (or {@code ?lastEventId=}) first gets what it missed from the
 * store, then live events; each event is sent once, in seq order.
 *
 * <p>A stream lives as long as the admin token it was opened with: it ends (an {@code end} event saying why) once
 * the token expires or is revoked, checked every {@link #RECHECK_MS}.
 *
 * <p>Each stream has its own virtual thread doing blocking writes, fed by a bounded queue; a client too slow to
 * drain {@link #QUEUE_LIMIT} events is dropped (it can reconnect with Last-Event-ID and miss nothing).
 */
final class EventStream implements AutoCloseable {
    static final int MAX_STREAMS = 256;
    static final int QUEUE_LIMIT = 10_000;
    static final long HEARTBEAT_MS = 15_000;
    static final long RECHECK_MS = 1_000;

    private final Store store;
    private final EventBus bus;
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();

    EventStream(Store store, EventBus bus) {
        this.store = store;
        this.bus = bus;
    }

    void open(HttpServletRequest req, HttpServletResponse resp, TokenClaims admin, AdminAuth auth)
            throws IOException {
        long after;
        String last = req.getHeader("Last-Event-ID");
        if (last == null) {
            last = req.getParameter("lastEventId");
        }
        if (last != null) {
            try {
                after = Long.parseLong(last.trim());
            } catch (NumberFormatException e) {
                throw Json.bad("bad_last_event_id", "Last-Event-ID must be an event id (an integer)");
            }
            if (after < 0) {
                throw Json.bad("bad_last_event_id", "Last-Event-ID must not be negative");
            }
        } else {
            after = store.lastOutboxSeq(); // a new client starts with what happens from now on
        }
        if (streams.size() >= MAX_STREAMS) {
            throw new ApiError(503, "too_many_streams", "too many event streams are open");
        }
        resp.setStatus(200);
        resp.setContentType("text/event-stream");
        resp.setCharacterEncoding("utf-8");
        resp.setHeader("X-Accel-Buffering", "no");
        AsyncContext async = req.startAsync();
        async.setTimeout(0);
        Stream s = new Stream(async, resp.getOutputStream(), after, admin, auth);
        streams.add(s);
        s.unsubscribe = bus.subscribe(s::offer);
        Thread.ofVirtual().name("sse").start(s::run);
    }

    @Override
    public void close() {
        for (Stream s : streams) {
            s.stop();
        }
    }

    private final class Stream {
        final AsyncContext async;
        final ServletOutputStream out;
        final BlockingQueue<OutboxEvent> queue = new LinkedBlockingQueue<>();
        final AtomicBoolean stopped = new AtomicBoolean();
        final TokenClaims admin;
        final AdminAuth auth;
        long sent;
        volatile AutoCloseable unsubscribe;

        Stream(AsyncContext async, ServletOutputStream out, long after, TokenClaims admin, AdminAuth auth) {
            this.async = async;
            this.out = out;
            this.sent = after;
            this.admin = admin;
            this.auth = auth;
        }

        void offer(OutboxEvent e) {
            if (queue.size() >= QUEUE_LIMIT) {
                stop();
                return;
            }
            queue.add(e);
        }

        void run() {
            try {
                write(": tmc event stream\nretry: 2000\n\n");
                // Catch up from the store; live events that arrive meanwhile are de-duplicated by seq.
                while (true) {
                    List<OutboxEvent> missed = store.outboxAfter(sent, 500);
                    for (OutboxEvent e : missed) {
                        send(e);
                    }
                    if (missed.size() < 500) {
                        break;
                    }
                }
                long quietSince = System.nanoTime();
                while (!stopped.get()) {
                    String ended = admin == null ? null : auth.recheck(admin);
                    if (ended != null) {
                        write("event: end\ndata: " + Json.MAPPER.createObjectNode().put("reason", ended) + "\n\n");
                        return;
                    }
                    OutboxEvent e = queue.poll(RECHECK_MS, TimeUnit.MILLISECONDS);
                    if (e == null) {
                        if (System.nanoTime() - quietSince >= TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MS)) {
                            write(": keep-alive\n\n");
                            quietSince = System.nanoTime();
                        }
                        continue;
                    }
                    quietSince = System.nanoTime();
                    if (e.seq() > sent + 1) {
                        // A gap (another gateway's events, or a commit racing us): fill it from the store.
                        for (OutboxEvent m : store.outboxAfter(sent, 500)) {
                            send(m);
                        }
                        send(e);
                    } else {
                        send(e);
                    }
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                // client gone or gateway stopping
            } finally {
                stop();
            }
        }

        private void send(OutboxEvent e) throws IOException {
            if (e.seq() <= sent) {
                return;
            }
            sent = e.seq();
            String data = tmc.store.OutboxPayload.withSeq(e);
            write("id: " + e.seq() + "\nevent: delivery\ndata: " + data + "\n\n");
        }

        private void write(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void stop() {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            streams.remove(this);
            try {
                if (unsubscribe != null) {
                    unsubscribe.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
            try {
                async.complete();
            } catch (RuntimeException ignored) {
                // already completed
            }
        }
    }
}
