package tmc.vmscreen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import tmc.testkit.TestEnv;
import tmc.testkit.TigerVncViewer;

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

    private static long sent(ScreenFixture f) {
        List<Long> bytes = f.screen.desktop().bytesSent();
        return bytes.size() < 2 ? 0 : bytes.get(1);
    }

    /** An overlay with a gradient (JPEG territory) over a half-transparent band and an opaque border. */
    private static ObjectNode photo(int w, int h) {
        byte[] px = new byte[w * h * 4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 4;
                boolean border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
                px[o] = (byte) (border ? 255 : (y < h / 4 ? 128 : 255));
                px[o + 1] = (byte) (x * 255 / w);
                px[o + 2] = (byte) (y * 255 / h);
                px[o + 3] = (byte) ((x + y) & 0xff);
            }
        }
        ObjectNode a = new ObjectMapper().createObjectNode();
        a.put("id", "photo").put("width", w).put("height", h).put("pixels", Base64.getEncoder().encodeToString(px));
        return a;
    }

    private static void await(ScreenFixture f, TigerVncViewer viewer, String what, BooleanSupplier condition)
            throws InterruptedException {
        if (!f.screen.desktop().awaitProgress(condition, WAIT)) {
            throw new AssertionError(what + " not seen within " + WAIT + "; vncviewer: " + viewer.logText());
        }
    }
}
