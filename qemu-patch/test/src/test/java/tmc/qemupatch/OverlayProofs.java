package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tmc.testkit.InputEvent;
import tmc.testkit.QmpClient;
import tmc.testkit.QmpException;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;

/**
 * The proofs of issue 2, run against a real patched QEMU booting the test guest. Subclasses pick the binary: the
 * normal build ({@link OverlayProofsTest}) or the AddressSanitizer build ({@link OverlayProofsAsanTest}). One VM
 * serves the whole class; every test leaves no overlay behind. The resolution change runs last because it leaves
 * the guest in graphics mode.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class OverlayProofs extends VmProofs {
    static final int XK_RETURN = 0xff0d;
    static final int XK_ESCAPE = 0xff1b;
    static final int KEY_A = 30;
    static final int KEY_Z = 44;


    @BeforeAll
    void boot() throws Exception {
        vm = TestVm.builder().name(getClass().getSimpleName()).vncWebsocket(true).qemu(qemu()).start();
        qmp = vm.qmp();
    }

    @AfterAll
    void stop() {
        if (vm != null) vm.close();
    }

    // ===== 1. pixel-exact in the client, absent from screendump, removed exactly =====

    @Test
    @Order(1)
    void overlayReachesAnIdleClientPixelExactWithin100msButNotScreendump() throws Exception {
        try (RfbClient rfb = connect()) {
            Frames.awaitIdle(rfb, Duration.ofSeconds(10), Duration.ofSeconds(120));
            int w = rfb.width();
            int h = rfb.height();
            int[] guest = rfb.pixels();
            Bitmap bitmap = Bitmap.pattern(300, 120);

            int mark = rfb.mark();
            qmp.execute("vnc-overlay-add", Qmp.overlay("pic", bitmap)
                    .put("anchor", "top-left").put("x-offset", 8).put("y-offset", 4));
            long replied = System.nanoTime();
            Frames.await(rfb, Frames.composite(guest, w, h, bitmap, 8, 4), WAIT, "overlay blended over the guest");
            rfb.awaitFrame(c -> c.mark() > mark, WAIT); // pixels are written before their update is recorded
            List<RfbClient.Update> updates = rfb.updatesSince(mark);
            long latencyMs = Math.max(0, updates.get(updates.size() - 1).nanoTime() - replied) / 1_000_000;
            assertTrue(latencyMs < 100, "overlay reached the idle client " + latencyMs + " ms after the QMP reply");

            Path dump = vm.logDir().resolve("screendump-overlay.ppm").toAbsolutePath();
            qmp.execute("screendump", QmpClient.args().put("filename", dump.toString()));
            assertNull(Frames.diff(guest, Frames.readPpm(dump, w, h), w), "screendump must show the guest alone");

            Qmp.remove(qmp, "pic");
            Frames.await(rfb, guest, WAIT, "guest picture restored by vnc-overlay-remove");
            assertEquals(0, qmp.execute("query-vnc-overlays").size());
        }
    }

    // ===== 4. a static screen with an overlay costs nothing after the first update =====

    @Test
    @Order(2)
    void staticScreenWithOverlaySendsNoBytesAfterTheFirstUpdate() throws Exception {
        try (RfbClient rfb = connect()) {
            Frames.awaitIdle(rfb, Duration.ofSeconds(3), Duration.ofSeconds(120));
            int[] guest = rfb.pixels();
            Bitmap bitmap = Bitmap.pattern(240, 90);
            qmp.execute("vnc-overlay-add", Qmp.overlay("still", bitmap));
            JsonNode info = Qmp.find(qmp, "still");
            Frames.await(rfb, Frames.composite(guest, rfb.width(), rfb.height(), bitmap,
                    info.path("x").asInt(), info.path("y").asInt()), WAIT, "overlay shown");

            int mark = rfb.mark();
            long bytes = rfb.bytesReceived();
            Thread.sleep(5000);
            assertEquals(List.of(), rfb.updatesSince(mark), "updates on a static screen");
            assertEquals(bytes, rfb.bytesReceived(), "framebuffer bytes on a static screen over 5 s");
        }
    }

    // ===== 2. answers: hot-spot click, click outside, modal keys and buttons =====

    @Test
    @Order(3)
    void hotspotClickGivesOneEventAndNothingReachesTheGuest() throws Exception {
        try (RfbClient rfb = connect()) {
            ObjectNode ask = Qmp.withHotspots(Qmp.overlay("ask", Bitmap.solid(200, 100, 0xff3060c0)),
                    Qmp.hotspot("ok", 10, 60, 80, 30), Qmp.hotspot("cancel", 110, 60, 80, 30));
            qmp.execute("vnc-overlay-add", ask);
            JsonNode info = Qmp.find(qmp, "ask");
            int ox = info.path("x").asInt();
            int oy = info.path("y").asInt();

            int serial = vm.mark();
            int events = qmp.mark();
            rfb.pointer(ox + 20, oy + 70, 1); // press in "ok", release in "cancel": no answer
            rfb.pointer(ox + 150, oy + 70, 0);
            rfb.click(ox + 50, oy + 75);      // a click on "ok"
            JsonNode event = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("ask", event.path("id").asText());
            assertEquals("ok", event.path("hotspot").asText());
            assertEquals("click", event.path("reason").asText());
            assertEquals("default", event.path("display").asText());
            assertEquals("127.0.0.1", event.path("client").path("host").asText());
            assertFalse(event.path("client").path("service").asText().isEmpty(), "client port in " + event);
            assertFalse(event.path("client").path("websocket").asBoolean());

            assertEquals(0, qmp.execute("query-vnc-overlays").size(), "dismissed by its first answer");
            clickOutsideAsFence(rfb, serial, 5, 5);
            assertEquals(1, qmp.eventsSince(events, FEEDBACK).size(), "events: " + qmp.eventsSince(events));
        }
    }

    @Test
    @Order(4)
    void modalOverlaySwallowsKeysAndButtonsAndAnswersEnterAndEscape() throws Exception {
        try (RfbClient rfb = connect()) {
            ObjectNode dialog = Qmp.withKeys(Qmp.withHotspots(Qmp.overlay("dialog", Bitmap.pattern(200, 100)),
                            Qmp.hotspot("ok", 10, 60, 80, 30), Qmp.hotspot("cancel", 110, 60, 80, 30)),
                    Qmp.key("ret", "ok"), Qmp.key("esc", "cancel"));
            qmp.execute("vnc-overlay-add", dialog.put("modal", true).put("dismiss-on-feedback", false));
            JsonNode info = Qmp.find(qmp, "dialog");
            assertTrue(info.path("modal").asBoolean());

            int serial = vm.mark();
            int events = qmp.mark();
            rfb.tap('a');
            rfb.click(5, 5);                                  // outside, but modal
            rfb.click(info.path("x").asInt() + 100, info.path("y").asInt() + 20); // on the overlay, no hot-spot
            rfb.tap(XK_RETURN);
            rfb.key(XK_ESCAPE, true);
            rfb.key(XK_ESCAPE, true);                         // autorepeat: still one answer
            rfb.key(XK_ESCAPE, false);
            qmp.awaitEvent(events, e -> FEEDBACK.equals(e.path("event").asText())
                    && "esc".equals(e.path("data").path("key").asText()), WAIT);

            List<JsonNode> answers = qmp.eventsSince(events, FEEDBACK);
            assertEquals(2, answers.size(), "answers: " + answers);
            assertEquals("key", answers.get(0).path("data").path("reason").asText());
            assertEquals("ret", answers.get(0).path("data").path("key").asText());
            assertEquals("ok", answers.get(0).path("data").path("hotspot").asText());
            assertEquals("esc", answers.get(1).path("data").path("key").asText());
            assertEquals("cancel", answers.get(1).path("data").path("hotspot").asText());

            Qmp.remove(qmp, "dialog");
            clickOutsideAsFence(rfb, serial, 5, 5);
            List<InputEvent> keys = vm.inputEventsSince(serial).stream()
                    .filter(e -> e.isKey() && !e.isButton()).toList();
            assertEquals(List.of(), keys, "keys reached the guest while the overlay was modal");
        }
    }

    @Test
    @Order(5)
    void clickThroughOverlayPassesClicksOutsideItsHotspots() throws Exception {
        try (RfbClient rfb = connect()) {
            qmp.execute("vnc-overlay-add", Qmp.withHotspots(Qmp.overlay("banner", Bitmap.solid(300, 40, 0x80ffff00)),
                    Qmp.hotspot("close", 270, 5, 25, 30)).put("anchor", "top").put("click-through", true));
            JsonNode info = Qmp.find(qmp, "banner");
            int ox = info.path("x").asInt();
            int oy = info.path("y").asInt();
            int serial = vm.mark();
            int events = qmp.mark();

            rfb.click(ox + 10, oy + 10); // over the overlay but not a hot-spot: the guest gets it
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
            rfb.click(ox + 280, oy + 20); // the hot-spot answers and the guest sees nothing
            assertEquals("close", qmp.awaitEvent(events, FEEDBACK, WAIT).path("data").path("hotspot").asText());

            clickOutsideAsFence(rfb, serial, 5, 300);
            long buttons = vm.inputEventsSince(serial).stream().filter(InputEvent::isButton).count();
            assertEquals(4, buttons, "the click-through click and the fence click, nothing else");
        }
    }

    /**
     * Clicks where no overlay is and waits until the guest logs it. QEMU handles a client's messages in order and the
     * guest logs its input in order, so every event this client sent before has been handled and logged by then: the
     * guest's log since {@code serial} must hold this click's press and release and no other button.
     */
    void clickOutsideAsFence(RfbClient rfb, int serial, int x, int y) throws Exception {
        int before = (int) vm.inputEventsSince(serial).stream().filter(InputEvent::isButton).count();
        rfb.click(x, y);
        vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0
                && vm.inputEventsSince(serial).stream().filter(InputEvent::isButton).count() >= before + 2, WAIT);
        List<InputEvent> buttons = vm.inputEventsSince(serial).stream().filter(InputEvent::isButton).toList();
        assertEquals(before + 2, buttons.size(), "button events in the guest: " + buttons);
    }

    // ===== 5. every client sees it: two RFB clients and one through QEMU's websocket listener =====

    @Test
    @Order(6)
    void twoTcpClientsAndAWebsocketClientAllSeeTheOverlay() throws Exception {
        try (RfbClient one = connect(); RfbClient two = connect();
                RfbClient web = RfbClient.connect(WebSocketTransport.connect(
                        URI.create("ws://127.0.0.1:" + vm.vncWebsocketPort() + "/"), Map.of(), List.of("binary")),
                        null)) {
            web.awaitFrame(c -> c.mark() > 0, WAIT);
            Frames.awaitIdle(one, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int w = one.width();
            int h = one.height();
            int[] guest = one.pixels();
            Bitmap bitmap = Bitmap.pattern(180, 70);
            qmp.execute("vnc-overlay-add", Qmp.overlay("all", bitmap).put("format", "argb32-zlib")
                    .put("pixels", bitmap.zlibBase64()).put("anchor", "bottom-right")
                    .put("x-offset", 10).put("y-offset", 20));
            JsonNode info = Qmp.find(qmp, "all");
            assertEquals(w - 180 - 10, info.path("x").asInt());
            assertEquals(h - 70 - 20, info.path("y").asInt());
            int[] expected = Frames.composite(guest, w, h, bitmap, w - 190, h - 90);
            Frames.await(one, expected, WAIT, "first TCP client");
            Frames.await(two, expected, WAIT, "second TCP client");
            Frames.await(web, expected, WAIT, "websocket client");
        }
    }

    // ===== 6. bad arguments: an error, QEMU alive, nothing changed =====

    @Test
    @Order(7)
    void badArgumentsAreRefusedAndChangeNothing() throws Exception {
        qmp.execute("vnc-overlay-add", Qmp.overlay("keep", Bitmap.pattern(40, 20)).put("anchor", "left"));
        JsonNode before = qmp.execute("query-vnc-overlays");
        List<BadRequests.Case> cases = BadRequests.all();
        assertTrue(cases.size() >= 20, cases.size() + " cases");
        for (BadRequests.Case c : cases) {
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute(c.command(), c.arguments()),
                    c.name() + " was accepted");
            assertFalse(e.description().isEmpty(), c.name());
            assertEquals("running", qmp.execute("query-status").path("status").asText(), c.name());
            assertEquals(before, qmp.execute("query-vnc-overlays"), c.name() + " changed the overlays");
        }
    }

    @Test
    @Order(8)
    void limitsOnOverlaysPerDisplayAndMemoryChangeNothing() throws Exception {
        for (int i = 0; i < 8; i++) {
            qmp.execute("vnc-overlay-add", Qmp.overlay("n" + i, Bitmap.solid(8, 8, 0xff000000 | i)));
        }
        JsonNode eight = qmp.execute("query-vnc-overlays");
        assertEquals(8, eight.size());
        assertThrows(QmpException.class,
                () -> qmp.execute("vnc-overlay-add", Qmp.overlay("n8", Bitmap.solid(8, 8, -1))));
        qmp.execute("vnc-overlay-add", Qmp.overlay("n3", Bitmap.solid(8, 8, -1))); // replacing is no new overlay
        assertEquals(8, qmp.execute("query-vnc-overlays").size());
        Qmp.clear(qmp);

        // two screen-sized overlays exceed the 64 MiB budget: 5120 x 2160 x 4 = 42 MiB each
        byte[] zeros = new byte[5120 * 2160 * 4];
        String big = java.util.Base64.getEncoder().encodeToString(Bitmap.deflate(zeros));
        ObjectNode first = QmpClient.args().put("id", "big1").put("width", 5120).put("height", 2160)
                .put("format", "argb32-zlib").put("pixels", big);
        qmp.execute("vnc-overlay-add", first);
        JsonNode one = qmp.execute("query-vnc-overlays");
        QmpException e = assertThrows(QmpException.class,
                () -> qmp.execute("vnc-overlay-add", first.deepCopy().put("id", "big2")));
        assertTrue(e.description().contains("MiB"), e.description());
        assertEquals(one, qmp.execute("query-vnc-overlays"));
        JsonNode placed = Qmp.find(qmp, "big1");
        assertTrue(placed.path("x").asInt() < 0 && placed.path("y").asInt() < 0, "clipped: " + placed);
    }

    @Test
    @Order(9)
    void timeoutRemovesTheOverlayWithOneEvent() throws Exception {
        int events = qmp.mark();
        qmp.execute("vnc-overlay-add", Qmp.overlay("brief", Bitmap.solid(32, 16, 0xff00ff00)).put("timeout", 700));
        int remaining = Qmp.find(qmp, "brief").path("remaining-ms").asInt(-1);
        assertTrue(remaining > 0 && remaining <= 700, "remaining-ms " + remaining);
        JsonNode event = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
        assertEquals("brief", event.path("id").asText());
        assertEquals("timeout", event.path("reason").asText());
        assertEquals("default", event.path("display").asText());
        assertTrue(event.path("hotspot").isMissingNode() && event.path("client").isMissingNode(), event.toString());
        // QEMU removes the overlay where it emits the event, and writes events and replies to the monitor in order:
        // a second event would have come before this reply.
        assertEquals(0, qmp.execute("query-vnc-overlays").size());
        assertEquals(1, qmp.eventsSince(events, FEEDBACK).size());
    }

    @Test
    @Order(10)
    void guestDrawingUnderOverlaysStaysPixelExact() throws Exception {
        try (RfbClient rfb = connect()) {
            // left half opaque (guest changes there are hidden and not sent), right half translucent (re-blended)
            int[] px = new int[640 * 300];
            for (int y = 0; y < 300; y++) {
                for (int x = 0; x < 640; x++) {
                    px[y * 640 + x] = (x < 320 ? 0xff000000 : 0x70000000) | (x * 3 & 0xff) << 16 | (y & 0xff) << 8 | 0x40;
                }
            }
            Bitmap bitmap = new Bitmap(640, 300, px);
            qmp.execute("vnc-overlay-add", Qmp.overlay("cover", bitmap).put("anchor", "bottom-left"));
            JsonNode info = Qmp.find(qmp, "cover");
            for (int i = 0; i < 40; i++) vm.serial().command("say line " + i + " " + "#".repeat(i + 20), WAIT);
            Frames.awaitIdle(rfb, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int w = rfb.width();
            int h = rfb.height();
            Path dump = vm.logDir().resolve("screendump-drawing.ppm").toAbsolutePath();
            qmp.execute("screendump", QmpClient.args().put("filename", dump.toString()));
            int[] guest = Frames.readPpm(dump, w, h);
            Frames.await(rfb, Frames.composite(guest, w, h, bitmap, info.path("x").asInt(), info.path("y").asInt()),
                    WAIT, "guest text drawn under the overlay");
            Qmp.remove(qmp, "cover");
            Frames.await(rfb, guest, WAIT, "guest text uncovered");
        }
    }

    // ===== 7. per-viewer overlays: drawn for, and answered by, one client =====

    @Test
    @Order(11)
    void overlayForOneClientIsSeenAndAnsweredByItAloneAndGoesWithIt() throws Exception {
        int events = qmp.mark();
        RfbClient mine = connect();
        String mineId = initialized(events).path("id").asText();
        events = qmp.mark();
        try (RfbClient other = connect()) {
            String otherId = initialized(events).path("id").asText();
            assertFalse(mineId.isEmpty() || mineId.equals(otherId), mineId + " / " + otherId);
            List<String> listed = new java.util.ArrayList<>();
            qmp.execute("query-vnc").path("clients").forEach(c -> listed.add(c.path("id").asText()));
            assertTrue(listed.containsAll(List.of(mineId, otherId)), "query-vnc clients: " + listed);

            Frames.awaitIdle(other, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int w = other.width();
            int h = other.height();
            int[] guest = other.pixels();
            Bitmap bitmap = Bitmap.pattern(200, 100);
            qmp.execute("vnc-overlay-add", Qmp.withKeys(Qmp.withHotspots(Qmp.overlay("mine", bitmap),
                    Qmp.hotspot("ok", 10, 60, 80, 30)), Qmp.key("ret", "ok"))
                    .put("client", mineId).put("modal", true));
            JsonNode info = Qmp.find(qmp, "mine");
            assertEquals(mineId, info.path("client").asText());
            int ox = info.path("x").asInt();
            int oy = info.path("y").asInt();
            Frames.await(mine, Frames.composite(guest, w, h, bitmap, ox, oy), WAIT, "the client it is for");

            // the other client: the guest picture there, and its input reaches the guest
            int serial = vm.mark();
            events = qmp.mark();
            other.requestUpdate(false);
            Frames.await(other, guest, WAIT, "another client sees the guest");
            other.tap('a');
            other.click(ox + 50, oy + 75);
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
            vm.serial().awaitInput(serial, e -> e.code() == KEY_A && e.value() == 0, WAIT); // keyboard: own log
            assertEquals(List.of(), qmp.eventsSince(events, FEEDBACK), "another client answered it");

            // the client it is for: held by it (modal), answers it
            mine.tap('a');
            mine.click(ox + 50, oy + 75);
            JsonNode answer = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("ok", answer.path("hotspot").asText());
            assertEquals(mineId, answer.path("client").path("id").asText());
            Frames.awaitIdle(other, Duration.ofSeconds(1), Duration.ofSeconds(60));
            guest = other.pixels(); // the guest echoed the other client's A
            Frames.await(mine, guest, WAIT, "dismissed by its answer");
            mine.tap('z'); // not held any more: reaches the guest, after anything mine sent before
            vm.serial().awaitInput(serial, e -> e.code() == KEY_Z && e.value() == 0, WAIT);
            assertEquals(4, vm.inputEventsSince(serial).stream().filter(e -> e.isKey() && !e.isButton()).count(),
                    "keys in the guest: the other client's A, then Z; the A of the client it was for never");

            // it goes with its client, saying so
            Frames.awaitIdle(other, Duration.ofSeconds(1), Duration.ofSeconds(60));
            guest = other.pixels(); // and Z
            qmp.execute("vnc-overlay-add", Qmp.overlay("bye", bitmap).put("client", mineId));
            Frames.await(mine, Frames.composite(guest, w, h, bitmap, ox, oy), WAIT, "second overlay");
            events = qmp.mark();
            mine.close();
            JsonNode gone = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("bye", gone.path("id").asText());
            assertEquals("disconnected", gone.path("reason").asText());
            assertEquals(mineId, gone.path("client").path("id").asText());
            assertEquals(0, qmp.execute("query-vnc-overlays").size());
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("vnc-overlay-add",
                    Qmp.overlay("late", bitmap).put("client", mineId)));
            assertTrue(e.description().contains(mineId), e.description());
        } finally {
            mine.close();
        }
    }

    /** The client of the first VNC_INITIALIZED since {@code mark}. */
    JsonNode initialized(int mark) {
        return qmp.awaitEvent(mark, "VNC_INITIALIZED", WAIT).path("data").path("client");
    }

    // ===== 3. resolution change: re-anchored, clipped, in bounds =====

    @Test
    @Order(100)
    void resolutionChangeReanchorsAndClipsOverlays() throws Exception {
        try (RfbClient rfb = connect()) {
            Bitmap centre = Bitmap.pattern(200, 100);
            Bitmap corner = Bitmap.pattern(64, 32);
            Bitmap big = Bitmap.pattern(1000, 700);
            qmp.execute("vnc-overlay-add", Qmp.overlay("centre", centre));
            qmp.execute("vnc-overlay-add", Qmp.overlay("corner", corner).put("anchor", "bottom-right")
                    .put("x-offset", 5).put("y-offset", 5));

            vm.setResolution(800, 600);
            rfb.awaitFrame(c -> c.width() == 800 && c.height() == 600, WAIT);
            assertScreen(rfb, 800, 600, List.of(
                    new Placed("centre", centre, 300, 250), new Placed("corner", corner, 731, 563)));

            qmp.execute("vnc-overlay-add", Qmp.overlay("big", big)); // larger than the screen: clipped
            assertScreen(rfb, 800, 600, List.of(new Placed("centre", centre, 300, 250),
                    new Placed("corner", corner, 731, 563), new Placed("big", big, -100, -50)));

            vm.setResolution(640, 480);
            rfb.awaitFrame(c -> c.width() == 640 && c.height() == 480, WAIT);
            assertScreen(rfb, 640, 480, List.of(new Placed("centre", centre, 220, 190),
                    new Placed("corner", corner, 571, 443), new Placed("big", big, -180, -110)));
        }
    }

    record Placed(String id, Bitmap bitmap, int x, int y) {}

    /** The display size, each overlay's place, and every pixel: the guest (screendump) with the overlays in order. */
    void assertScreen(RfbClient rfb, int w, int h, List<Placed> overlays) throws Exception {
        JsonNode display = qmp.execute("query-vnc-overlay-displays").get(0);
        assertEquals("default", display.path("id").asText());
        assertEquals(w, display.path("width").asInt());
        assertEquals(h, display.path("height").asInt());
        for (Placed p : overlays) {
            JsonNode info = Qmp.find(qmp, p.id());
            assertEquals(p.x(), info.path("x").asInt(), p.id() + " x");
            assertEquals(p.y(), info.path("y").asInt(), p.id() + " y");
        }
        Frames.awaitIdle(rfb, Duration.ofSeconds(2), Duration.ofSeconds(120));
        Path dump = vm.logDir().resolve("screendump-" + w + "x" + h + ".ppm").toAbsolutePath();
        qmp.execute("screendump", QmpClient.args().put("filename", dump.toString()));
        int[] expected = Frames.readPpm(dump, w, h);
        for (Placed p : overlays) expected = Frames.composite(expected, w, h, p.bitmap(), p.x(), p.y());
        Frames.await(rfb, expected, WAIT, w + "x" + h + " screen");
    }
}
