package tmc.messages;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/**
 * Delivers every outbox event to each configured webhook URL as a JSON POST, signed with HMAC-SHA256 over the
 * exact body ({@code X-Tmc-Signature: sha256=<hex>}), in outbox order, at least once. A URL that fails (non-2xx,
 * timeout, refused) gets the same event again after a backoff (1 s doubling to 60 s): later events wait, so the
 * order holds. How far each URL got is stored, so a restarted gateway goes on where the last one stopped.
 *
 * <p>A URL seen for the first time starts with the events from then on (no flood of history).
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WebhookDispatcher.class.getName());
    public static final String SIGNATURE_HEADER = "X-Tmc-Signature";

    /** One webhook: where to POST and the HMAC key. */
    public record Target(URI url, byte[] secret) {
        public Target {
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw new IllegalArgumentException("webhook URL must be http or https: " + url);
            }
            if (secret == null || secret.length == 0) {
                throw new IllegalArgumentException("webhook " + url + " needs a secret");
            }
            secret = secret.clone();
        }
    }

    private final Store store;
    private final List<Target> targets;
    private final HttpClient http;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final List<Worker> workers = new ArrayList<>();
    private AutoCloseable subscription;

    public WebhookDispatcher(Store store, EventBus bus, List<Target> targets) {
        this(store, bus, targets, Duration.ofSeconds(1), Duration.ofSeconds(60));
    }

    public WebhookDispatcher(Store store, EventBus bus, List<Target> targets, Duration minBackoff,
                             Duration maxBackoff) {
        this.store = store;
        this.targets = List.copyOf(targets);
        this.minBackoff = minBackoff;
        this.maxBackoff = maxBackoff;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        for (Target t : this.targets) {
            workers.add(new Worker(t));
        }
        this.subscription = bus.subscribe(e -> workers.forEach(w -> w.wake.release()));
    }

    public WebhookDispatcher start() {
        for (Worker w : workers) {
            w.thread = Thread.ofVirtual().name("webhook " + w.target.url()).start(w::run);
        }
        return this;
    }

    /** The header value for {@code body} signed with {@code secret}. */
    public static String signature(byte[] secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JSON body sent for an event (also what the SSE stream sends as data). */
    public static String body(OutboxEvent e) {
        return "{\"seq\":" + e.seq() + "," + e.payload().substring(1);
    }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception ignored) {
            // nothing to undo
        }
        // Let a POST in flight finish and its cursor be saved (else the next gateway sends it again), then
        // interrupt whatever is still blocked.
        for (Worker w : workers) {
            w.stopped = true;
            w.wake.release();
        }
        for (Worker w : workers) {
            if (w.thread != null) {
                try {
                    if (!w.thread.join(Duration.ofSeconds(2))) {
                        w.thread.interrupt();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    w.thread.interrupt();
                }
            }
        }
    }

    private final class Worker {
        final Target target;
        final Semaphore wake = new Semaphore(0);
        volatile boolean stopped;
        Thread thread;

        Worker(Target target) {
            this.target = target;
        }

        void run() {
            String url = target.url().toString();
            long cursor = -1;
            long backoff = minBackoff.toMillis();
            while (cursor < 0) {
                try {
                    cursor = store.webhookCursor(url);
                    if (cursor < 0) {
                        cursor = store.lastOutboxSeq();
                        store.setWebhookCursor(url, cursor);
                    }
                } catch (RuntimeException e) {
                    LOG.warning("webhook " + url + ": cannot read its cursor: " + e.getMessage());
                    cursor = -1;
                    try {
                        pause(backoff);
                    } catch (InterruptedException ie) {
                        return;
                    }
                    backoff = Math.min(backoff * 2, maxBackoff.toMillis());
                }
                if (stopped) {
                    return;
                }
            }
            backoff = minBackoff.toMillis();
            while (!stopped) {
                try {
                    List<OutboxEvent> batch = store.outboxAfter(cursor, 100);
                    if (batch.isEmpty()) {
                        wake.tryAcquire(1, TimeUnit.SECONDS);
                        wake.drainPermits();
                        continue;
                    }
                    for (OutboxEvent e : batch) {
                        boolean sent = false;
                        while (!stopped && !(sent = post(e))) {
                            pause(backoff);
                            backoff = Math.min(backoff * 2, maxBackoff.toMillis());
                        }
                        if (!sent) {
                            return; // stopped before it went out: the next dispatcher sends it
                        }
                        backoff = minBackoff.toMillis();
                        cursor = e.seq();
                        store.setWebhookCursor(url, cursor);
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.warning("webhook " + url + ": " + e.getMessage());
                    try {
                        pause(backoff);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }

        /** Sleeps up to {@code millis}; close() cuts it short. */
        private void pause(long millis) throws InterruptedException {
            if (!stopped) {
                wake.tryAcquire(millis, TimeUnit.MILLISECONDS);
            }
        }

        private boolean post(OutboxEvent e) throws InterruptedException {
            byte[] body = body(e).getBytes(StandardCharsets.UTF_8);
            HttpRequest req = HttpRequest.newBuilder(target.url())
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .header(SIGNATURE_HEADER, signature(target.secret(), body))
                    .header("X-Tmc-Event-Id", Long.toString(e.seq()))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            try {
                HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() / 100 == 2) {
                    return true;
                }
                LOG.info("webhook " + target.url() + ": event " + e.seq() + " got HTTP " + r.statusCode());
            } catch (IOException ex) {
                LOG.info("webhook " + target.url() + ": event " + e.seq() + ": " + ex);
            }
            return false;
        }
    }
}
