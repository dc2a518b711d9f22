package tmc.vmscreen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.pixels.Framebuffer;
import tmc.pixels.PixelLayout;
import tmc.pixels.Rect;
import tmc.qmp.QmpException;

/**
 * The gateway's overlays against the patched QEMU's contract, without a VM: composition, anchoring and re-anchoring,
 * hit-testing, modal keys, click-through, dismiss, timeout, replace and remove, and what reaches the guest.
 */
class VmOverlaysTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int GUEST = 0x102030;

    private Framebuffer guest;
    private VmOverlays overlays;
    private OverlayCommands commands;
    private ScheduledExecutorService timers;
    private final LinkedBlockingQueue<JsonNode> feedback = new LinkedBlockingQueue<>();
    private final List<String> toGuest = new ArrayList<>();
    private ViewerInput viewer;

    @BeforeEach
    void setUp() {
        guest = new Framebuffer(200, 100);
        fill(guest, Rect.ofSize(200, 100), GUEST);
        timers = Executors.newSingleThreadScheduledExecutor();
        overlays = new VmOverlays(guest, timers, System::currentTimeMillis);
        commands = new OverlayCommands(overlays);
        commands.onEvent((name, data) -> feedback.add(data));
        viewer = new ViewerInput(overlays, new ViewerInput.Guest() {
            @Override
            public void key(int qnum, boolean down) {
                toGuest.add("key " + qnum + " " + down);
            }

            @Override
            public void pointer(int x, int y, int buttonMask) {
                toGuest.add("pointer " + x + "," + y + " " + buttonMask);
            }
        }, "viewer-1");
    }

    @AfterEach
    void tearDown() {
        timers.shutdownNow();
    }

    static void fill(Framebuffer fb, Rect r, int rgb) {
        byte[] d = new byte[r.width() * r.height() * 4];
        for (int i = 0; i < r.width() * r.height(); i++) {
            d[4 * i] = (byte) rgb;
            d[4 * i + 1] = (byte) (rgb >> 8);
            d[4 * i + 2] = (byte) (rgb >> 16);
        }
        fb.update(r.x(), r.y(), r.width(), r.height(), r.width() * 4, PixelLayout.X8R8G8B8, d);
    }

    /** vnc-overlay-add arguments for a w x h overlay of one ARGB colour with an "ok" hot-spot on its left half. */
    static ObjectNode args(String id, int w, int h, int argb) {
        byte[] px = new byte[w * h * 4];
        for (int i = 0; i < w * h; i++) {
            px[4 * i] = (byte) (argb >>> 24);
            px[4 * i + 1] = (byte) (argb >> 16);
            px[4 * i + 2] = (byte) (argb >> 8);
            px[4 * i + 3] = (byte) argb;
        }
        ObjectNode a = JSON.createObjectNode();
        a.put("id", id).put("width", w).put("height", h).put("pixels", Base64.getEncoder().encodeToString(px));
        a.putArray("hotspots").addObject().put("id", "ok").put("x", 0).put("y", 0).put("width", w / 2)
                .put("height", h);
        a.putArray("keys").addObject().put("key", "ret").put("hotspot", "ok");
        return a;
    }

    private void click(int x, int y) {
        viewer.pointer(x, y, 0);
        viewer.pointer(x, y, 1);
        viewer.pointer(x, y, 0);
    }

    @Test
    void anOverlayIsDrawnOverTheGuestAndTheGuestPictureStaysClean() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        // Centred: (200-40)/2 = 80, (100-20)/2 = 40.
        assertEquals(0xff0000, overlays.composite().pixel(80, 40));
        assertEquals(0xff0000, overlays.composite().pixel(119, 59));
        assertEquals(GUEST, overlays.composite().pixel(79, 40));
        assertEquals(GUEST, guest.pixel(100, 50), "the guest's own picture has no message");
        assertTrue(overlays.underAMessage(new Rect(100, 50, 1, 1)) && !overlays.underAMessage(new Rect(0, 0, 5, 5)));
        // Half-transparent white over the guest: straight alpha blend.
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0x80ffffff), null);
        int expected = VmOverlays.over(0x80ffffff, GUEST);
        assertEquals(expected, overlays.composite().pixel(100, 50));
        assertEquals(0x889098, expected, "(255*128 + 0x10*127 + 127) / 255 = 0x88 ...");
    }

    @Test
    void guestChangesUnderTheOverlayStayHiddenAndAroundItShow() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        fill(guest, Rect.ofSize(200, 100), 0x00ff00);
        overlays.guestDamaged(Rect.ofSize(200, 100));
        assertEquals(0xff0000, overlays.composite().pixel(100, 50));
        assertEquals(0x00ff00, overlays.composite().pixel(10, 10));
    }

    @Test
    void anchorsAndOffsetsFollowThePatchAndAResizeReanchors() throws Exception {
        ObjectNode a = args("m1", 40, 20, 0xff0000ff);
        a.put("anchor", "bottom-right").put("x-offset", 16).put("y-offset", 16);
        commands.execute("vnc-overlay-add", a, null);
        JsonNode q = commands.execute("query-vnc-overlays", null, null).get(0);
        assertEquals(200 - 40 - 16, q.get("x").asInt());
        assertEquals(100 - 20 - 16, q.get("y").asInt());
        guest.resize(400, 300);
        overlays.guestResized();
        q = commands.execute("query-vnc-overlays", null, null).get(0);
        assertEquals(400 - 40 - 16, q.get("x").asInt());
        assertEquals(300 - 20 - 16, q.get("y").asInt());
        assertEquals(0x0000ff, overlays.composite().pixel(400 - 16 - 1, 300 - 16 - 1));
        assertEquals(400, commands.execute("query-vnc-overlay-displays", null, null).get(0).get("width").asInt());
    }

    @Test
    void aClickOnAHotspotAnswersAndNeverReachesTheGuest() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        click(85, 45); // inside the overlay, on "ok"
        JsonNode f = feedback.poll(5, TimeUnit.SECONDS);
        assertEquals("m1", f.get("id").asText());
        assertEquals("click", f.get("reason").asText());
        assertEquals("ok", f.get("hotspot").asText());
        assertEquals("viewer-1", f.get("client").get("host").asText());
        assertEquals(List.of("pointer 85,45 0", "pointer 85,45 0", "pointer 85,45 0"), toGuest,
                "motion passes, the button never does");
        assertEquals(GUEST, overlays.composite().pixel(100, 50), "dismissed on feedback");
        assertEquals(0, commands.execute("query-vnc-overlays", null, null).size());
    }

    @Test
    void aClickBesideItReachesTheGuestAndOneOffTheHotspotIsSwallowedUnlessClickThrough() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        click(10, 10);
        assertEquals(List.of("pointer 10,10 0", "pointer 10,10 1", "pointer 10,10 0"), toGuest);
        toGuest.clear();
        click(110, 50); // on the overlay, right half: no hot-spot
        assertEquals(List.of("pointer 110,50 0", "pointer 110,50 0", "pointer 110,50 0"), toGuest);
        ObjectNode through = args("m1", 40, 20, 0xffff0000);
        through.put("click-through", true);
        commands.execute("vnc-overlay-add", through, null);
        toGuest.clear();
        click(110, 50);
        assertEquals(List.of("pointer 110,50 0", "pointer 110,50 1", "pointer 110,50 0"), toGuest);
        assertNull(feedback.poll());
    }

    @Test
    void aPressOnOneHotspotReleasedElsewhereIsNoAnswer() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        viewer.pointer(85, 45, 1);
        viewer.pointer(5, 5, 0);
        assertNull(feedback.poll());
        assertEquals(List.of("pointer 85,45 0", "pointer 5,5 0"), toGuest, "press and its release both swallowed");
    }

    @Test
    void aModalOverlayTakesEveryKeyAndItsKeysAnswer() throws Exception {
        ObjectNode a = args("m1", 40, 20, 0xffff0000);
        a.put("modal", true);
        commands.execute("vnc-overlay-add", a, null);
        viewer.key('a', -1, true);
        viewer.key('a', -1, false);
        click(10, 10); // outside, but modal: swallowed
        assertEquals(List.of("pointer 10,10 0", "pointer 10,10 0", "pointer 10,10 0"), toGuest);
        viewer.key(0xff0d, 0x1c, true); // Return
        JsonNode f = feedback.poll(5, TimeUnit.SECONDS);
        assertEquals("key", f.get("reason").asText());
        assertEquals("ret", f.get("key").asText());
        assertEquals("ok", f.get("hotspot").asText());
        viewer.key(0xff0d, 0x1c, false); // its release is swallowed too, though the overlay is gone
        viewer.key('b', -1, true);
        assertEquals(List.of("pointer 10,10 0", "pointer 10,10 0", "pointer 10,10 0", "key 48 true"), toGuest);
    }

    @Test
    void aTimeoutRemovesItAndSaysSo() throws Exception {
        ObjectNode a = args("m1", 40, 20, 0xffff0000);
        a.put("timeout", 50);
        commands.execute("vnc-overlay-add", a, null);
        JsonNode f = feedback.poll(10, TimeUnit.SECONDS);
        assertEquals("timeout", f.get("reason").asText());
        assertEquals(GUEST, overlays.composite().pixel(100, 50));
    }

    @Test
    void reAddingReplacesAtomicallyAndTheLastAddedIsOnTop() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        commands.execute("vnc-overlay-add", args("m2", 20, 10, 0xff00ff00), null);
        assertEquals(0x00ff00, overlays.composite().pixel(100, 50));
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xff0000ff), null);
        assertEquals(0x0000ff, overlays.composite().pixel(100, 50), "m1 re-added: on top");
        assertEquals(2, commands.execute("query-vnc-overlays", null, null).size());
        commands.execute("vnc-overlay-remove", JSON.createObjectNode().put("id", "m1"), null);
        assertEquals(0x00ff00, overlays.composite().pixel(100, 50));
        assertEquals("no overlay 'm1'", assertThrows(QmpException.class, () -> commands.execute(
                "vnc-overlay-remove", JSON.createObjectNode().put("id", "m1"), null)).description());
    }

    @Test
    void badArgumentsAreRefusedAndChangeNothing() throws Exception {
        commands.execute("vnc-overlay-add", args("m1", 40, 20, 0xffff0000), null);
        int[] before = overlays.composite().snapshot();
        ObjectNode bad = args("m1", 40, 20, 0xff00ff00);
        bad.put("width", 41);
        assertEquals("pixels decode to 3200 bytes, expected 3280", refusal(bad));
        bad = args("m1", 40, 20, 0xff00ff00);
        bad.put("anchor", "middle");
        assertEquals("unknown anchor 'middle'", refusal(bad));
        bad = args("bad id!", 4, 2, 0);
        assertEquals("id must be 1 to 64 of [A-Za-z0-9._-]", refusal(bad));
        bad = args("m1", 40, 20, 0xff00ff00);
        ((com.fasterxml.jackson.databind.node.ArrayNode) bad.get("keys")).addObject().put("key", "esc")
                .put("hotspot", "nope");
        assertEquals("key 'esc' names no hotspot 'nope'", refusal(bad));
        // A zip bomb: a small deflated input that would inflate far past width x height x 4.
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(z)) {
            d.write(new byte[10 << 20]);
        }
        bad = args("m1", 4, 2, 0);
        bad.put("format", "argb32-zlib").put("pixels", Base64.getEncoder().encodeToString(z.toByteArray()));
        assertEquals("pixels inflate to more than 32 bytes", refusal(bad));
        assertTrue(java.util.Arrays.equals(before, overlays.composite().snapshot()), "nothing changed");
        for (int i = 2; i <= VmOverlays.MAX_OVERLAYS; i++) commands.execute("vnc-overlay-add", args("m" + i, 4, 2, 0), null);
        assertEquals("at most 8 overlays per display", refusal(args("m9", 4, 2, 0)));
    }

    private String refusal(ObjectNode a) {
        return assertThrows(QmpException.class, () -> commands.execute("vnc-overlay-add", a, null)).description();
    }

    @Test
    void unknownCommandsAreRefusedLikeQemuDoes() {
        QmpException e = assertThrows(QmpException.class, () -> commands.execute("human-monitor-command", null,
                Duration.ofSeconds(1)));
        assertEquals("CommandNotFound", e.errorClass());
    }
}
