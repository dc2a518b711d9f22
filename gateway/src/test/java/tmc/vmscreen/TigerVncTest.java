package tmc.vmscreen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;
import tmc.pixels.Framebuffer;
import tmc.rfbserver.RfbTcpListener;
import tmc.testkit.InputEvent;
import tmc.testkit.TestEnv;
import tmc.testkit.TigerVncViewer;
import tmc.testkit.XwdImage;

/**
 * TigerVNC's vncviewer (Debian's tigervnc-viewer, under Xvfb) as a native viewer of the gateway's RFB server for a
 * stock QEMU VM: it negotiates Tight with JPEG and the cursor and desktop-size pseudo-encodings, and decodes what it
 * gets (a decoding error makes vncviewer drop the connection, so it staying connected through the guest's changes, a
 * message with a half-transparent photo-like area and a resolution change is the proof).
 */
class TigerVncTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void tigerVncStaysConnectedThroughEveryKindOfUpdate() throws Exception {
        try (ScreenFixture f = ScreenFixture.start("tigervnc", WAIT);
                // its own Xvfb, waited for (-displayfd): a viewer started before its X server fails to open the display
                TigerVncViewer viewer = TigerVncViewer.start(f.listener.port(),
                        TestEnv.buildDir().resolve("tigervnc"), "-PreferredEncoding=Tight", "-QualityLevel=6",
                        "-AutoSelect=0")) {
            await(f, viewer, "vncviewer connected", () -> f.screen.desktop().clientCount() == 2);
            // The guest's text screen compresses to a few kilobytes with Tight's zlib.
            await(f, viewer, "vncviewer got the first picture", () -> sent(f) > 1000);

            long before = sent(f);
            f.vm.serial().command("say tigervnc-sees-this", WAIT);
            await(f, viewer, "the guest's change", () -> sent(f) > before);

            long beforeMessage = sent(f);
            f.screen.overlayCommands().execute("vnc-overlay-add", photo(f.screen.picture().width() / 2,
                    f.screen.picture().height() / 2), WAIT);
            await(f, viewer, "the message", () -> sent(f) > beforeMessage + 1000);

            f.vm.setResolution(800, 600);
            long beforeResize = sent(f);
            await(f, viewer, "the new resolution", () -> sent(f) > beforeResize + 200);
            assertTrue(viewer.isAlive(), "vncviewer still running: " + viewer.logText());
            assertEquals(2, f.screen.desktop().clientCount(), "vncviewer still connected: " + viewer.logText());
        }
    }

    /**
     * TigerVNC's own viewer, with the VM's VNC password, on a listener behind VNC Authentication: its window shows a
     * message exactly as composited (no JPEG asked for, so every pixel is lossless), a click on the message's
     * hot-spot in that window answers it and never reaches the guest, and the window shows the guest's picture again.
     */
    @Test
    void tigerVncWithThePasswordSeesTheMessagePixelExactAndItsClickAnswersIt() throws Exception {
        Path logDir = TestEnv.buildDir().resolve("tigervnc-password");
        try (ScreenFixture f = ScreenFixture.start("tigervnc-password", WAIT);
             RfbTcpListener secured = RfbTcpListener.start(f.screen.desktop(),
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "s3cret");
             TigerVncViewer viewer = TigerVncViewer.start(secured.port(), logDir, "-SecurityTypes=VncAuth",
                     "-PasswordFile=" + TigerVncViewer.passwordFile(logDir, "s3cret"), "-PreferredEncoding=Tight",
                     "-AutoSelect=0", "-NoJPEG=1")) {
            Framebuffer picture = f.screen.picture();
            int w = picture.width();
            int[] guest = picture.snapshot();
            XwdImage first = viewer.awaitScreen(s -> s.find(guest, w, 64) != null, WAIT, "the guest's screen");
            int[] at = first.find(guest, w, 64);
            int dx = at[0];
            int dy = at[1];

            BlockingQueue<JsonNode> answers = new LinkedBlockingQueue<>();
            f.screen.overlayCommands().onEvent((name, data) -> answers.add(data));
            f.screen.overlayCommands().execute("vnc-overlay-add", button(200, 100), WAIT);
            int[] shown = picture.snapshot();
            viewer.awaitScreen(s -> s.shows(shown, w, dx, dy), WAIT, "the message, pixel for pixel");

            int mark = f.vm.mark();
            JsonNode placed = f.screen.overlayCommands().execute("query-vnc-overlays", null, WAIT).get(0);
            viewer.click(dx + placed.get("x").asInt() + 100, dy + placed.get("y").asInt() + 50);
            JsonNode answer = answers.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertNotNull(answer, "the click in TigerVNC's window answered the message");
            assertEquals("click", answer.get("reason").asText());
            assertEquals("ok", answer.get("hotspot").asText());
            viewer.awaitScreen(s -> s.shows(guest, w, dx, dy), WAIT, "the guest's screen once the message is answered");
            // A click beside it reaches the guest: the input log holds that one and nothing before it.
            viewer.click(dx + 3, dy + 3);
            f.vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
            assertEquals(List.of(1, 0), f.vm.inputEventsSince(mark).stream().filter(InputEvent::isButton)
                    .map(InputEvent::value).toList(), "the answering click never reached the guest");
        }
    }

    /** An opaque two-colour button, all of it one hot-spot "ok", dismissed when answered. */
    private static ObjectNode button(int w, int h) {
        ObjectNode a = overlay("button", w, h, (x, y) -> x < 3 || y < 3 || x >= w - 3 || y >= h - 3
                ? 0xffc04020 : 0xff3090e0);
        a.putArray("hotspots").addObject().put("id", "ok").put("x", 0).put("y", 0).put("width", w).put("height", h);
        return a;
    }

    private static long sent(ScreenFixture f) {
        List<Long> bytes = f.screen.desktop().bytesSent();
        return bytes.size() < 2 ? 0 : bytes.get(1);
    }

    /** An overlay with a gradient (JPEG territory) over a half-transparent band and an opaque border. */
    private static ObjectNode photo(int w, int h) {
        return overlay("photo", w, h, (x, y) -> {
            boolean border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
            int alpha = border ? 255 : (y < h / 4 ? 128 : 255);
            return alpha << 24 | (x * 255 / w) << 16 | (y * 255 / h) << 8 | ((x + y) & 0xff);
        });
    }

    /** vnc-overlay-add's arguments for a {@code w}x{@code h} overlay whose pixel (x, y) is {@code argb} (0xAARRGGBB). */
    private static ObjectNode overlay(String id, int w, int h, IntBinaryOperator argb) {
        byte[] px = new byte[w * h * 4];
        for (int y = 0, o = 0; y < h; y++) {
            for (int x = 0; x < w; x++, o += 4) {
                int p = argb.applyAsInt(x, y);
                px[o] = (byte) (p >>> 24);
                px[o + 1] = (byte) (p >> 16);
                px[o + 2] = (byte) (p >> 8);
                px[o + 3] = (byte) p;
            }
        }
        ObjectNode a = new ObjectMapper().createObjectNode();
        a.put("id", id).put("width", w).put("height", h).put("pixels", Base64.getEncoder().encodeToString(px));
        return a;
    }

    private static void await(ScreenFixture f, TigerVncViewer viewer, String what, BooleanSupplier condition)
            throws InterruptedException {
        if (!f.screen.desktop().awaitProgress(condition, WAIT)) {
            throw new AssertionError(what + " not seen within " + WAIT + "; vncviewer: " + viewer.logText());
        }
    }
}
