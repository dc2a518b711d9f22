package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * Overlays are placed per VNC display: with two displays ({@code default} on TCP, {@code side} on a unix socket), an
 * overlay for {@code side} shows only there, is listed only there, and its answer names that display.
 */
class OverlayDisplaysTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    /** The qemu-system-x86_64 under test: QEMU 10.0 here, 10.2 in {@link OverlayDisplaysQemu102Test}. */
    Path qemu() {
        return TestEnv.qemu();
    }

    @Test
    void overlayShowsAndAnswersOnlyOnItsDisplay() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "tmc-side-");
        Path side = dir.resolve("vnc.sock");
        try (TestVm vm = TestVm.builder().name("displays").qemu(qemu())
                        .extraArgs("-vnc", "unix:" + side + ",id=side").start();
                RfbClient main = RfbClient.connect("127.0.0.1", vm.vncPort(), null);
                RfbClient other = RfbClient.connect(UnixTransport.connect(side), null)) {
            QmpClient qmp = vm.qmp();
            JsonNode displays = qmp.execute("query-vnc-overlay-displays");
            assertEquals(2, displays.size(), displays.toString());
            assertEquals("default", displays.get(0).path("id").asText());
            assertEquals("side", displays.get(1).path("id").asText());

            main.awaitFrame(c -> c.mark() > 0, WAIT);
            other.awaitFrame(c -> c.mark() > 0, WAIT);
            Frames.awaitIdle(main, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int w = main.width();
            int h = main.height();
            int[] guest = main.pixels();
            Bitmap bitmap = Bitmap.pattern(120, 60);
            qmp.execute("vnc-overlay-add", Qmp.withHotspots(Qmp.overlay("only-side", bitmap),
                    Qmp.hotspot("ok", 0, 0, 120, 60)).set("displays", QmpClient.JSON.createArrayNode().add("side")));

            JsonNode listed = qmp.execute("query-vnc-overlays");
            assertEquals(1, listed.size(), listed.toString());
            assertEquals("side", listed.get(0).path("display").asText());
            int x = listed.get(0).path("x").asInt();
            int y = listed.get(0).path("y").asInt();
            Frames.await(other, Frames.composite(guest, w, h, bitmap, x, y), WAIT, "display 'side'");
            Frames.awaitFullUpdate(main, WAIT);
            assertEquals(null, Frames.diff(guest, main.pixels(), w), "display 'default' must not show it");

            int events = qmp.mark();
            main.click(x + 10, y + 10); // no overlay on 'default': nothing to answer
            other.click(x + 10, y + 10);
            JsonNode event = qmp.awaitEvent(events, "VNC_OVERLAY_FEEDBACK", WAIT).path("data");
            assertEquals("side", event.path("display").asText());
            assertEquals("ok", event.path("hotspot").asText());
            assertEquals(1, qmp.eventsSince(events, "VNC_OVERLAY_FEEDBACK").size());
        } finally {
            Files.deleteIfExists(side);
            Files.deleteIfExists(dir);
        }
    }
}
