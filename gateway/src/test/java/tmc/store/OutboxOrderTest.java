package tmc.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Gap-safe outbox reading: sequence numbers become visible in commit order, so a reader going by "after the last
 * seq seen" never passes over an event that another gateway (another connection) commits late.
 */
class OutboxOrderTest {
    static final Duration T = Duration.ofSeconds(30);

    @Test
    void aSeqTakenByAnOpenTransactionHoldsTheNextCommitBackOnPostgres() throws Exception {
        String url = PgSetup.freshDatabase("outbox_order");
        try (Store store = Store.open(url, null, null)) {
            Message m = StoreTest.message("m1", "info", null);
            store.insert(m, List.of(StoreTest.queued(m, "vm1", 1), StoreTest.queued(m, "vm2", 2)));
            long before = store.lastOutboxSeq();

            // T1: another gateway in the middle of a transaction that has taken the next seq (as Store does, last).
            try (Connection t1 = DriverManager.getConnection(url)) {
                t1.setAutoCommit(false);
                long n;
                try (Statement st = t1.createStatement()) {
                    st.executeUpdate("update tmc_outbox_counter set last_seq = last_seq + 1 where id = 1");
                    try (ResultSet rs = st.executeQuery("select last_seq from tmc_outbox_counter where id = 1")) {
                        rs.next();
                        n = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = t1.prepareStatement("insert into tmc_outbox (seq, message_id, vm_id,"
                        + " state, at, payload) values (?, 'm1', 'vm1', 'expired', 5, '{}')")) {
                    ps.setLong(1, n);
                    ps.executeUpdate();
                }
                assertEquals(before + 1, n);

                // T2: this gateway commits an event meanwhile: it cannot get a seq until T1 ends.
                CompletableFuture<OutboxEvent> t2 = CompletableFuture.supplyAsync(() -> store.transition("m1", "vm2",
                        Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, 6, Store.Change.NONE).orElseThrow());
                awaitLockWait(url);
                assertEquals(List.of(), store.outboxAfter(before, 10), "nothing after " + before + " to skip yet");

                t1.commit();
                OutboxEvent e2 = t2.get(T.toSeconds(), TimeUnit.SECONDS);
                assertEquals(n + 1, e2.seq());
                assertEquals(List.of(n, n + 1), seqs(store.outboxAfter(before, 10)));
            }
        }
    }

    @Test
    void concurrentWritersNeverShowAReaderAGapOnPostgres() throws Exception {
        concurrentWritersNeverShowAReaderAGap(PgSetup.freshDatabase("outbox_gaps"), null, null);
    }

    @Test
    void concurrentWritersNeverShowAReaderAGapOnH2() throws Exception {
        Path dir = Path.of(System.getProperty("tmc.build.dir", "target"), "outbox-test", UUID.randomUUID().toString());
        Files.createDirectories(dir);
        concurrentWritersNeverShowAReaderAGap(Store.h2FileUrl(dir.resolve("db").toString()), "sa", "");
    }

    /** 6 writers x 40 messages of 2 deliveries each; a reader follows by seq and must see 1, 2, 3, ... */
    void concurrentWritersNeverShowAReaderAGap(String url, String user, String password) throws Exception {
        int writers = 6;
        int each = 40;
        try (Store store = Store.open(url, user, password)) {
            ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
            AtomicBoolean done = new AtomicBoolean();
            Future<Long> reader = pool.submit(() -> {
                long cursor = 0;
                long read = 0;
                while (true) {
                    boolean last = done.get();
                    for (OutboxEvent e : store.outboxAfter(cursor, 1000)) {
                        assertEquals(cursor + 1, e.seq(), "a gap after " + cursor);
                        cursor = e.seq();
                        read++;
                    }
                    if (last) {
                        return read;
                    }
                }
            });
            List<Future<?>> jobs = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int wi = w;
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        Message m = StoreTest.message("w" + wi + "-" + i, "info", null);
                        store.insert(m, List.of(StoreTest.queued(m, "vm1", i), StoreTest.queued(m, "vm2", i)));
                        store.transition(m.id(), "vm1", Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, 2,
                                Store.Change.NONE);
                    }
                    return null;
                }));
            }
            for (Future<?> j : jobs) {
                j.get(120, TimeUnit.SECONDS);
            }
            done.set(true);
            long read = reader.get(60, TimeUnit.SECONDS);
            pool.shutdown();
            assertEquals((long) writers * each * 3, read);
            assertEquals(read, store.lastOutboxSeq());
        }
    }

    static List<Long> seqs(List<OutboxEvent> events) {
        return events.stream().map(OutboxEvent::seq).toList();
    }

    /** Waits until some backend of this database waits for a lock (the second writer, on the counter row). */
    static void awaitLockWait(String url) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("select count(*) from pg_stat_activity where datname ="
                        + " current_database() and wait_event_type = 'Lock'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.onSpinWait();
            }
        }
        assertTrue(false, "no writer ever waited for the outbox counter");
    }
}
