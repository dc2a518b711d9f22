package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An admin client of {@code /api/v1/events} (on a gateway, or through the load balancer), recording each event's id
 * and data; tests wait on it for an event rather than polling the API.
 */
final class SseClient implements AutoCloseable {
    /** An event as received: its id (the outbox seq) and its data line (JSON). */
    record Event(long id, String data) {}

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    // Guarded by this; notifyAll on every event and at the end of the stream.
    private final List<Event> events = new ArrayList<>();
    private boolean ended;
    private final InputStream body;
    private final Thread reader;

    private SseClient(HttpRequest req) throws Exception {
        HttpResponse<InputStream> r = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        body = r.body();
        reader = Thread.ofVirtual().start(this::read);
    }

    /** Opens the stream at {@code base}, from after {@code lastEventId} ("0": from the beginning). */
    static SseClient open(URI base, String lastEventId) throws Exception {
        return new SseClient(HttpRequest.newBuilder(base.resolve("/api/v1/events"))
                .header("Authorization", "Bearer " + ApiFixture.admin()).header("Accept", "text/event-stream")
                .header("Last-Event-ID", lastEventId).GET().build());
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            long id = -1;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("id: ")) {
                    id = Long.parseLong(line.substring(4).trim());
                } else if (line.startsWith("data: ") && id >= 0) {
                    synchronized (this) {
                        events.add(new Event(id, line.substring(6)));
                        notifyAll();
                    }
                    id = -1;
                }
            }
        } catch (Exception e) {
            // closed
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    /** Waits for an event whose data matches; returns it, or fails after {@code timeout}. */
    synchronized Event await(String what, Predicate<String> data, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int seen = 0; ; ) {
            for (; seen < events.size(); seen++) {
                if (data.test(events.get(seen).data())) {
                    return events.get(seen);
                }
            }
            long left = deadline - System.nanoTime();
            if (ended || left <= 0) {
                throw new AssertionError((ended ? "the event stream ended" : "timed out") + " waiting for " + what
                        + "; events: " + events);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Waits until the stream has carried the event with id {@code seq} or a later one. */
    void awaitId(long seq, Duration timeout) throws InterruptedException {
        synchronized (this) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (events.isEmpty() || events.get(events.size() - 1).id() < seq) {
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    throw new AssertionError("event " + seq + " not received; events: " + events);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }

    synchronized List<Long> ids() {
        return events.stream().map(Event::id).toList();
    }

    synchronized String lastId() {
        return events.isEmpty() ? null : Long.toString(events.get(events.size() - 1).id());
    }

    @Override
    public void close() throws java.io.IOException {
        body.close();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
