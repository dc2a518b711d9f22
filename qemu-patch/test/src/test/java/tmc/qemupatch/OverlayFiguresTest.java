package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * The figures for issue 2's closing note, measured on the normal build and printed as {@code FIGURE name=value}
 * lines: injection latency over 100 adds on an idle guest, and bytes per second on a static screen with and without
 * an overlay. The bounds asserted are loose; the numbers are the point.
 */
class OverlayFiguresTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final int ADDS = 100;

    @Test
    void injectionLatencyAndStaticScreenTraffic() throws Exception {
        try (TestVm vm = TestVm.builder().name("figures").qemu(TestEnv.qemu()).start();
                RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
            rfb.awaitFrame(c -> c.mark() > 0, WAIT);
            Frames.awaitIdle(rfb, Duration.ofSeconds(3), Duration.ofSeconds(120));

            double idleRate = bytesPerSecond(rfb, Duration.ofSeconds(10));
            Bitmap still = Bitmap.pattern(400, 200);
            vm.qmp().execute("vnc-overlay-add", Qmp.overlay("still", still));
            JsonNode at = Qmp.find(vm.qmp(), "still");
            int x = at.path("x").asInt();
            int y = at.path("y").asInt();
            rfb.awaitFrame(c -> c.pixel(x, y) == (still.at(0, 0) & 0xffffff), WAIT);
            Thread.sleep(500);
            double overlayRate = bytesPerSecond(rfb, Duration.ofSeconds(10));
            vm.qmp().execute("vnc-overlay-remove", tmc.testkit.QmpClient.args().put("id", "still"));

            List<Double> latencies = new ArrayList<>();
            for (int i = 0; i < ADDS; i++) {
                Thread.sleep(300); // let the refresh timer back off: the guest is idle
                int colour = (i % 2 == 0) ? 0xff20c040 : 0xffc04020;
                int mark = rfb.mark();
                vm.qmp().execute("vnc-overlay-add", Qmp.overlay("lat", Bitmap.solid(300, 120, colour)));
                long replied = System.nanoTime();
                JsonNode p = Qmp.find(vm.qmp(), "lat");
                int px = p.path("x").asInt();
                int py = p.path("y").asInt();
                // the reader writes pixels before it records their update: wait for both
                rfb.awaitFrame(c -> c.pixel(px, py) == (colour & 0xffffff) && c.mark() > mark, WAIT);
                long arrived = rfb.updatesSince(mark).get(0).nanoTime();
                latencies.add(Math.max(0, arrived - replied) / 1e6);
            }
            Collections.sort(latencies);
            double p50 = latencies.get(ADDS / 2 - 1);
            double p99 = latencies.get(ADDS * 99 / 100 - 1);
            System.out.printf("FIGURE latency_ms p50=%.2f p99=%.2f max=%.2f n=%d%n", p50, p99,
                    latencies.get(ADDS - 1), ADDS);
            System.out.printf("FIGURE static_bytes_per_s without_overlay=%.1f with_overlay=%.1f%n",
                    idleRate, overlayRate);

            assertEquals(0.0, overlayRate, "a static screen with an overlay must cost nothing");
            assertTrue(p99 < 500, "p99 latency " + p99 + " ms");
        }
    }

    private static double bytesPerSecond(RfbClient rfb, Duration span) throws InterruptedException {
        long before = rfb.bytesReceived();
        Thread.sleep(span.toMillis());
        return (rfb.bytesReceived() - before) * 1000.0 / span.toMillis();
    }
}
