package tmc.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tmc.store.Button;
import tmc.store.Delivery;
import tmc.store.DeliveryState;
import tmc.store.Message;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/**
 * Webhooks from the outbox: signed the Standard Webhooks way, in order, retried with the same id, and resumed by the
 * next dispatcher from the stored cursor.
 */
class WebhookDispatcherTest {
    static final byte[] SECRET = "0123456789abcdef-secret-0123456".getBytes(StandardCharsets.UTF_8);

    @Test
    void signedInOrderRetriedAndResumed() throws Exception {
        Path dir = Path.of(System.getProperty("tmc.build.dir", "target"), "webhook-test", UUID.randomUUID().toString());
        Files.createDirectories(dir);
        List<Long> seqs = new CopyOnWriteArrayList<>();
        AtomicInteger failures = new AtomicInteger(2);
        AtomicInteger badSignatures = new AtomicInteger();
        List<String> ids = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            String id = ex.getRequestHeaders().getFirst("webhook-id");
            String timestamp = ex.getRequestHeaders().getFirst("webhook-timestamp");
            if (!WebhookDispatcher.signature(SECRET, id, Long.parseLong(timestamp), body)
                    .equals(ex.getRequestHeaders().getFirst("webhook-signature"))) {
                badSignatures.incrementAndGet();
            }
            ids.add(id);
            int status = 204;
            if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                status = 500;
            } else {
                String s = new String(body, StandardCharsets.UTF_8);
                seqs.add(Long.parseLong(s.substring(s.indexOf(':') + 1, s.indexOf(','))));
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        server.start();
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        try (Store store = Store.open(Store.h2FileUrl(dir.resolve("db").toString()), "sa", "")) {
            EventBus bus = new EventBus();
            WebhookDispatcher.Target target = new WebhookDispatcher.Target(url, SECRET, "webhooks[0]");
            WebhookDispatcher d1 = new WebhookDispatcher(store, bus, List.of(target), Clock.systemUTC(),
                    Duration.ofMillis(50), Duration.ofMillis(200)).start();
            await(() -> store.webhookCursor(url.toString()) >= 0); // the first run records the URL's starting point
            List<OutboxEvent> first = insert(store, bus, "m1");
            await(() -> seqs.size() == 2);
            d1.close();
            // Events recorded while no dispatcher runs are sent by the next one, once, in order.
            List<OutboxEvent> second = insert(store, bus, "m2");
            WebhookDispatcher d2 = new WebhookDispatcher(store, bus, List.of(target), Clock.systemUTC(),
                    Duration.ofMillis(50), Duration.ofMillis(200)).start();
            await(() -> seqs.size() == 4);
            d2.close();
            assertEquals(List.of(first.get(0).seq(), first.get(1).seq(), second.get(0).seq(), second.get(1).seq()),
                    seqs);
            assertEquals(0, badSignatures.get());
            // The two failed attempts and the retry that passed carry the same id: a receiver drops duplicates.
            assertEquals(List.of("tmc_evt_" + first.get(0).seq(), "tmc_evt_" + first.get(0).seq(),
                    "tmc_evt_" + first.get(0).seq(), "tmc_evt_" + first.get(1).seq()), ids.subList(0, 4));
            assertEquals(second.get(1).seq(), store.webhookCursor(url.toString()));
        } finally {
            server.stop(0);
        }
    }

    static List<OutboxEvent> insert(Store store, EventBus bus, String id) {
        Message m = new Message(id, 1, Long.MAX_VALUE / 2, "t", "b", "info", List.of(new Button("ok", "OK", false)),
                false, "center", 60, "{}", null, null);
        List<OutboxEvent> events = store.insert(m, List.of(
                new Delivery(id, "vm1", 1, 0, DeliveryState.QUEUED, 1, null, null, null, null, null, 0),
                new Delivery(id, "vm2", 2, 0, DeliveryState.QUEUED, 1, null, null, null, null, null, 0)));
        events.forEach(bus::publish);
        return events;
    }

    static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!c.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(20);
        }
    }
}
