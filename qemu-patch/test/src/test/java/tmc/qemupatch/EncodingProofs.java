package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.RfbClient.Options;
import tmc.testkit.RfbClient.Rect;
import tmc.testkit.RfbEncodings;
import tmc.testkit.TestCertificates;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * The overlay in the encodings real clients use (issue 10, part 4), on a QEMU built like Debian's (JPEG, PNG,
 * GnuTLS, SASL): pixel-exact in every lossless encoding; with {@code lossy=on} and a client asking for JPEG, never
 * JPEG under the overlay while the busy guest text beside it is, and no "lossless refresh" of the overlay's area once
 * the guest stops drawing under it; and through VeNCrypt with X.509 TLS. One VM serves the class: its main VNC
 * display has {@code lossy=on}, a second one TLS ({@code tls-creds-x509}, certificates made at test time).
 * Subclasses pick the QEMU build.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EncodingProofs {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String FEEDBACK = "VNC_OVERLAY_FEEDBACK";
    static final String ESC = "\u001b";

    TestVm vm;
    QmpClient qmp;
    TestCertificates certs;
    int tlsPort;

    /** The qemu-system-x86_64 under test. */
    abstract Path qemu();

    @BeforeAll
    void boot() throws Exception {
        Path dir = Files.createDirectories(TestEnv.buildDir().resolve("tls"));
        certs = TestCertificates.create(Files.createTempDirectory(dir, getClass().getSimpleName()));
        try (ServerSocket probe = new ServerSocket(0)) {
            tlsPort = probe.getLocalPort(); // QEMU takes display numbers: port - 5900
        }
        vm = TestVm.builder().name(getClass().getSimpleName()).qemu(qemu()).vncOptions("lossy=on")
                .extraArgs("-object", "tls-creds-x509,id=tls0,endpoint=server,verify-peer=off,dir=" + certs.dir(),
                        "-vnc", "127.0.0.1:" + (tlsPort - 5900) + ",tls-creds=tls0,id=tls")
                .start();
        qmp = vm.qmp();
    }

    @AfterEach
    void leaveNoOverlay() {
        assertTrue(vm.isAlive(), "QEMU died; log in " + vm.qemuLog());
        Qmp.clear(qmp);
    }

    @AfterAll
    void stop() {
        if (vm != null) vm.close();
    }

    @Test
    void overlayIsPixelExactInEveryLosslessEncoding() throws Exception {
        Map<Integer, int[]> offers = new LinkedHashMap<>();
        offers.put(RfbEncodings.RAW, new int[] {RfbEncodings.RAW, RfbEncodings.EXTENDED_KEY_EVENT,
            RfbEncodings.CURSOR, RfbEncodings.ALPHA_CURSOR});
        offers.put(RfbEncodings.HEXTILE, new int[] {RfbEncodings.HEXTILE});
        offers.put(RfbEncodings.ZLIB, new int[] {RfbEncodings.ZLIB, RfbEncodings.compression(6)});
        offers.put(RfbEncodings.ZRLE, new int[] {RfbEncodings.ZRLE});
        offers.put(RfbEncodings.TIGHT, new int[] {RfbEncodings.TIGHT, RfbEncodings.compression(9)});
        offers.put(RfbEncodings.TIGHT_PNG, new int[] {RfbEncodings.TIGHT_PNG, RfbEncodings.compression(2)});
        List<RfbClient> clients = new ArrayList<>();
        try {
            for (int[] offer : offers.values()) {
                RfbClient c = Options.plain().withEncodings(offer).connect("127.0.0.1", vm.vncPort());
                clients.add(c);
                c.awaitFrame(x -> x.mark() > 0, WAIT);
            }
            RfbClient raw = clients.get(0);
            Frames.awaitIdle(raw, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int w = raw.width();
            int h = raw.height();
            List<Integer> marks = clients.stream().map(RfbClient::mark).toList();
            int[] before = raw.pixels();

            // translucent and opaque pixels at an unaligned place, over the guest's text
            Bitmap bitmap = Bitmap.pattern(301, 141);
            qmp.execute("vnc-overlay-add", Qmp.overlay("enc", bitmap).put("anchor", "top-left")
                    .put("x-offset", 37).put("y-offset", 21));
            int[] expected = Frames.composite(before, w, h, bitmap, 37, 21);
            int i = 0;
            for (int encoding : offers.keySet()) {
                RfbClient c = clients.get(i);
                Frames.await(c, expected, WAIT, RfbEncodings.name(encoding) + " client");
                assertTrue(rectsSince(c, marks.get(i)).stream().anyMatch(r -> r.encoding() == encoding),
                        RfbEncodings.name(encoding) + " client got the overlay in " + rectsSince(c, marks.get(i)));
                i++;
            }

            // the guest writes under the overlay: still exact everywhere, in every encoding
            for (int line = 0; line < 12; line++) vm.serial().command("say encodings " + "=+".repeat(line + 10), WAIT);
            Frames.awaitIdle(raw, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int[] guest = screendump("encodings", w, h);
            expected = Frames.composite(guest, w, h, bitmap, 37, 21);
            i = 0;
            for (int encoding : offers.keySet()) {
                Frames.await(clients.get(i++), expected, WAIT, RfbEncodings.name(encoding) + " client, guest drawing");
            }

            Qmp.remove(qmp, "enc");
            i = 0;
            for (int encoding : offers.keySet()) {
                Frames.await(clients.get(i++), guest, WAIT, RfbEncodings.name(encoding) + " client, overlay removed");
            }

            // QEMU acknowledged the extended key events (a -258 rectangle); one reaches the guest as its scancode
            assertTrue(rectsSince(raw, 0).stream().anyMatch(r -> r.encoding() == RfbEncodings.EXTENDED_KEY_EVENT),
                    "no ExtendedKeyEvent acknowledgement in " + rectsSince(raw, 0));
            int serial = vm.mark();
            raw.qemuKey('q', 0x10, true);
            raw.qemuKey('q', 0x10, false);
            vm.serial().awaitInput(serial, e -> e.isKey() && e.code() == 16 && e.value() == 0, WAIT); // KEY_Q
        } finally {
            for (RfbClient c : clients) c.close();
        }
    }

    /*
     * Text mode is 80x25 cells of 9x16 pixels (720x400). Region A, rows 2-5 and columns 2-25 (x 9-233, y 16-79), is
     * far from the overlay (x 384-639, y 192-319): QEMU may send it as JPEG. Region B, rows 14-17 and columns 46-69
     * (x 405-620, y 208-271), lies under it. QEMU's lossy bookkeeping works in 64x64 cells: A's cells are x < 256,
     * y < 128, none of the overlay's. Both regions end inside a cell (not on a 64-pixel line), so QEMU's update
     * frequency for their rectangles averages busy cells only.
     */
    static final int OVERLAY_X = 384;
    static final int OVERLAY_Y = 192;
    static final int OVERLAY_W = 256;
    static final int OVERLAY_H = 128;

    @Test
    void lossyTightKeepsJpegOffTheOverlayAndDoesNotRefreshIt() throws Exception {
        try (RfbClient rfb = Options.plain().withEncodings(RfbEncodings.TIGHT, RfbEncodings.quality(2),
                        RfbEncodings.compression(6)).connect("127.0.0.1", vm.vncPort())) {
            rfb.awaitFrame(c -> c.mark() > 0, WAIT);
            Frames.awaitIdle(rfb, Duration.ofSeconds(2), Duration.ofSeconds(120));
            assertEquals(720, rfb.width(), "text mode expected");
            Bitmap bitmap = translucent(OVERLAY_W, OVERLAY_H);
            qmp.execute("vnc-overlay-add", Qmp.overlay("lossy", bitmap).put("anchor", "top-left")
                    .put("x-offset", OVERLAY_X).put("y-offset", OVERLAY_Y));
            // The reference is the guest's own picture, not this client's copy: at quality 2 the first frame may have
            // come as JPEG (the guest had just been busy), and QEMU blends the overlay over the exact pixels. The
            // client's lossy areas are sent again losslessly once the guest is idle, so the whole frame converges.
            int[] before = screendump("lossy-guest", 720, 400);
            Frames.await(rfb, Frames.composite(before, 720, 400, bitmap, OVERLAY_X, OVERLAY_Y), WAIT,
                    "overlay shown");

            int mark = rfb.mark();
            long start = System.nanoTime();
            int frames = 80;
            for (int f = 0; f < frames; f++) vm.serial().command("say " + busyText(f), WAIT);
            long stop = System.nanoTime();
            double rate = frames / ((stop - start) / 1e9);

            List<Rect> sent = rectsSince(rfb, mark);
            List<Rect> jpeg = sent.stream().filter(r -> r.kind().equals("jpeg")).toList();
            assertFalse(jpeg.isEmpty(), "QEMU sent no JPEG for busy text redrawn at " + Math.round(rate) + " Hz: " + sent);
            assertEquals(List.of(), jpeg.stream().filter(EncodingProofs::touchesOverlay).toList(),
                    "JPEG rectangles over the overlay");
            assertTrue(sent.stream().anyMatch(r -> touchesOverlay(r) && r.encoding() == RfbEncodings.TIGHT),
                    "the text under the overlay was sent (blended, lossless): " + sent);

            // Once the guest stops, QEMU sends the JPEG area again losslessly (after 2 s); the overlay's is not lossy
            rfb.awaitFrame(c -> c.updatesSince(mark).stream().anyMatch(u -> u.nanoTime() > stop + 1_500_000_000L
                    && u.rects().stream().anyMatch(r -> r.intersects(9, 16, 225, 64))), WAIT);
            List<Rect> late = new ArrayList<>();
            for (RfbClient.Update u : rfb.updatesSince(mark)) {
                if (u.nanoTime() > stop + 1_000_000_000L) late.addAll(u.rects());
            }
            assertEquals(List.of(), late.stream().filter(EncodingProofs::touchesOverlay).toList(),
                    "lossless refresh noise over the overlay after the guest stopped (late updates: " + late + ")");
            assertTrue(late.stream().noneMatch(r -> r.kind().equals("jpeg")), "the refresh is lossless: " + late);

            int[] guest = screendump("lossy", 720, 400);
            Frames.await(rfb, Frames.composite(guest, 720, 400, bitmap, OVERLAY_X, OVERLAY_Y), WAIT,
                    "every pixel lossless after the refresh, the overlay exact");
        }
    }

    @Test
    void veNCryptX509ClientSeesTheOverlayAndAnswersIt() throws Exception {
        IOException plain = assertThrows(IOException.class,
                () -> Options.plain().connect("127.0.0.1", tlsPort).close());
        assertTrue(plain.getMessage().contains("security type"), plain.getMessage());

        try (RfbClient rfb = Options.plain().withTls(certs.clientContext()).withEncodings(RfbEncodings.ZRLE)
                .connect("127.0.0.1", tlsPort)) {
            rfb.awaitFrame(c -> c.mark() > 0, WAIT);
            Frames.awaitIdle(rfb, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int[] guest = rfb.pixels();
            Bitmap bitmap = Bitmap.pattern(200, 100);
            ObjectNode overlay = Qmp.withHotspots(Qmp.overlay("tls", bitmap), Qmp.hotspot("ok", 10, 60, 80, 30));
            overlay.putArray("displays").add("tls");
            qmp.execute("vnc-overlay-add", overlay);
            JsonNode info = Qmp.find(qmp, "tls");
            assertEquals("tls", info.path("display").asText());
            int ox = info.path("x").asInt();
            int oy = info.path("y").asInt();
            Frames.await(rfb, Frames.composite(guest, rfb.width(), rfb.height(), bitmap, ox, oy), WAIT,
                    "overlay through TLS");
            int events = qmp.mark();
            rfb.click(ox + 40, oy + 75);
            JsonNode event = qmp.awaitEvent(events, FEEDBACK, WAIT).path("data");
            assertEquals("ok", event.path("hotspot").asText());
            assertEquals("tls", event.path("display").asText());
            assertEquals("127.0.0.1", event.path("client").path("host").asText());
            Frames.await(rfb, guest, WAIT, "overlay dismissed by the click");
        }
    }

    /** Translucent everywhere (alpha 0x90): what the guest draws under it is blended and sent, never hidden. */
    static Bitmap translucent(int width, int height) {
        int[] px = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) px[y * width + x] = 0x90000000 | (x & 0xff) << 16 | (y * 2 & 0xff) << 8 | 0x60;
        }
        return new Bitmap(width, height, px);
    }

    /**
     * One frame of busy text: regions B (under the overlay) then A, four rows each, every row in several colours
     * that shift each frame, so tight sees more than two colours (a candidate for JPEG) and every cell changes.
     */
    static String busyText(int frame) {
        StringBuilder b = new StringBuilder("busy");
        appendRegion(b, 14, 46, frame);
        appendRegion(b, 2, 2, frame);
        return b.append(ESC).append("[0m").toString();
    }

    private static void appendRegion(StringBuilder b, int row, int col, int frame) {
        for (int r = 0; r < 4; r++) {
            b.append(ESC).append('[').append(row + r).append(';').append(col).append('H');
            for (int seg = 0; seg < 4; seg++) {
                int k = (seg + r + frame) % 7;
                b.append(ESC).append('[').append(31 + k).append(';').append(41 + (k + 3) % 7).append('m');
                for (int c = 0; c < 6; c++) b.append((char) ('A' + (frame + seg * 6 + c + r) % 26));
            }
        }
    }

    static boolean touchesOverlay(Rect r) {
        return r.intersects(OVERLAY_X, OVERLAY_Y, OVERLAY_W, OVERLAY_H);
    }

    static List<Rect> rectsSince(RfbClient c, int mark) {
        return c.updatesSince(mark).stream().flatMap(u -> u.rects().stream()).toList();
    }

    int[] screendump(String name, int w, int h) throws IOException {
        Path dump = vm.logDir().resolve("screendump-" + name + ".ppm").toAbsolutePath();
        qmp.execute("screendump", QmpClient.args().put("filename", dump.toString()));
        return Frames.readPpm(dump, w, h);
    }
}
