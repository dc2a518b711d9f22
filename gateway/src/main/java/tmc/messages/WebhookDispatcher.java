package tmc.messages;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tmc.fleet.LeaseKeeper;
import tmc.store.Fence;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/**
 * Delivers every outbox event to each configured webhook URL as a JSON POST signed the Standard Webhooks way
 * (standardwebhooks.com): {@code webhook-id} (the same on every retry of an event), {@code webhook-timestamp}
 * (seconds since the epoch, at each attempt) and {@code webhook-signature: v1,<base64 HMAC-SHA256 over
 * id.timestamp.body>}, with the secret given as {@code whsec_<base64>}. A receiver checks the signature and refuses
 * a timestamp too far from its clock, which stops replays; the id lets it drop duplicates. In outbox order, at least
 * once: a URL that fails (non-2xx, timeout, refused) gets the same event again after a backoff (1 s doubling to
 * 60 s); later events wait, so the order holds. How far each URL got is stored, so a restarted gateway goes on where
 * the last one stopped.
 *
 * <p>URLs may hold credentials (a token in the path or query), so they appear in no log line and no thread name:
 * each webhook is named by its label ({@code webhooks[0]} or the configured {@code name}).
 *
 * <p>A URL seen for the first time starts with the events from then on (no flood of history).
 *
 * <p>In a fleet each webhook is delivered by one gateway at a time: the holder of the lease
 * {@code webhook:<name>}. It reads the stored cursor when it takes the lease over and saves each step under the
 * lease's fencing token, so a gateway that lost the lease (paused, then resumed) cannot move the cursor; at worst
 * it repeats an event the receiver drops by its {@code webhook-id}. The {@code name} (or list position) must
 * therefore be the same on every gateway of the fleet.
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WebhookDispatcher.class.getName());
    public static final String ID_HEADER = "webhook-id";
    public static final String TIMESTAMP_HEADER = "webhook-timestamp";
    public static final String SIGNATURE_HEADER = "webhook-signature";
    public static final String SECRET_PREFIX = "whsec_";

    /** One webhook: where to POST, the HMAC key (the bytes of its whsec_ form), and its name for logs. */
    public record Target(URI url, byte[] secret, String label) {
        public Target {
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw new IllegalArgumentException("webhook URL must be http or https");
            }
            if (secret == null || secret.length == 0) {
                throw new IllegalArgumentException("webhook " + label + " needs a secret");
            }
            secret = secret.clone();
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }

        @Override
        public String toString() {
            return "Target{" + label + "}";
        }
    }

    /**
     * The key of a {@code whsec_<base64>} secret, or {@link IllegalArgumentException} saying what is wrong. Standard
     * Webhooks keys are 24 to 64 random bytes.
     */
    public static byte[] secretKey(String whsec) {
        if (whsec == null || !whsec.startsWith(SECRET_PREFIX)) {
            throw new IllegalArgumentException("expected whsec_ followed by the base64 of 24 to 64 random bytes"
                    + " (Standard Webhooks), e.g. whsec_$(openssl rand -base64 32)");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(whsec.substring(SECRET_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not valid base64 after whsec_");
        }
        if (key.length < 24 || key.length > 64) {
            throw new IllegalArgumentException("the key after whsec_ must be 24 to 64 bytes, got " + key.length);
        }
        return key;
    }

    private final Store store;
    private final Clock clock;
    private final List<Target> targets;
    private final HttpClient http;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final List<Worker> workers = new ArrayList<>();
    private final LeaseKeeper keeper;
    private AutoCloseable subscription;

    public WebhookDispatcher(Store store, EventBus bus, List<Target> targets, Clock clock) {
        this(store, bus, targets, clock, Duration.ofSeconds(1), Duration.ofSeconds(60));
    }

    public WebhookDispatcher(Store store, EventBus bus, List<Target> targets, Clock clock, Duration minBackoff,
                             Duration maxBackoff) {
        this(store, bus, targets, clock, minBackoff, maxBackoff, null);
    }

    /** @param keeper the fleet's leases (one gateway delivers each webhook), or null: this gateway delivers all */
    public WebhookDispatcher(Store store, EventBus bus, List<Target> targets, Clock clock, Duration minBackoff,
                             Duration maxBackoff, LeaseKeeper keeper) {
        this.keeper = keeper;
        this.store = store;
        this.clock = clock;
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
        // A URL seen for the first time starts from now: decided here, before the API serves, so that no event
        // committed between this call and the worker's first run is skipped.
        for (Worker w : workers) {
            try {
                store.initWebhookCursor(w.target.url().toString(), store.lastOutboxSeq());
            } catch (RuntimeException e) {
                LOG.warning("webhook " + w.target.label() + ": cannot set its cursor yet: " + e.getMessage());
            }
        }
        for (Worker w : workers) {
            if (keeper != null) {
                keeper.want(w.lease(), new LeaseKeeper.Holder() {
                    @Override
                    public void acquired(Fence fence) {
                        w.wake.release();
                    }

                    @Override
                    public void lost(Fence fence) {
                        w.wake.release();
                    }
                });
            }
            w.thread = Thread.ofVirtual().name("webhook " + w.target.label()).start(w::run);
        }
        return this;
    }

    /** The {@code webhook-signature} value: {@code v1,} and the base64 HMAC-SHA256 of {@code id.timestamp.body}. */
    public static String signature(byte[] key, String id, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The {@code webhook-id} of an event: the same for every attempt, unique across the fleet (the outbox seq). */
    public static String eventId(OutboxEvent e) {
        return "tmc_evt_" + e.seq();
    }

    /** The JSON body sent for an event (also what the SSE stream sends as data). */
    public static String body(OutboxEvent e) {
        return tmc.store.OutboxPayload.withSeq(e);
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

        String lease() {
            return "webhook:" + target.label();
        }

        /** Delivers while this gateway may: always on its own, while it holds the webhook's lease in a fleet. */
        void run() {
            while (!stopped) {
                Fence fence = null;
                if (keeper != null) {
                    fence = keeper.fence(lease()).orElse(null);
                    if (fence == null) {
                        try {
                            wake.tryAcquire(250, TimeUnit.MILLISECONDS);
                        } catch (InterruptedException e) {
                            return;
                        }
                        continue;
                    }
                }
                try {
                    if (deliver(fence)) {
                        return;
                    }
                } catch (Fence.LostException e) {
                    LOG.info("webhook " + target.label() + ": " + e.getMessage() + "; another gateway delivers it");
                    keeper.fenced(fence);
                }
            }
        }

        /** Returns true when the dispatcher stops, false when the lease ({@code fence}) is no longer ours. */
        private boolean deliver(Fence fence) {
            String url = target.url().toString();
            long cursor = -1;
            long backoff = minBackoff.toMillis();
            while (cursor < 0) {
                try {
                    cursor = store.webhookCursor(url);
                    if (cursor < 0) {
                        cursor = store.lastOutboxSeq();
                        store.setWebhookCursor(url, cursor, fence);
                    }
                } catch (Fence.LostException e) {
                    throw e;
                } catch (RuntimeException e) {
                    LOG.warning("webhook " + target.label() + ": cannot read its cursor: " + e.getMessage());
                    cursor = -1;
                    try {
                        pause(backoff);
                    } catch (InterruptedException ie) {
                        return true;
                    }
                    backoff = Math.min(backoff * 2, maxBackoff.toMillis());
                }
                if (stopped) {
                    return true;
                }
            }
            backoff = minBackoff.toMillis();
            while (!stopped) {
                if (fence != null && !fence.equals(keeper.fence(lease()).orElse(null))) {
                    return false; // lost, or too long since the last renewal to be sure
                }
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
                            return true; // stopped before it went out: the next dispatcher sends it
                        }
                        backoff = minBackoff.toMillis();
                        cursor = e.seq();
                        store.setWebhookCursor(url, cursor, fence);
                    }
                } catch (InterruptedException e) {
                    return true;
                } catch (Fence.LostException e) {
                    throw e;
                } catch (RuntimeException e) {
                    LOG.warning("webhook " + target.label() + ": " + e.getMessage());
                    try {
                        pause(backoff);
                    } catch (InterruptedException ie) {
                        return true;
                    }
                }
            }
            return true;
        }

        /** Sleeps up to {@code millis}; close() cuts it short. */
        private void pause(long millis) throws InterruptedException {
            if (!stopped) {
                wake.tryAcquire(millis, TimeUnit.MILLISECONDS);
            }
        }

        private boolean post(OutboxEvent e) throws InterruptedException {
            byte[] body = body(e).getBytes(StandardCharsets.UTF_8);
            String id = eventId(e);
            long timestamp = clock.instant().getEpochSecond();
            HttpRequest req = HttpRequest.newBuilder(target.url())
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .header(ID_HEADER, id)
                    .header(TIMESTAMP_HEADER, Long.toString(timestamp))
                    .header(SIGNATURE_HEADER, signature(target.secret(), id, timestamp, body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            try {
                HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() / 100 == 2) {
                    return true;
                }
                LOG.info("webhook " + target.label() + ": event " + e.seq() + " got HTTP " + r.statusCode());
            } catch (IOException ex) {
                // The exception's text may quote the URL: log its kind only.
                LOG.info("webhook " + target.label() + ": event " + e.seq() + ": " + ex.getClass().getSimpleName());
            }
            return false;
        }
    }
}
