package tmc.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.auth.TestClock;
import tmc.store.Button;
import tmc.store.Database;
import tmc.store.Delivery;
import tmc.store.DeliveryState;
import tmc.store.Fence;
import tmc.store.Leases;
import tmc.store.Message;
import tmc.store.OutboxEvent;
import tmc.store.PgSetup;
import tmc.store.Store;

/**
 * Leases on real PostgreSQL, with a clock per gateway moved by hand: one owner at a time, take-over only after
 * expiry, a fair share per live gateway, a dead gateway's leases taken at once, and the fencing token refusing a
 * stale owner's change in the same transaction.
 */
class LeaseKeeperTest {
    static final Duration TTL = Duration.ofSeconds(4);
    static final Instant T0 = Instant.parse("2026-11-29T01:00:00Z");
    static Database db;

    /** What a keeper told its holders, in order. */
    static final class Recorder implements LeaseKeeper.Holder {
        final List<String> log = new ArrayList<>();

        @Override
        public synchronized void acquired(Fence f) {
            log.add("+" + f.lease() + "@" + f.epoch());
        }

        @Override
        public synchronized void lost(Fence f) {
            log.add("-" + f.lease() + "@" + f.epoch());
        }
    }

    @BeforeAll
    static void open() throws Exception {
        db = Database.open(PgSetup.freshDatabase("leases"), null, null, 4);
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @BeforeEach
    void empty() throws Exception {
        // Each test starts with no leases (the fresh database is shared by the tests of this class).
        try (java.sql.Connection c = db.dedicatedConnection(); java.sql.Statement st = c.createStatement()) {
            st.execute("delete from tmc_lease");
        }
    }

    LeaseKeeper keeper(String node, TestClock clock) {
        return new LeaseKeeper(Leases.on(db), clock, node, TTL);
    }

    /** One gateway of a test: its own clock, its keeper, and what its holder of {@code lease} heard. */
    record Gw(TestClock clock, LeaseKeeper keeper, Recorder seen) {
    }

    Gw gateway(String node, TestClock clock, String lease) {
        Gw g = new Gw(clock, keeper(node, clock), new Recorder());
        g.keeper().want(lease, g.seen());
        return g;
    }

    @Test
    void oneOwnerAtATimeAndTakeOverOnlyAfterExpiry() {
        Gw ga = gateway("a", new TestClock(T0), "vm:1");
        Gw gb = gateway("b", new TestClock(T0), "vm:1");
        LeaseKeeper a = ga.keeper();
        LeaseKeeper b = gb.keeper();
        TestClock ca = ga.clock();
        TestClock cb = gb.clock();
        Recorder ra = ga.seen();
        Recorder rb = gb.seen();

        a.tick();
        b.tick();
        assertEquals(List.of("+vm:1@1"), ra.log);
        assertEquals(List.of(), rb.log, "b must not take a running lease");

        ca.advance(Duration.ofSeconds(2));
        a.tick(); // renews until t=6
        cb.advance(Duration.ofSeconds(5));
        b.tick(); // t=5: still a's
        assertEquals(List.of(), rb.log);

        cb.advance(Duration.ofMillis(1001)); // t=6.001: a did not renew (paused)
        b.tick();
        assertEquals(List.of("+vm:1@2"), rb.log);
        assertEquals(Set.of("vm:1"), b.held());
    }

    @Test
    void staleOwnersChangeIsRefusedInTheSameTransaction() {
        Store store = Store.on(db);
        TestClock ca = new TestClock(T0);
        TestClock cb = new TestClock(T0);
        LeaseKeeper a = keeper("a", ca);
        LeaseKeeper b = keeper("b", cb);
        a.want("vm:stale", new Recorder());
        b.want("vm:stale", new Recorder());
        a.tick();
        Fence stale = a.fence("vm:stale").orElseThrow();
        Message m = message("m-stale");
        store.insert(m, List.of(queued(m, "stale")));

        cb.advance(TTL.plusMillis(1)); // a is paused (its clock stands still: it still believes it holds the VM)
        b.tick();
        Fence fresh = b.fence("vm:stale").orElseThrow();
        assertEquals(stale.epoch() + 1, fresh.epoch());
        assertTrue(a.fence("vm:stale").isPresent(), "a does not know yet");

        long before = store.lastOutboxSeq();
        assertThrows(Fence.LostException.class, () -> store.transition("m-stale", "stale",
                Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, 1, Store.Change.NONE, stale));
        assertThrows(Fence.LostException.class, () -> store.checkFence(stale));
        assertEquals(DeliveryState.QUEUED, store.delivery("m-stale", "stale").orElseThrow().state());
        assertEquals(before, store.lastOutboxSeq(), "a refused change writes no event");

        Optional<OutboxEvent> shown = store.transition("m-stale", "stale", Set.of(DeliveryState.QUEUED),
                DeliveryState.SHOWN, 2, Store.Change.NONE, fresh);
        assertTrue(shown.isPresent());
        assertEquals(DeliveryState.SHOWN, store.delivery("m-stale", "stale").orElseThrow().state());

        // The keeper hears of it (the channel stops at once) and its next round agrees.
        Recorder ra = new Recorder();
        a.want("vm:stale", ra);
        a.fenced(stale);
        assertEquals(List.of("-vm:stale@" + stale.epoch()), ra.log);
        assertTrue(a.fence("vm:stale").isEmpty());
    }

    @Test
    void aPausedOwnerStopsActingOnItsOwnClockBeforeOthersMayTakeOver() {
        TestClock ca = new TestClock(T0);
        LeaseKeeper a = keeper("a", ca);
        Recorder ra = new Recorder();
        a.want("vm:p", ra);
        a.tick();
        ca.advance(Duration.ofMillis(2999));
        assertTrue(a.fence("vm:p").isPresent());
        ca.advance(Duration.ofMillis(2)); // 3.001 s without a renewal: 3/4 of the lease
        assertTrue(a.fence("vm:p").isEmpty(), "no fence once the local validity ran out");
        a.tick(); // the round after the pause gives it up (it may renew again later as a new acquisition)
        assertEquals("-vm:p@1", ra.log.get(1));
    }

    @Test
    void fairShareThenADeadGatewaysLeasesAreTakenAtOnce() {
        TestClock ca = new TestClock(T0);
        TestClock cb = new TestClock(T0);
        LeaseKeeper a = keeper("a", ca);
        LeaseKeeper b = keeper("b", cb);
        a.tick(); // both alive (node leases) before they want anything
        b.tick();
        for (int i = 0; i < 6; i++) {
            a.want("vm:" + i, new Recorder());
            b.want("vm:" + i, new Recorder());
        }
        a.tick();
        b.tick();
        assertEquals(3, a.held().size(), "a takes its share: 6 VMs / 2 gateways");
        assertEquals(3, b.held().size());

        // a dies: its VM leases and its node lease expire together; b, going on with its rounds, takes all of
        // them in the first round after they expired.
        for (int s = 1; s <= 3; s++) {
            cb.advance(Duration.ofSeconds(1));
            b.tick();
            assertEquals(3, b.held().size(), "a's leases run until t=4 (t=" + s + ")");
        }
        cb.advance(Duration.ofSeconds(1));
        b.tick();
        assertEquals(6, b.held().size());
    }

    @Test
    void aRestartedGatewayTakesItsOwnLeasesBackAtOnceWithANewEpoch() {
        TestClock c = new TestClock(T0);
        LeaseKeeper first = keeper("a", c);
        first.want("vm:r", new Recorder());
        first.tick();
        LeaseKeeper second = keeper("a", c); // the same node, restarted: its previous life's lease still runs
        Recorder r = new Recorder();
        second.want("vm:r", r);
        second.tick();
        assertEquals(List.of("+vm:r@2"), r.log);
    }

    @Test
    void closingReleasesSoAnotherTakesOverWithoutWaiting() {
        TestClock c = new TestClock(T0);
        Gw a = gateway("a", c, "vm:c");
        Gw b = gateway("b", c, "vm:c");
        a.keeper().tick();
        a.keeper().close();
        assertEquals(List.of("+vm:c@1", "-vm:c@1"), a.seen().log);
        b.keeper().tick();
        assertEquals(List.of("+vm:c@2"), b.seen().log);
    }

    static Message message(String id) {
        return new Message(id, 1000, 61_000, "Title", "Body", "info", List.of(new Button("ok", "OK", false)), false,
                "center", 60, "{\"vms\":[]}", null, null);
    }

    static Delivery queued(Message m, String vm) {
        return new Delivery(m.id(), vm, 1, 0, DeliveryState.QUEUED, m.createdAt(), null, null, null, null, null, 0);
    }
}
