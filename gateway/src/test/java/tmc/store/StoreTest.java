package tmc.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store on H2 (a file database under the build directory); {@link PostgresStoreTest} runs these same tests on
 * PostgreSQL ({@code -Dtmc.pg=jdbc:postgresql://...}).
 */
class StoreTest {
    Store store;

    /** Opens a fresh, empty store. Overridden for PostgreSQL. */
    Store openStore() throws Exception {
        Path dir = Path.of(System.getProperty("tmc.build.dir", "target"), "store-test", UUID.randomUUID().toString());
        Files.createDirectories(dir);
        return Store.open(Store.h2FileUrl(dir.resolve("tmc").toString()), "sa", "");
    }

    @BeforeEach
    void setUp() throws Exception {
        store = openStore();
    }

    @AfterEach
    void tearDown() {
        if (store != null) {
            store.close();
        }
    }

    static Message message(String id, String severity, String key) {
        return new Message(id, 1000, 61_000, "Title " + id, "Body of " + id + " 中文", severity,
                List.of(new Button("ok", "OK", false), new Button("cancel", "Cancel", true)), false, "center",
                60, "{\"vms\":[\"vm1\",\"vm2\"]}", key, key == null ? null : "hash-" + id);
    }

    static Delivery queued(Message m, String vm, long seq) {
        return new Delivery(m.id(), vm, seq, m.priority(), DeliveryState.QUEUED, m.createdAt(), null, null, null,
                null, null, 0);
    }

    @Test
    void insertAndReadBack() {
        Message m = message("m1", "info", "key-1");
        List<OutboxEvent> events = store.insert(m, List.of(queued(m, "vm1", 1), queued(m, "vm2", 2)));
        assertEquals(2, events.size());
        assertEquals(DeliveryState.QUEUED, events.get(0).state());
        assertTrue(events.get(1).seq() > events.get(0).seq());

        Message back = store.message("m1").orElseThrow();
        assertEquals(m, back);
        assertEquals(m, store.messageByIdempotencyKey("key-1").orElseThrow());
        assertEquals(2, store.deliveries("m1").size());
        assertEquals(List.of("vm1", "vm2"), store.vmsWithOpenDeliveries());
        assertEquals(Migrations.LATEST, store.schemaVersion());
    }

    @Test
    void duplicateIdempotencyKeyStoresNothing() {
        Message m = message("m1", "info", "same");
        store.insert(m, List.of(queued(m, "vm1", 1)));
        Message m2 = message("m2", "info", "same");
        assertThrows(Store.DuplicateKeyException.class, () -> store.insert(m2, List.of(queued(m2, "vm1", 2))));
        assertEquals(1, store.messageCount());
        assertFalse(store.message("m2").isPresent());
    }

    @Test
    void failedInsertIsRolledBack() {
        Message m = message("m1", "info", null);
        // The same VM twice violates the primary key after the message row went in: all of it must vanish.
        assertThrows(StoreException.class, () -> store.insert(m, List.of(queued(m, "vm1", 1), queued(m, "vm1", 2))));
        assertEquals(0, store.messageCount());
        assertEquals(0, store.lastOutboxSeq());
    }

    @Test
    void transitionsAreConditionalAndRecorded() {
        Message m = message("m1", "info", null);
        store.insert(m, List.of(queued(m, "vm1", 1)));
        OutboxEvent shown = store.transition("m1", "vm1", Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, 2000,
                Store.Change.NONE).orElseThrow();
        assertEquals(DeliveryState.SHOWN, shown.state());
        OutboxEvent answered = store.transition("m1", "vm1", DeliveryState.OPEN, DeliveryState.ANSWERED, 3000,
                Store.Change.answer("ok", "{\"host\":\"127.0.0.1\"}")).orElseThrow();
        assertTrue(answered.payload().contains("\"button\":\"ok\""), answered.payload());
        assertTrue(answered.payload().contains("\"host\":\"127.0.0.1\""), answered.payload());
        // A late TTL expiry loses to the answer.
        assertTrue(store.transition("m1", "vm1", DeliveryState.OPEN, DeliveryState.EXPIRED, 4000,
                Store.Change.NONE).isEmpty());
        Delivery d = store.delivery("m1", "vm1").orElseThrow();
        assertEquals(DeliveryState.ANSWERED, d.state());
        assertEquals(2000L, d.shownAt());
        assertEquals(3000L, d.finishedAt());
        assertEquals("ok", d.replyButton());
        assertEquals(1, d.attempts());
        List<OutboxEvent> all = store.outboxAfter(0, 100);
        assertEquals(List.of(DeliveryState.QUEUED, DeliveryState.SHOWN, DeliveryState.ANSWERED),
                all.stream().map(OutboxEvent::state).toList());
        assertEquals(all.get(2).seq(), store.lastOutboxSeq());
        assertEquals(1, store.outboxAfter(all.get(1).seq(), 100).size());
    }

    @Test
    void openDeliveriesPutShownFirstThenCriticalThenOldest() {
        Message a = message("a", "info", null);
        Message b = message("b", "critical", null);
        Message c = message("c", "warning", null);
        Message d = message("d", "info", null);
        store.insert(a, List.of(queued(a, "vm1", 1)));
        store.insert(b, List.of(queued(b, "vm1", 2)));
        store.insert(c, List.of(queued(c, "vm1", 3)));
        store.insert(d, List.of(queued(d, "vm1", 4)));
        assertEquals(List.of("b", "c", "a", "d"), store.openDeliveries("vm1").stream().map(Delivery::messageId).toList());
        store.transition("d", "vm1", Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, 5, Store.Change.NONE);
        assertEquals(List.of("d", "b", "c", "a"), store.openDeliveries("vm1").stream().map(Delivery::messageId).toList());
    }

    @Test
    void expiryAndListing() {
        Message a = message("a", "info", null); // expires at 61 000
        store.insert(a, List.of(queued(a, "vm1", 1), queued(a, "vm2", 2)));
        assertTrue(store.dueForExpiry(60_999).isEmpty());
        assertEquals(2, store.dueForExpiry(61_000).size());
        store.transition("a", "vm2", EnumSet.of(DeliveryState.QUEUED), DeliveryState.FAILED, 7,
                Store.Change.error("boom"));
        assertEquals(1, store.dueForExpiry(61_000).size());
        assertEquals(1, store.messages("vm2", DeliveryState.FAILED, 10).size());
        assertEquals(0, store.messages("vm1", DeliveryState.FAILED, 10).size());
        assertEquals(1, store.messages(null, null, 10).size());
        assertEquals("boom", store.delivery("a", "vm2").orElseThrow().error());
    }

    @Test
    void webhookCursor() {
        assertEquals(-1, store.webhookCursor("http://x/"));
        store.setWebhookCursor("http://x/", 5);
        store.setWebhookCursor("http://x/", 9);
        assertEquals(9, store.webhookCursor("http://x/"));
    }

    @Test
    void migrationsRunOnceAndSurviveReopen() throws Exception {
        Path dir = Files.createTempDirectory("tmc-store");
        String url = Store.h2FileUrl(dir.resolve("db").toString());
        try (Store s = Store.open(url, "sa", "")) {
            Message m = message("m1", "info", null);
            s.insert(m, List.of(queued(m, "vm1", 1)));
        }
        try (Store s = Store.open(url, "sa", "")) {
            assertEquals(Migrations.LATEST, s.schemaVersion());
            assertEquals(1, s.messageCount());
        }
    }

    /** Empties a PostgreSQL test database: every table, Flyway's history included. */
    static void dropAll(String url, String user, String password) throws Exception {
        PgSetup.reset(url);
    }
}
