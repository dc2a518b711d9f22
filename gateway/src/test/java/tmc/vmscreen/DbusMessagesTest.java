package tmc.vmscreen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tmc.messages.OverlayCommand;
import tmc.pixels.Rect;
import tmc.render.Bitmap;
import tmc.render.MessageRenderer;
import tmc.store.Button;
import tmc.testkit.InputEvent;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * Messages drawn by the gateway over a stock QEMU 7.2 VM (D-Bus display, no patch), through the same overlay
 * contract the message service drives: a rendered message shows pixel-exact in an RFB viewer; a click on its button
 * answers it and the guest's input log shows nothing for that click; a click beside it reaches the guest; keys answer
 * a modal message and never reach the guest; the guest's resolution change re-anchors it; the guest's own picture
 * never holds it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DbusMessagesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ScreenFixture fixture;
    private static TestVm vm;
    private static VmScreen screen;
    private static OverlayCommands commands;
    private static RfbClient viewer;
    private static final LinkedBlockingQueue<JsonNode> feedback = new LinkedBlockingQueue<>();

    @BeforeAll
    static void boot() throws IOException {
        fixture = ScreenFixture.start("dbus-messages", WAIT);
        vm = fixture.vm;
        screen = fixture.screen;
        viewer = fixture.viewer;
        commands = screen.overlayCommands();
        commands.onEvent((name, data) -> feedback.add(data));
    }

    @AfterAll
    static void stop() throws IOException {
        if (fixture != null) fixture.close();
    }

    private static Bitmap render(int w, int h) {
        return MessageRenderer.render(OverlayCommand.renderRequest("Maintenance", "This VM restarts at 22:00.",
                "warning", List.of(new Button("ok", "OK", false), new Button("later", "Later", true)), w, h));
    }

    /** vnc-overlay-add arguments for a bitmap, as OverlayCommand builds them for QEMU. */
    private static ObjectNode args(String id, Bitmap b, boolean modal) {
        ObjectNode a = JSON.createObjectNode();
        a.put("id", id).put("width", b.width()).put("height", b.height()).put("format", "argb32")
                .put("pixels", Base64.getEncoder().encodeToString(b.argb32())).put("anchor", "center")
                .put("modal", modal);
        var hs = a.putArray("hotspots");
        for (Bitmap.Hotspot h : b.hotspots()) {
            hs.addObject().put("id", h.id()).put("x", h.x()).put("y", h.y()).put("width", h.width())
                    .put("height", h.height());
        }
        var keys = a.putArray("keys");
        keys.addObject().put("key", "ret").put("hotspot", "ok");
        keys.addObject().put("key", "esc").put("hotspot", "later");
        return a;
    }

    private static Rect placed(String id) throws Exception {
        for (JsonNode o : commands.execute("query-vnc-overlays", null, WAIT)) {
            if (o.get("id").asText().equals(id)) {
                return new Rect(o.get("x").asInt(), o.get("y").asInt(), o.get("width").asInt(), o.get("height").asInt());
            }
        }
        throw new AssertionError("overlay " + id + " not shown");
    }

    /** The viewer shows the bitmap's opaque pixels exactly where the overlay is placed. */
    private static boolean showsExactly(RfbClient c, Bitmap b, Rect at) {
        for (int y = 0; y < b.height(); y += 3) {
            for (int x = 0; x < b.width(); x += 3) {
                int p = b.pixel(x, y);
                if ((p >>> 24) == 255 && c.pixel(at.x() + x, at.y() + y) != (p & 0xffffff)) return false;
            }
        }
        return true;
    }

    @Test
    @Order(1)
    void aMessageShowsPixelExactAndTheGuestPictureStaysClean() throws Exception {
        viewer.awaitFrame(c -> c.width() == screen.picture().width(), WAIT);
        Bitmap b = render(screen.picture().width(), screen.picture().height());
        commands.execute("vnc-overlay-add", args("tmc-m1", b, false), WAIT);
        Rect at = placed("tmc-m1");
        viewer.awaitFrame(c -> showsExactly(c, b, at), WAIT);
        viewer.awaitFrame(c -> sameIn(c, at, screen.picture()), WAIT);
        long differing = 0;
        for (int y = at.y(); y < at.bottom(); y++) {
            for (int x = at.x(); x < at.right(); x++) {
                if (screen.guestPicture().pixel(x, y) != screen.picture().pixel(x, y)) differing++;
            }
        }
        assertTrue(differing > at.area() / 2, "the guest's own picture does not hold the message: " + differing
                + " of " + at.area() + " pixels differ from what the viewer sees");
    }

    @Test
    @Order(2)
    void aClickBesideTheMessageReachesTheGuest() throws Exception {
        int mark = vm.mark();
        viewer.click(5, 5);
        vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
    }

    @Test
    @Order(3)
    void aClickOnItsButtonAnswersItAndTheGuestSeesNoClick() throws Exception {
        Rect at = placed("tmc-m1");
        Bitmap.Hotspot ok = render(screen.picture().width(), screen.picture().height()).hotspots().stream()
                .filter(h -> h.id().equals("ok")).findFirst().orElseThrow();
        int mark = vm.mark();
        viewer.click(at.x() + ok.x() + ok.width() / 2, at.y() + ok.y() + ok.height() / 2);
        JsonNode f = feedback.poll(30, TimeUnit.SECONDS);
        assertEquals("tmc-m1", f.get("id").asText());
        assertEquals("click", f.get("reason").asText());
        assertEquals("ok", f.get("hotspot").asText());
        // A later click beside proves the guest's log is up to date: it holds that click and nothing before it.
        viewer.click(5, 5);
        vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
        assertEquals(List.of(1, 0), vm.inputEventsSince(mark).stream().filter(InputEvent::isButton)
                .map(InputEvent::value).toList(), "only the click beside the message reached the guest");
        // Where the message was, the viewer shows the guest again. (Compared there only: elsewhere the guest's
        // text cursor may blink between two looks under load.)
        try {
            viewer.awaitFrame(c -> sameIn(c, at, screen.guestPicture()), WAIT);
        } catch (AssertionError e) {
            throw new AssertionError("message still on the viewer: viewer vs guest " + diff(viewer.pixels(),
                    screen.guestPicture().snapshot()) + ", composite vs guest " + diff(screen.picture().snapshot(),
                    screen.guestPicture().snapshot()) + ", overlays " + commands.execute("query-vnc-overlays", null,
                    WAIT), e);
        }
    }

    private static boolean sameIn(RfbClient c, Rect r, tmc.pixels.Framebuffer fb) {
        for (int y = r.y(); y < r.bottom(); y++) {
            for (int x = r.x(); x < r.right(); x++) {
                if (c.pixel(x, y) != fb.pixel(x, y)) return false;
            }
        }
        return true;
    }

    private static String diff(int[] a, int[] b) {
        if (a.length != b.length) return "sizes " + a.length + " vs " + b.length;
        int w = screen.guestPicture().width();
        int n = 0;
        int minX = Integer.MAX_VALUE;
        int minY = Integer.MAX_VALUE;
        int maxX = -1;
        int maxY = -1;
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                n++;
                minX = Math.min(minX, i % w);
                maxX = Math.max(maxX, i % w);
                minY = Math.min(minY, i / w);
                maxY = Math.max(maxY, i / w);
            }
        }
        return n + " pixels differ in " + minX + "," + minY + ".." + maxX + "," + maxY;
    }

    @Test
    @Order(4)
    void keysAnswerAModalMessageAndNeverReachTheGuest() throws Exception {
        Bitmap b = render(screen.picture().width(), screen.picture().height());
        commands.execute("vnc-overlay-add", args("tmc-m2", b, true), WAIT);
        int mark = vm.mark();
        viewer.tap('x');
        viewer.tap(0xff1b); // Escape answers "later"
        JsonNode f = feedback.poll(30, TimeUnit.SECONDS);
        assertEquals("key", f.get("reason").asText());
        assertEquals("esc", f.get("key").asText());
        assertEquals("later", f.get("hotspot").asText());
        viewer.tap('y'); // no message any more: reaches the guest (KEY_Y = 21)
        vm.serial().awaitInput(mark, e -> e.isKey() && e.code() == 21 && e.value() == 0, WAIT);
        assertEquals(List.of(21, 21), vm.inputEventsSince(mark).stream().filter(InputEvent::isKey)
                .map(InputEvent::code).toList(), "x and Escape were kept from the guest");
    }

    @Test
    @Order(5)
    void aResolutionChangeReanchorsTheMessage() throws Exception {
        Bitmap b = render(screen.picture().width(), screen.picture().height());
        commands.execute("vnc-overlay-add", args("tmc-m3", b, false), WAIT);
        vm.setResolution(800, 600);
        viewer.awaitFrame(c -> c.width() == 800 && c.height() == 600, WAIT);
        Rect at = placed("tmc-m3");
        assertEquals((800 - b.width()) / 2, at.x());
        assertEquals((600 - b.height()) / 2, at.y());
        viewer.awaitFrame(c -> showsExactly(c, b, at), WAIT);
    }
}
