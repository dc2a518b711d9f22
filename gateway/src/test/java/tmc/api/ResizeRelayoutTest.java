package tmc.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * The message is laid out again when the guest changes resolution, driven by QEMU's VNC_OVERLAY_DISPLAY_RESIZED
 * (no polling), and the figure for the closing note: the guest's resolution change → the VNC server's new size (a
 * client's DesktopSize; QEMU's display refresh notices the mode) → the re-laid-out message listed by QEMU.
 */
class ResizeRelayoutTest {
    static final Duration T = Duration.ofSeconds(60);

    @Test
    void resolutionChangeLaysTheMessageOutAgainAtOnce() throws Exception {
        try (TestVm vm = TestVm.builder().name("relayout").start();
             ApiFixture f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", "unix:" + vm.qmpSocket(),
                     "tcp:127.0.0.1:" + vm.vncPort())), ApiFixture.tempStore());
             RfbClient watcher = RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
            ApiFixture.await("QMP connected", T, () -> f.messages.service().vmStatus().get(0).qmpConnected());
            vm.setResolution(800, 600);
            watcher.awaitFrame(c -> c.width() == 800, T);
            String id = f.post("/messages", "{\"vms\": [\"vm1\"], \"title\": \"Resize\", \"body\": \""
                    + "A message long enough to need the full width of its box when the screen is large. ".repeat(3)
                    + "\"}").json().path("id").asText();
            EndToEndTest.OnScreen shown = EndToEndTest.awaitOverlay(vm, "tmc-" + id);

            List<Double> noticed = new ArrayList<>();
            List<Double> relaid = new ArrayList<>();
            int[][] sizes = {{640, 480}, {800, 600}, {640, 480}, {800, 600}};
            for (int[] size : sizes) {
                int before = shown.width();
                long t0 = System.nanoTime();
                vm.setResolution(size[0], size[1]);
                watcher.awaitFrame(c -> c.width() == size[0], T);
                long t1 = System.nanoTime();
                // The new layout changes the screen: QEMU lists it before the update that shows it reaches us.
                EndToEndTest.OnScreen now = watcher.untilUpdated(() -> {
                    EndToEndTest.OnScreen o = EndToEndTest.overlay(vm.qmp(), "tmc-" + id);
                    return o != null && o.width() != before ? o : null;
                }, T);
                long t2 = System.nanoTime();
                assertTrue(now != null, "not laid out again for " + size[0] + "x" + size[1]);
                assertTrue(now.width() <= size[0] - 16, now.toString());
                noticed.add((t1 - t0) / 1e6);
                relaid.add((t2 - t1) / 1e6);
                shown = now;
            }
            System.out.printf("relayout: guest resolution change -> VNC server's new size %s ms; "
                    + "-> message laid out again %s ms%n", noticed, relaid);
            // A message that is never laid out again fails above (untilUpdated times out). The bound is what the event
            // path costs at most: QEMU sends VNC_OVERLAY_DISPLAY_RESIZED at most once a second per display (a second
            // change within that second waits for it), then one render; 1117 ms was seen at load 20.
            assertTrue(relaid.stream().allMatch(ms -> ms < 3000), "re-layout after the resize took " + relaid);
        }
    }
}
