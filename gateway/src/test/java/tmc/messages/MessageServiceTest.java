package tmc.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.store.Button;
import tmc.store.Delivery;
import tmc.store.DeliveryState;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/** The delivery lifecycle against {@link FakeOverlayQemu}; the same paths run against real QEMU in tmc.api. */
class MessageServiceTest {
    Store store;
    FakeOverlayQemu qemu;
    FakeOverlayQemu qemu2;
    MessageService service;
    final List<OutboxEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        store = openStore();
        qemu = new FakeOverlayQemu();
        qemu2 = new FakeOverlayQemu();
        service = newService();
    }

    /** A fresh, empty store; PostgresMessageServiceTest runs the same lifecycle on PostgreSQL. */
    Store openStore() throws Exception {
        Path dir = Path.of(System.getProperty("tmc.build.dir", "target"), "msg-test", UUID.randomUUID().toString());
        Files.createDirectories(dir);
        return Store.open(Store.h2FileUrl(dir.resolve("db").toString()), "sa", "");
    }

    MessageService newService() {
        EventBus bus = new EventBus();
        bus.subscribe(events::add);
        return new MessageService(store, Clock.systemUTC(), bus, List.of(
                new VmTarget("vm1", "acme", qemu.address()),
                new VmTarget("vm2", "acme", qemu2.address()),
                new VmTarget("novm", "other", null))).start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (service != null) {
            service.close();
        }
        if (qemu != null) {
            qemu.close();
            qemu2.close();
        }
        if (store != null) {
            store.close();
        }
    }

    static NewMessage msg(String title, String severity, long ttl, String... vms) {
        return new NewMessage(List.of(vms), null, title, "Body of " + title, severity,
                List.of(new Button("ok", "OK", false), new Button("later", "Later", true)), false, "center", ttl);
    }

    @Test
    void showsThenRecordsTheAnswer() throws Exception {
        MessageService.Submitted s = service.submit(msg("Hello", "info", 60, "vm1"), null);
        String ov = "tmc-" + s.message().id();
        await("overlay shown", () -> qemu.overlays.containsKey(ov));
        var args = qemu.only();
        assertEquals("argb32-zlib", args.path("format").asText());
        assertEquals("center", args.path("anchor").asText());
        assertEquals(2, args.path("hotspots").size());
        assertEquals("ok", args.path("hotspots").get(0).path("id").asText());
        assertEquals("ret", args.path("keys").get(0).path("key").asText());
        assertEquals("later", args.path("keys").get(1).path("hotspot").asText());
        assertTrue(args.path("timeout").asLong() > 55_000 && args.path("timeout").asLong() <= 60_000);
        await("shown recorded", () -> state(s, "vm1") == DeliveryState.SHOWN);

        qemu.click(ov, "ok");
        await("answered", () -> state(s, "vm1") == DeliveryState.ANSWERED);
        Delivery d = store.delivery(s.message().id(), "vm1").orElseThrow();
        assertEquals("ok", d.replyButton());
        assertTrue(d.replyClient().contains("127.0.0.1"), d.replyClient());
        assertNotNull(d.finishedAt());
        // The bus hears of a change just after it commits.
        await("answered event", () -> statesOf(s.message().id(), "vm1").size() == 3);
        assertEquals(List.of("queued", "shown", "answered"), statesOf(s.message().id(), "vm1"));
    }

    @Test
    void resizeEventLaysTheShownMessageOutAgainAtOnce() throws Exception {
        var a = service.submit(msg("Resize", "info", 60, "vm1"), null);
        String ov = "tmc-" + a.message().id();
        await("shown", () -> state(a, "vm1") == DeliveryState.SHOWN);
        int wide = qemu.only().path("width").asInt();
        long adds = qemu.log.stream().filter(("add " + ov)::equals).count();
        qemu.resize(400, 300);
        await("laid out again for 400x300", () -> qemu.overlays.containsKey(ov)
                && qemu.only().path("width").asInt() <= 400 - 16);
        assertTrue(qemu.only().path("width").asInt() < wide);
        assertEquals(adds + 1, qemu.log.stream().filter(("add " + ov)::equals).count(), qemu.log.toString());
        qemu.resize(400, 300); // the same size again: nothing to do
        qemu.resize(800, 600);
        await("laid out again for 800x600", () -> qemu.only().path("width").asInt() == wide);
        assertEquals(adds + 2, qemu.log.stream().filter(("add " + ov)::equals).count(), qemu.log.toString());
    }

    @Test
    void anAnswerCrossingALayoutLeavesNoOverlayBehind() throws Exception {
        var a = service.submit(msg("Crossing", "info", 60, "vm1"), null);
        String ov = "tmc-" + a.message().id();
        await("shown", () -> state(a, "vm1") == DeliveryState.SHOWN);
        // The guest changes resolution and the user answers at once: QEMU dismisses the overlay before the gateway
        // has laid it out again for the new size, so the replacement arrives after the answer (RecoveryTest's
        // "click that did not dismiss": the re-laid-out message stayed up for good, with nobody to answer it).
        qemu.resize(400, 300);
        qemu.click(ov, "ok");
        await("answered", () -> state(a, "vm1") == DeliveryState.ANSWERED);
        assertEquals(List.of(), List.copyOf(qemu.overlays.keySet()), qemu.log.toString());
    }

    @Test
    void oneOnScreenAtATimeCriticalFirst() throws Exception {
        var a = service.submit(msg("A", "info", 60, "vm1"), null);
        await("A shown", () -> qemu.overlays.containsKey("tmc-" + a.message().id()));
        var b = service.submit(msg("B", "warning", 60, "vm1"), null);
        var c = service.submit(msg("C", "critical", 60, "vm1"), null);
        Thread.sleep(300);
        assertEquals(1, qemu.overlays.size(), "one message on screen at a time");
        qemu.click("tmc-" + a.message().id(), "ok");
        await("C next (critical first)", () -> qemu.overlays.containsKey("tmc-" + c.message().id()));
        assertEquals(DeliveryState.QUEUED, state(b, "vm1"));
        qemu.key("tmc-" + c.message().id(), "esc");
        await("B last", () -> qemu.overlays.containsKey("tmc-" + b.message().id()));
        assertEquals("later", store.delivery(c.message().id(), "vm1").orElseThrow().replyButton(),
                "Escape answers with the cancel button");
        assertEquals(1, qemu.overlays.size());
    }

    @Test
    void ttlExpiryTakesTheOverlayDown() throws Exception {
        var a = service.submit(msg("Short", "info", 1, "vm1"), null);
        var q = service.submit(msg("Queued", "info", 1, "vm1"), null);
        await("shown", () -> state(a, "vm1") == DeliveryState.SHOWN);
        await("expired", () -> state(a, "vm1") == DeliveryState.EXPIRED && state(q, "vm1") == DeliveryState.EXPIRED);
        await("overlay removed", () -> qemu.overlays.isEmpty());
        assertTrue(qemu.log.contains("remove tmc-" + a.message().id()), qemu.log.toString());
    }

    @Test
    void retractionTakesTheOverlayDown() throws Exception {
        var a = service.submit(msg("Oops", "info", 60, "vm1", "vm2"), null);
        await("shown on both", () -> qemu.overlays.size() == 1 && qemu2.overlays.size() == 1);
        qemu2.click("tmc-" + a.message().id(), "ok");
        await("vm2 answered", () -> state(a, "vm2") == DeliveryState.ANSWERED);
        List<Delivery> after = service.retract(a.message().id());
        assertEquals(DeliveryState.RETRACTED, after.stream().filter(d -> d.vm().equals("vm1")).findFirst()
                .orElseThrow().state());
        assertEquals(DeliveryState.ANSWERED, state(a, "vm2"), "answered stays answered");
        await("overlay removed", () -> qemu.overlays.isEmpty());
        assertThrows(MessageException.class, () -> service.retract("nope"));
    }

    @Test
    void qemuRestartShowsThePendingMessageAgain() throws Exception {
        var a = service.submit(msg("Persist", "info", 60, "vm1"), null);
        await("shown", () -> state(a, "vm1") == DeliveryState.SHOWN);
        qemu.restart();
        await("shown again after restart", () -> qemu.overlays.containsKey("tmc-" + a.message().id()));
        assertEquals(2, qemu.log.stream().filter(l -> l.startsWith("add")).count());
        assertEquals(List.of("queued", "shown"), statesOf(a.message().id(), "vm1"), "no second 'shown' event");
        qemu.click("tmc-" + a.message().id(), "ok");
        await("answered", () -> state(a, "vm1") == DeliveryState.ANSWERED);
    }

    @Test
    void gatewayRestartResumesAndRemovesStrays() throws Exception {
        // A message accepted while QEMU was unreachable stays queued...
        await("connected first", () -> service.vmStatus().get(0).qmpConnected());
        qemu.close();
        await("gateway noticed", () -> !service.vmStatus().get(0).qmpConnected());
        var a = service.submit(msg("Later", "info", 60, "vm1"), null);
        Thread.sleep(300);
        assertEquals(DeliveryState.QUEUED, state(a, "vm1"));
        service.close();
        // ...and the next gateway shows it; a stray overlay of ours (a crash between add and record) goes.
        qemu = new FakeOverlayQemuAt(qemu.server.path).fake;
        qemu.overlays.put("tmc-mstray", new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode());
        service = newService();
        await("shown by the new gateway", () -> state(a, "vm1") == DeliveryState.SHOWN);
        await("stray removed", () -> !qemu.overlays.containsKey("tmc-mstray"));
        assertEquals(1, qemu.overlays.size());
        // A third gateway finds it still on screen and leaves it be.
        service.close();
        int adds = (int) qemu.log.stream().filter(l -> l.startsWith("add")).count();
        service = newService();
        Thread.sleep(500);
        assertEquals(adds, qemu.log.stream().filter(l -> l.startsWith("add")).count(), "redrawn needlessly");
        qemu.click("tmc-" + a.message().id(), "ok");
        await("answered", () -> state(a, "vm1") == DeliveryState.ANSWERED);
    }

    /** Binds a fresh fake at the same socket path (QEMU restarted with the same -qmp). */
    static final class FakeOverlayQemuAt {
        final FakeOverlayQemu fake;

        FakeOverlayQemuAt(Path path) throws Exception {
            Files.deleteIfExists(path);
            fake = FakeOverlayQemu.at(path);
        }
    }

    @Test
    void aCommandWithoutAnswerMeansReconnectAndTryAgain() throws Exception {
        await("connected", () -> service.vmStatus().get(0).qmpConnected());
        qemu.hangNextAdd = true;
        var a = service.submit(msg("Hang", "info", 60, "vm1"), null);
        // The 10 s command timeout, a reconnect, a look at QEMU's overlays, and the add again.
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (state(a, "vm1") != DeliveryState.SHOWN) {
            assertTrue(System.nanoTime() < deadline, "never shown after a hung command");
            Thread.sleep(50);
        }
        assertEquals(List.of("hung tmc-" + a.message().id(), "add tmc-" + a.message().id()), qemu.log);
        assertTrue(qemu.server.accepted >= 2, "no reconnect");
    }

    @Test
    void qmpErrorsFailTheDeliveryAndTheQueueMovesOn() throws Exception {
        qemu.failAddWith = "overlay too large";
        var a = service.submit(msg("Bad", "info", 60, "vm1"), null);
        await("failed", () -> state(a, "vm1") == DeliveryState.FAILED);
        assertTrue(store.delivery(a.message().id(), "vm1").orElseThrow().error().contains("overlay too large"));
        qemu.failAddWith = null;
        var b = service.submit(msg("Good", "info", 60, "vm1"), null);
        await("next shown", () -> state(b, "vm1") == DeliveryState.SHOWN);
        var c = service.submit(msg("No QMP", "info", 60, "novm"), null);
        await("no qmp fails", () -> state(c, "novm") == DeliveryState.FAILED);
    }

    @Test
    void tenantBroadcastAndIdempotency() throws Exception {
        NewMessage m = new NewMessage(null, "acme", "All", "Everyone", "warning",
                List.of(new Button("ok", "OK", false)), true, "top", 60);
        var s = service.submit(m, "key-1");
        assertEquals(List.of("vm1", "vm2"), s.deliveries().stream().map(Delivery::vm).toList());
        var again = service.submit(m, "key-1");
        assertTrue(again.replayed());
        assertEquals(s.message().id(), again.message().id());
        MessageException e = assertThrows(MessageException.class, () -> service.submit(
                new NewMessage(null, "acme", "Other", "x", "info", List.of(new Button("ok", "OK", false)), false,
                        "top", 60), "key-1"));
        assertEquals(MessageException.Kind.CONFLICT, e.kind());
        assertEquals(1, store.messageCount());
        await("both shown", () -> qemu.overlays.size() == 1 && qemu2.overlays.size() == 1);
        assertTrue(qemu.only().path("modal").asBoolean());
    }

    @Test
    void invalidRequestsStoreNothing() {
        List<Button> ok = List.of(new Button("ok", "OK", false));
        List<NewMessage> bad = List.of(
                new NewMessage(List.of("nope"), null, "t", "b", "info", ok, false, "center", 60),
                new NewMessage(null, "nobody", "t", "b", "info", ok, false, "center", 60),
                new NewMessage(List.of("vm1"), "acme", "t", "b", "info", ok, false, "center", 60),
                new NewMessage(List.of(), null, "t", "b", "info", ok, false, "center", 60),
                new NewMessage(List.of("vm1"), null, "", "b", "info", ok, false, "center", 60),
                new NewMessage(List.of("vm1"), null, "t", "b", "urgent", ok, false, "center", 60),
                new NewMessage(List.of("vm1"), null, "t", "b", "info", List.of(), false, "center", 60),
                new NewMessage(List.of("vm1"), null, "t", "b", "info", List.of(ok.get(0), ok.get(0)), false,
                        "center", 60),
                new NewMessage(List.of("vm1"), null, "t", "b", "info",
                        List.of(new Button("a b", "x", false)), false, "center", 60),
                new NewMessage(List.of("vm1"), null, "t", "b", "info", ok, false, "middle", 60),
                new NewMessage(List.of("vm1"), null, "t", "b", "info", ok, false, "center", 0),
                new NewMessage(List.of("vm1"), null, "t", "x".repeat(4001), "info", ok, false, "center", 60));
        for (NewMessage m : bad) {
            MessageException e = assertThrows(MessageException.class, () -> service.submit(m, null), m.toString());
            assertEquals(MessageException.Kind.INVALID, e.kind());
        }
        assertEquals(0, store.messageCount());
        assertFalse(events.stream().anyMatch(x -> true));
    }

    // ===== helpers =====

    DeliveryState state(MessageService.Submitted s, String vm) {
        return store.delivery(s.message().id(), vm).orElseThrow().state();
    }

    List<String> statesOf(String messageId, String vm) {
        List<String> out = new ArrayList<>();
        for (OutboxEvent e : events) {
            if (e.messageId().equals(messageId) && e.vm().equals(vm)) {
                out.add(e.state().wire());
            }
        }
        return out;
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
