package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tmc.testkit.InputEvent;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * The guest never notices an overlay's input: keys and buttons held across an overlay's appearance and removal
 * (autorepeats, releases, both orders, several clients), QEMU extended key events, clipboard text, XVP power actions
 * and SetDesktopSize while modal, and the rule that a modal overlay only holds the input of a client that can see
 * and answer it. One VM serves the class: {@code default} on TCP and {@code side} on a unix socket with
 * {@code power-control=on}; the tests that change the resolution or press the power button run last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class OverlayInputProofs extends VmProofs {
    static final int XK_RETURN = 0xff0d;
    static final int XK_A = 'a';
    static final int XK_Z = 'z';
    static final int KEY_A = 30;
    static final int KEY_Z = 44;
    static final int QNUM_RETURN = 0x1c;
    static final int QNUM_A = 0x1e;
    static final int QNUM_Z = 0x2c;

    Path sideDir;
    Path side;

    @BeforeAll
    void boot() throws Exception {
        sideDir = Files.createTempDirectory(Path.of("/tmp"), "tmc-input-");
        side = sideDir.resolve("vnc.sock");
        vm = TestVm.builder().name(getClass().getSimpleName()).qemu(qemu())
                .extraArgs("-vnc", "unix:" + side + ",id=side,power-control=on",
                        "-trace", "enable=vnc_overlay_block_input")
                .start();
        qmp = vm.qmp();
    }

    @AfterAll
    void stop() throws Exception {
        if (vm != null) vm.close();
        Files.deleteIfExists(side);
        Files.deleteIfExists(sideDir);
    }

    /** A modal 200x100 dialog on the default display with "ok" (bound to Return) and "cancel". */
    JsonNode addDialog(String id, boolean dismiss) {
        ObjectNode dialog = Qmp.withKeys(Qmp.withHotspots(Qmp.overlay(id, Bitmap.pattern(200, 100)),
                Qmp.hotspot("ok", 10, 60, 80, 30), Qmp.hotspot("cancel", 110, 60, 80, 30)), Qmp.key("ret", "ok"));
        dialog.put("modal", true).put("dismiss-on-feedback", dismiss)
                .set("displays", QmpClient.JSON.createArrayNode().add("default"));
        qmp.execute("vnc-overlay-add", dialog);
        return Qmp.find(qmp, id);
    }

    /** Key transitions (not buttons) the guest logged since {@code serial}, as "code/value". */
    List<String> guestKeys(int serial) {
        return vm.inputEventsSince(serial).stream().filter(e -> e.isKey() && !e.isButton())
                .map(e -> e.code() + "/" + e.value()).toList();
    }

    List<String> guestButtons(int serial) {
        return vm.inputEventsSince(serial).stream().filter(InputEvent::isButton)
                .map(e -> e.code() + "/" + e.value()).toList();
    }

    /**
     * Taps Z on {@code rfb} with no modal overlay up and waits until the guest logs its release: everything this
     * client sent before has been handled by then.
     */
    void keyFence(RfbClient rfb, int serial) throws Exception {
        long before = zReleases(serial);
        rfb.tap(XK_Z);
        vm.serial().awaitInput(serial, e -> e.code() == KEY_Z && e.value() == 0 && zReleases(serial) > before, WAIT);
    }

    long zReleases(int serial) {
        return vm.inputEventsSince(serial).stream().filter(e -> e.code() == KEY_Z && e.value() == 0).count();
    }

    // ===== keys =====

    @Test
    @Order(1)
    void keyHeldBeforeAModalOverlayNeverAnswersItAndIsReleasedInTheGuest() throws Exception {
        try (RfbClient rfb = connect()) {
            int serial = vm.mark();
            int events = qmp.mark();
            rfb.key(XK_RETURN, true);
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.KEY_ENTER && e.value() == 1, WAIT);

            addDialog("held", false);
            for (int i = 0; i < 5; i++) rfb.key(XK_RETURN, true); // autorepeat of the held key
            rfb.key(XK_RETURN, false);
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.KEY_ENTER && e.value() == 0, WAIT);
            assertEquals(List.of(), qmp.eventsSince(events, FEEDBACK), "a press from before the overlay answered it");

            rfb.tap(XK_RETURN); // a press that began while the overlay is shown answers it
            JsonNode answer = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("ret", answer.path("key").asText());
            Qmp.remove(qmp, "held");
            keyFence(rfb, serial);
            assertEquals(List.of("28/1", "28/0", "44/1", "44/0"), guestKeys(serial),
                    "the guest saw the held key's press and release, no repeat and nothing of the answer");
            assertEquals(1, qmp.eventsSince(events, FEEDBACK).size());
        }
    }

    @Test
    @Order(2)
    void keyPressedWhileModalStaysWithTheOverlayAfterItGoes() throws Exception {
        try (RfbClient rfb = connect()) {
            int serial = vm.mark();
            int events = qmp.mark();
            addDialog("answer", true);
            rfb.key(XK_RETURN, true); // answers and dismisses
            qmp.awaitEvent(events, FEEDBACK, WAIT);
            assertEquals(0, qmp.execute("query-vnc-overlays").size());
            for (int i = 0; i < 5; i++) rfb.key(XK_RETURN, true); // its autorepeat, overlay gone
            rfb.key(XK_RETURN, false);
            keyFence(rfb, serial);
            assertEquals(List.of("44/1", "44/0"), guestKeys(serial),
                    "the answering key's repeats and release must not reach the guest");
            assertEquals(1, qmp.eventsSince(events, FEEDBACK).size());
        }
    }

    @Test
    @Order(3)
    void severalClientsEachKeepTheirHeldKeysAndOnlyNewPressesAnswer() throws Exception {
        try (RfbClient one = connect(); RfbClient two = connect()) {
            int serial = vm.mark();
            int events = qmp.mark();
            one.key(XK_A, true);
            vm.serial().awaitInput(serial, e -> e.code() == KEY_A && e.value() == 1, WAIT);
            addDialog("both", false);
            one.key(XK_A, true);             // repeat of a key held from before: nowhere
            two.key(XK_A, true);             // the guest holds A already: a repeat for it, answers nothing
            two.tap(XK_RETURN);              // the second client answers
            JsonNode answer = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("ret", answer.path("key").asText());
            two.key(XK_A, false);            // the guest saw A pressed: its release goes through
            vm.serial().awaitInput(serial, e -> e.code() == KEY_A && e.value() == 0, WAIT);
            one.key(XK_A, false);            // already released in the guest: dropped by QEMU's keyboard state
            one.tap(XK_RETURN);              // a fresh press of the first client answers too
            qmp.awaitEvent(events, e -> FEEDBACK.equals(e.path("event").asText())
                    && qmp.eventsSince(events, FEEDBACK).size() == 2, WAIT);
            Qmp.remove(qmp, "both");
            keyFence(one, serial);
            keyFence(two, serial);
            assertEquals(List.of("30/1", "30/0", "44/1", "44/0", "44/1", "44/0"), guestKeys(serial));
            assertEquals(2, qmp.eventsSince(events, FEEDBACK).size());
        }
    }

    @Test
    @Order(4)
    void qemuExtendedKeyEventsAreHeldAndAnswerLikeKeyEvents() throws Exception {
        try (RfbClient rfb = connect()) {
            rfb.setEncodings(0, -223, RfbClient.ENCODING_QEMU_EXT_KEY);
            rfb.awaitFrame(c -> c.updatesSince(0).stream().anyMatch(u -> u.rects().stream()
                    .anyMatch(r -> r.encoding() == RfbClient.ENCODING_QEMU_EXT_KEY)), WAIT);
            int serial = vm.mark();
            int events = qmp.mark();
            addDialog("ext", true);
            rfb.qemuKey(XK_A, QNUM_A, true);
            rfb.qemuKey(XK_A, QNUM_A, false);
            rfb.qemuKey(XK_RETURN, QNUM_RETURN, true);
            JsonNode answer = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("ret", answer.path("key").asText());
            rfb.qemuKey(XK_RETURN, QNUM_RETURN, false);
            rfb.qemuKey(XK_Z, QNUM_Z, true);
            rfb.qemuKey(XK_Z, QNUM_Z, false);
            vm.serial().awaitInput(serial, e -> e.code() == KEY_Z && e.value() == 0, WAIT);
            assertEquals(List.of("44/1", "44/0"), guestKeys(serial));
        }
    }

    // ===== buttons =====

    @Test
    @Order(5)
    void buttonsHeldAcrossAnOverlayReachTheGuestWholeOrNotAtAll() throws Exception {
        try (RfbClient one = connect(); RfbClient two = connect()) {
            int serial = vm.mark();
            int events = qmp.mark();
            one.pointer(5, 5, 0);
            one.pointer(5, 5, 1); // held before the overlay
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 1, WAIT);
            JsonNode info = addDialog("buttons", false);
            int okX = info.path("x").asInt() + 50;
            int okY = info.path("y").asInt() + 75;
            one.pointer(okX, okY, 1); // dragged onto "ok" and released there: the guest's, no answer
            one.pointer(okX, okY, 0);
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);

            two.pointer(5, 5, 4);     // right button pressed while modal: swallowed...
            two.pointer(okX, okY, 5); // (a click on "ok" meanwhile answers, so it was handled before the remove)
            two.pointer(okX, okY, 4);
            qmp.awaitEvent(events, FEEDBACK, WAIT);
            Qmp.remove(qmp, "buttons");
            two.pointer(6, 6, 4);     // ...held while the overlay goes...
            two.pointer(6, 6, 0);     // ...and its release too
            two.click(5, 5);          // fence: a whole click reaches the guest
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0
                    && guestButtons(serial).size() >= 4, WAIT);
            assertEquals(List.of("272/1", "272/0", "272/1", "272/0"), guestButtons(serial));
            assertEquals(1, qmp.eventsSince(events, FEEDBACK).size(), "only the click of the second client answered");
        }
    }

    // ===== what a client cannot see does not hold it =====

    @Test
    @Order(6)
    void aModalOverlayWhoseHotspotsAreClippedOffTheScreenHoldsNoInput() throws Exception {
        try (RfbClient rfb = connect()) {
            int h = rfb.height();
            // taller than the screen, centred: its only hot-spot, at the bottom, is off the screen
            ObjectNode tall = Qmp.withHotspots(Qmp.overlay("tall", Bitmap.pattern(300, h + 100)),
                    Qmp.hotspot("ok", 10, h + 60, 100, 30));
            qmp.execute("vnc-overlay-add", tall.put("modal", true)
                    .set("displays", QmpClient.JSON.createArrayNode().add("default")));
            JsonNode info = Qmp.find(qmp, "tall");
            assertEquals("[\"ok\"]", info.path("clipped-hotspots").toString(), info.toString());

            int serial = vm.mark();
            rfb.tap(XK_A);                                   // not trapped: the key reaches the guest
            rfb.click(5, 5);                                 // so does a click beside the overlay
            rfb.click(info.path("x").asInt() + 150, 20);     // a click on what it sees of the overlay does not
            rfb.click(5, 5);                                 // fence: once the guest has it, all before is handled
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0
                    && guestButtons(serial).size() >= 4, WAIT);
            Qmp.remove(qmp, "tall");
            keyFence(rfb, serial);
            assertEquals(List.of("30/1", "30/0", "44/1", "44/0"), guestKeys(serial));
            assertEquals(List.of("272/1", "272/0", "272/1", "272/0"), guestButtons(serial));

            qmp.execute("vnc-overlay-add", Qmp.overlay("fits", Bitmap.pattern(40, 20)));
            assertTrue(Qmp.find(qmp, "fits").path("clipped-hotspots").isMissingNode());
        }
    }

    // ===== the screen changes size =====

    @Test
    @Order(90)
    void resizeIsAnnouncedAndAClientThatKeptTheOldSizeIsNotHeld() throws Exception {
        try (RfbClient follows = connect(); RfbClient keeps = connect()) {
            keeps.setEncodings(0); // Raw only: it cannot follow a resize and keeps its size
            int oldW = keeps.width();
            int oldH = keeps.height();
            int events = qmp.mark();
            vm.setResolution(800, 600);
            JsonNode resized = qmp.awaitEvent(events, e -> "VNC_OVERLAY_DISPLAY_RESIZED".equals(e.path("event")
                    .asText()) && e.path("data").path("display").asText().equals("default")
                    && e.path("data").path("width").asInt() == 800, WAIT).path("data");
            assertEquals(600, resized.path("height").asInt());
            follows.awaitFrame(c -> c.width() == 800 && c.height() == 600, WAIT);
            assertEquals(oldW, keeps.width());
            assertTrue(oldH < 600, "the old screen is smaller: " + oldW + "x" + oldH);

            // bottom right of 800x600: outside what the client with the old size sees
            ObjectNode corner = Qmp.withKeys(Qmp.withHotspots(Qmp.overlay("corner", Bitmap.pattern(100, 50)),
                    Qmp.hotspot("ok", 0, 0, 100, 50)), Qmp.key("ret", "ok")).put("anchor", "bottom-right");
            qmp.execute("vnc-overlay-add", corner.put("modal", true)
                    .set("displays", QmpClient.JSON.createArrayNode().add("default")));
            int serial = vm.mark();
            follows.tap(XK_A);    // held: swallowed
            keeps.tap(XK_A);      // not held: reaches the guest
            vm.serial().awaitInput(serial, e -> e.code() == KEY_A && e.value() == 0, WAIT);
            follows.tap(XK_RETURN);
            assertEquals("ok", qmp.awaitEvent(events, FEEDBACK, WAIT).path("data").path("hotspot").asText());
            keyFence(follows, serial);
            assertEquals(List.of("30/1", "30/0", "44/1", "44/0"), guestKeys(serial));
        }
    }

    // ===== clipboard, SetDesktopSize and XVP while modal (display 'side', power-control=on) =====

    @Test
    @Order(100)
    void modalOverlayBlocksClipboardResizeRequestsAndPowerActions() throws Exception {
        try (RfbClient rfb = RfbClient.connect(UnixTransport.connect(side), null)) {
            rfb.awaitFrame(c -> c.mark() > 0, WAIT);
            rfb.setEncodings(0, -223, RfbClient.ENCODING_EXT_DESKTOP_SIZE, RfbClient.ENCODING_XVP);
            rfb.awaitFrame(c -> c.xvpCodes().contains(1), WAIT); // XVP_INIT
            int events = qmp.mark();
            ObjectNode modal = Qmp.withHotspots(Qmp.overlay("power", Bitmap.pattern(100, 50)),
                    Qmp.hotspot("ok", 0, 0, 100, 50)).put("modal", true);
            qmp.execute("vnc-overlay-add", modal.set("displays", QmpClient.JSON.createArrayNode().add("side")));

            int mark = rfb.mark();
            rfb.cutText("pasted while modal");
            rfb.setDesktopSize(1024, 768);
            rfb.xvp(2); // shutdown: refused with XVP_FAIL
            rfb.awaitFrame(c -> c.xvpCodes().size() == 2, WAIT);
            assertEquals(List.of(1, 0), rfb.xvpCodes());
            assertEquals(1, desktopSizeStatus(rfb, mark), "SetDesktopSize answered 'prohibited'");
            String log = Files.readString(vm.qemuLog());
            for (String what : List.of("clipboard", "desktop-size", "xvp")) {
                assertTrue(log.contains("vnc_overlay_block_input") && log.contains("what=" + what),
                        what + " not blocked; QEMU log:\n" + log);
            }
            assertEquals(List.of(), qmp.eventsSince(events, "POWERDOWN"));

            Qmp.remove(qmp, "power");
            mark = rfb.mark();
            rfb.setDesktopSize(1024, 768);
            rfb.xvp(2); // now it goes through
            qmp.awaitEvent(events, "POWERDOWN", WAIT);
            assertEquals(3, desktopSizeStatus(rfb, mark), "std VGA cannot resize: 'invalid layout', not prohibited");
        }
    }

    /** The status (rectangle y) of the first ExtendedDesktopSize answer since {@code mark}. */
    static int desktopSizeStatus(RfbClient rfb, int mark) {
        rfb.awaitFrame(c -> c.updatesSince(mark).stream().anyMatch(u -> u.rects().stream()
                .anyMatch(r -> r.encoding() == RfbClient.ENCODING_EXT_DESKTOP_SIZE && r.x() == 1)), WAIT);
        return rfb.updatesSince(mark).stream().flatMap(u -> u.rects().stream())
                .filter(r -> r.encoding() == RfbClient.ENCODING_EXT_DESKTOP_SIZE && r.x() == 1)
                .findFirst().orElseThrow().y();
    }
}
