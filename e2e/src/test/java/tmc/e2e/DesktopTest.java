package tmc.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.WebElement;
import tmc.messages.OverlayCommand;
import tmc.render.Bitmap;
import tmc.store.Message;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.RfbEncodings;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * The graphical desktop guest (Xorg on QEMU's std VGA, twm, an xterm that never stops printing, xclock;
 * scripts/build-desktop-guest.sh) through the gateway and noVNC in Chromium: a message over the busy desktop stays
 * pixel-exact while the desktop around it changes; a resolution change (xrandr in the guest) re-lays the message
 * out; a click on the message never reaches the X server and a click beside it does; noVNC's local cursor (the
 * guest's X cursor, sent by QEMU) is there over the message and beside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DesktopTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private TestVm vm;
    private E2eGateway gateway;
    private final List<String> posted = new java.util.ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        long t0 = System.nanoTime();
        // lossy=on: QEMU may send JPEG to clients that ask for it (the Tight+JPEG proof); noVNC asks too.
        vm = TestVm.builder().name("desktop").guest(TestEnv.desktopGuest()).memory(1024).vncOptions("lossy=on")
                .start();
        System.out.printf("RESULT desktop-guest bootSeconds=%.1f (TCG, to X with its windows mapped)%n",
                (System.nanoTime() - t0) / 1e9);
        gateway = E2eGateway.start("desktop", vms -> E2eGateway.vm(vms, "desk", "acme", vm.vncPort(),
                vm.qmpSocket()));
    }

    /** Takes every message a test sent off the screen, so the next test starts from a bare desktop. */
    @AfterEach
    void retractAll() throws Exception {
        for (String id : posted) {
            retract(id);
        }
        posted.clear();
    }

    @AfterAll
    void stop() throws Exception {
        E2eGateway.closeAll(gateway, vm);
    }

    @Test
    void messageOverABusyDesktop() throws Exception {
        try (Browser browser = Browser.start("desktop")) {
            browser.openConsole(gateway.console("desk", E2eGateway.tenantToken("alice", "acme")), "connected", WAIT);
            String id = post("Maintenance at 22:00", "This desktop restarts tonight. Save your work.");

            // 1. Pixel-exact over a desktop that keeps changing around it.
            JsonNode on = awaitMatch(browser, id);
            BufferedImage first = browser.canvas();
            BufferedImage later = browser.canvasUntil(c -> changedOutside(first, c, on) >= 50, WAIT);
            int changed = changedOutside(first, later, on);
            double exact = match(later, bitmap(id), on.path("x").asInt(), on.path("y").asInt());
            System.out.printf("RESULT desktop-busy changedPixelsOutside=%d messageMatch=%.4f%n", changed, exact);
            assertTrue(changed >= 50, "the desktop around the message changes (xterm, xclock): " + changed);
            assertEquals(1.0, exact, 0.0, "the message stays pixel-exact over the busy desktop");
            browser.screenshot("desktop-message.png");

            // 2. noVNC's local cursor: the guest's X cursor shape, over the message and beside it.
            WebElement canvas = browser.find("#screen canvas");
            int[] okCentre = centre(on, "ok");
            browser.pointCanvas(okCentre[0], okCentre[1], false);
            String over = cursor(browser, canvas);
            browser.pointCanvas(5, 5, false);
            String beside = cursor(browser, canvas);
            assertTrue(over.startsWith("url(") || over.equals("none"), "a local cursor over the message: " + over);
            assertTrue(beside.startsWith("url(") || beside.equals("none"), "a local cursor beside it: " + beside);

            // 3. A click on the message answers it and never reaches the X server; a click beside it does.
            int mark = vm.mark();
            browser.pointCanvas(okCentre[0], okCentre[1], true);
            gateway.awaitDelivery(id, "answered", WAIT);
            List<String> seen = xiLinesBeforeBarrier(mark);
            assertTrue(xiPresses(seen) == 0, "the X server saw the answering click: " + seen);
            int[] beside2 = {on.path("x").asInt() - 20, on.path("y").asInt() + on.path("height").asInt() / 2};
            browser.pointCanvas(beside2[0], beside2[1], true);
            vm.serial().awaitLine(mark, DesktopTest::xiPress, WAIT);

            // 4. The guest changes resolution: the next message is laid out for the new size, centred on it.
            vm.setResolution(1280, 800);
            String id2 = post("Resolution changed", "Laid out again for 1280x800.");
            JsonNode on2 = awaitMatch(browser, id2);
            BufferedImage big = browser.canvas();
            assertEquals(1280, big.getWidth());
            assertEquals(800, big.getHeight());
            assertEquals((1280 - on2.path("width").asInt()) / 2, on2.path("x").asInt(), 1.0, on2.toString());
            assertNotEquals(on.path("x").asInt(), on2.path("x").asInt());
            browser.screenshot("desktop-message-1280x800.png");
        }
    }

    /**
     * Figures, not a speed proof: what a client receives over the busy desktop in 5 s, without and with a message
     * on screen (a static message costs nothing after its first update). Raw encoding (the testkit's client), direct
     * to QEMU's VNC server.
     */
    @Test
    void trafficOverTheBusyDesktopWithAndWithoutAMessage() throws Exception {
        try (RfbClient rfb = tmc.testkit.RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
            rfb.awaitUpdate(rfb.mark(), WAIT);
            long[] without = traffic(rfb);
            String id = post("Traffic", "A static message over a busy desktop.");
            gateway.awaitDelivery(id, "shown", WAIT);
            rfb.awaitUpdate(rfb.mark(), WAIT); // the update that brings the message
            long[] with = traffic(rfb);
            System.out.printf("RESULT desktop-traffic encoding=raw seconds=5 withoutBytesPerSecond=%d "
                            + "withBytesPerSecond=%d withoutUpdatesPerSecond=%.1f withUpdatesPerSecond=%.1f "
                            + "ratioBytes=%.3f%n", without[0] / 5, with[0] / 5, without[1] / 5.0, with[1] / 5.0,
                    (double) with[0] / Math.max(1, without[0]));
            assertTrue(without[1] > 0 && with[1] > 0, "the desktop keeps sending updates");
        }
    }

    /**
     * A Tight client that accepts JPEG (QEMU built with JPEG, qemu-patch/build.sh): the busy desktop reaches it
     * partly as JPEG rectangles, the message stays exact (QEMU keeps overlay rectangles off the lossy path).
     */
    @Test
    void tightJpegClientSeesTheMessageSharpOverAJpegDesktop() throws Exception {
        try (RfbClient rfb = RfbClient.Options.plain()
                .withEncodings(RfbEncodings.TIGHT, RfbEncodings.quality(3), RfbEncodings.compression(1))
                .connect("127.0.0.1", vm.vncPort())) {
            rfb.awaitUpdate(rfb.mark(), WAIT);
            String id = post("Sharp over JPEG", "The desktop around this message is JPEG; the message is not.");
            gateway.awaitDelivery(id, "shown", WAIT);
            int mark = rfb.mark();
            JsonNode on = null;
            long jpeg = 0;
            double exact = 0;
            int exactSamples = 0;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline && (jpeg < 5 || exactSamples < 5)) {
                rfb.awaitUpdate(rfb.mark(), WAIT);
                on = overlay(id);
                Bitmap b = bitmap(id);
                if (on == null || b.width() != on.path("width").asInt()) {
                    continue;
                }
                JsonNode o = on;
                jpeg = rfb.updatesSince(mark).stream().flatMap(u -> u.rects().stream())
                        .filter(r -> r.kind().equals("jpeg")).count();
                exact = match(rfb.image(), b, o.path("x").asInt(), o.path("y").asInt());
                exactSamples = exact == 1.0 ? exactSamples + 1 : 0;
            }
            JsonNode o = on;
            long jpegOverMessage = rfb.updatesSince(mark).stream().flatMap(u -> u.rects().stream())
                    .filter(r -> r.kind().equals("jpeg") && o != null && r.intersects(o.path("x").asInt(),
                            o.path("y").asInt(), o.path("width").asInt(), o.path("height").asInt()))
                    .count();
            System.out.printf("RESULT desktop-tight-jpeg jpegRects=%d jpegRectsOverMessage=%d messageMatch=%.4f%n",
                    jpeg, jpegOverMessage, exact);
            assertTrue(jpeg >= 5, "the busy desktop reaches the client as JPEG: " + jpeg + " JPEG rectangles");
            assertEquals(1.0, exact, 0.0, "the message is exact in a JPEG client");
            assertEquals(0, jpegOverMessage, "no JPEG rectangle covers the message");
        }
    }

    // ===== helpers =====

    private JsonNode overlay(String id) {
        for (JsonNode o : vm.qmp().execute("query-vnc-overlays")) {
            if (o.path("id").asText().equals("tmc-" + id)) {
                return o;
            }
        }
        return null;
    }

    private String post(String title, String body) throws Exception {
        String json = """
                {"vms": ["desk"], "title": "%s", "body": "%s", "severity": "warning",
                 "buttons": [{"id": "ok", "label": "OK"}, {"id": "later", "label": "Later", "cancel": true}],
                 "ttlSeconds": 600}""".formatted(title, body);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url("/api/v1/messages")))
                .header("Authorization", "Bearer " + E2eGateway.adminToken())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        String id = E2eGateway.JSON.readTree(r.body()).path("id").asText();
        posted.add(id);
        return id;
    }

    /** Bytes and framebuffer updates received in a 5 s window. */
    private static long[] traffic(RfbClient rfb) {
        long bytes0 = rfb.bytesReceived();
        int mark = rfb.mark();
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < end) {
            try {
                rfb.awaitUpdate(rfb.mark(), Duration.ofNanos(Math.max(1, end - System.nanoTime())));
            } catch (AssertionError e) {
                break; // no update before the window closed
            }
        }
        return new long[] {rfb.bytesReceived() - bytes0, rfb.updatesSince(mark).size()};
    }

    private void retract(String id) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url("/api/v1/messages/" + id)))
                .header("Authorization", "Bearer " + E2eGateway.adminToken()).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    /** The message as the gateway lays it out for the VM's current screen. */
    private Bitmap bitmap(String id) {
        Message m = gateway.messages.service().message(id).orElseThrow();
        JsonNode d = vm.qmp().execute("query-vnc-overlay-displays").get(0);
        return OverlayCommand.render(m, d.path("width").asInt(), d.path("height").asInt());
    }

    /**
     * Waits until QEMU lists the message and the browser's canvas shows it exactly where QEMU says: checked after
     * every draw onto the canvas (QEMU lists the overlay before the update that shows it leaves for the browser).
     */
    private JsonNode awaitMatch(Browser browser, String id) {
        JsonNode shown = browser.untilDrawn(() -> {
            JsonNode o = overlay(id);
            if (o == null) {
                return null;
            }
            Bitmap b = bitmap(id);
            BufferedImage canvas = browser.canvas();
            return canvas != null && b.width() == o.path("width").asInt()
                    && match(canvas, b, o.path("x").asInt(), o.path("y").asInt()) >= 1.0 ? o : null;
        }, WAIT);
        assertTrue(shown != null, "message " + id + " never showed exactly on the canvas");
        return shown;
    }

    /** Fraction of the bitmap's opaque pixels the canvas shows exactly. */
    static double match(BufferedImage canvas, Bitmap b, int x0, int y0) {
        int opaque = 0;
        int same = 0;
        for (int y = 0; y < b.height(); y++) {
            for (int x = 0; x < b.width(); x++) {
                int p = b.pixel(x, y);
                int sx = x0 + x;
                int sy = y0 + y;
                if (p >>> 24 != 0xff || sx >= canvas.getWidth() || sy >= canvas.getHeight()) {
                    continue;
                }
                opaque++;
                if ((canvas.getRGB(sx, sy) & 0xffffff) == (p & 0xffffff)) {
                    same++;
                }
            }
        }
        return opaque == 0 ? 0 : (double) same / opaque;
    }

    /** Pixels that differ between two captures outside the overlay's rectangle. */
    private static int changedOutside(BufferedImage a, BufferedImage b, JsonNode o) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return Integer.MAX_VALUE;
        }
        int x0 = o.path("x").asInt();
        int y0 = o.path("y").asInt();
        int x1 = x0 + o.path("width").asInt();
        int y1 = y0 + o.path("height").asInt();
        int n = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                boolean inside = x >= x0 && x < x1 && y >= y0 && y < y1;
                if (!inside && a.getRGB(x, y) != b.getRGB(x, y)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static int[] centre(JsonNode overlay, String hotspot) {
        for (JsonNode h : overlay.path("hotspots")) {
            if (h.path("id").asText().equals(hotspot)) {
                return new int[] {overlay.path("x").asInt() + h.path("x").asInt() + h.path("width").asInt() / 2,
                        overlay.path("y").asInt() + h.path("y").asInt() + h.path("height").asInt() / 2};
            }
        }
        throw new AssertionError("no hot-spot " + hotspot + " in " + overlay);
    }

    /**
     * The CSS cursor noVNC shows on the canvas: the guest's cursor image as a data URL, once noVNC has set it on the
     * element (a MutationObserver on its style); what it is when {@link #WAIT} runs out otherwise.
     */
    private static String cursor(Browser browser, WebElement canvas) {
        return (String) browser.jsAsync("""
                const [el, ms, done] = arguments;
                const now = () => getComputedStyle(el).cursor;
                if (now().startsWith('url(')) return done(now());
                const o = new MutationObserver(() => {
                  if (now().startsWith('url(')) { o.disconnect(); clearTimeout(t); done(now()); }
                });
                const t = setTimeout(() => { o.disconnect(); done(now()); }, ms);
                o.observe(el, {attributes: true, attributeFilter: ['style', 'class']});
                """, canvas, WAIT.toMillis());
    }

    /**
     * What the X server reported from {@code mark} up to an input barrier: two pointer moves through QMP (x 1000,
     * then 1001 in the tablet's units, so that at least one moves), awaited as X's first raw motion after them.
     * Nothing else moves the pointer meanwhile, and X reads the tablet in order: a press QEMU passed on before the
     * barrier is reported before it. (The desktop guest's kernel-level input log stays empty: X grabs the devices.)
     */
    private List<String> xiLinesBeforeBarrier(int mark) {
        int barrier = vm.mark();
        for (int x : new int[] {1000, 1001}) {
            ObjectNode args = QmpClient.args();
            args.putArray("events").addObject().put("type", "abs").putObject("data").put("axis", "x").put("value", x);
            vm.qmp().execute("input-send-event", args);
        }
        java.util.function.Predicate<String> rawMotion = l -> l.startsWith("xi2") && l.contains("(RawMotion)");
        vm.serial().awaitLine(barrier, rawMotion, WAIT);
        List<String> after = vm.serial().linesSince(barrier);
        int at = 0;
        while (!rawMotion.test(after.get(at))) {
            at++;
        }
        return vm.serial().linesSince(mark).subList(0, barrier - mark + at);
    }

    /** Button presses the X server reported (xinput test-xi2 --root on the guest's serial port). */
    private static long xiPresses(List<String> lines) {
        return lines.stream().filter(DesktopTest::xiPress).count();
    }

    /**
     * A press as the X server got it from the device (RawButtonPress, reported to the root whatever window is under
     * the pointer), or a ButtonPress delivered to the root (none when a client window under the pointer selects it).
     */
    private static boolean xiPress(String line) {
        return line.startsWith("xi2") && (line.contains("(RawButtonPress)") || line.contains("(ButtonPress)"));
    }
}
