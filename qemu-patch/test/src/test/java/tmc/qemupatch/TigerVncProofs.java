package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.testkit.InputEvent;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.testkit.TigerVncViewer;

/**
 * TigerVNC's viewer as a real third-party client (issue 10, part 4): under Xvfb it shows the overlay pixel for pixel
 * (found near the screen's top left: no window manager runs), and a click made with
 * xdotool on the hot-spot answers it: one VNC_OVERLAY_FEEDBACK, and the guest sees no button. Subclasses pick the
 * QEMU build.
 */
abstract class TigerVncProofs {
    static final Duration WAIT = Duration.ofSeconds(30);

    abstract Path qemu();

    @Test
    void tigerVncShowsTheOverlayAndItsClickAnswersIt() throws Exception {
        try (TestVm vm = TestVm.builder().name(getClass().getSimpleName()).qemu(qemu()).start();
                RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null);
                TigerVncViewer viewer = TigerVncViewer.start(vm.vncPort(), vm.logDir().resolve("tigervnc"))) {
            QmpClient qmp = vm.qmp();
            rfb.awaitFrame(c -> c.mark() > 0, WAIT);
            Frames.awaitIdle(rfb, Duration.ofSeconds(2), Duration.ofSeconds(120));
            int w = rfb.width();
            int[] guest = rfb.pixels();
            // where the viewer draws the remote desktop (its window's top left, below any title bar)
            int[] at = viewer.awaitScreen(s -> s.find(guest, w, 64) != null, WAIT, "the guest's screen").find(guest, w, 64);
            int dx = at[0];
            int dy = at[1];

            Bitmap bitmap = Bitmap.pattern(240, 120);
            qmp.execute("vnc-overlay-add", Qmp.withHotspots(Qmp.overlay("tiger", bitmap),
                    Qmp.hotspot("ok", 20, 70, 100, 40)));
            JsonNode info = Qmp.find(qmp, "tiger");
            int ox = info.path("x").asInt();
            int oy = info.path("y").asInt();
            int[] expected = Frames.composite(guest, w, rfb.height(), bitmap, ox, oy);
            viewer.awaitScreen(s -> s.shows(expected, w, dx, dy), WAIT, "the overlay, pixel for pixel");

            int events = qmp.mark();
            int serial = vm.mark();
            viewer.click(dx + ox + 60, dy + oy + 90);
            JsonNode event = qmp.awaitEvent(events, "VNC_OVERLAY_FEEDBACK", WAIT).path("data");
            assertEquals("tiger", event.path("id").asText());
            assertEquals("click", event.path("reason").asText());
            assertEquals("ok", event.path("hotspot").asText());
            assertEquals("127.0.0.1", event.path("client").path("host").asText());
            viewer.awaitScreen(s -> s.shows(guest, w, dx, dy), WAIT, "the guest again once the click answered");

            // a click outside through the viewer reaches the guest: by then the answering click would have too
            viewer.click(dx + 5, dy + 5);
            vm.serial().awaitInput(serial, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
            List<InputEvent> buttons = vm.inputEventsSince(serial).stream().filter(InputEvent::isButton).toList();
            assertEquals(2, buttons.size(), "only the click outside reached the guest: " + buttons);
            assertEquals(1, qmp.eventsSince(events, "VNC_OVERLAY_FEEDBACK").size());
        }
    }
}
