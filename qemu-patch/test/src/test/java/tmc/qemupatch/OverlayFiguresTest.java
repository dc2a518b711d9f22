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
            Frames.awaitIdle(rfb, Duration.ofMillis(500), Duration.ofSeconds(60));
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

    /**
     * Issue 10's figures. (1) A click that answers an overlay → the client's picture without it (QEMU used to wait
     * for its 30 ms refresh tick). (2) The main loop during a 3840x2160 {@code argb32-zlib} add: a second QMP monitor
     * asks {@code query-status} every millisecond, and its slowest answer while the add is decoded and drawn is the
     * longest stall of QEMU's main loop (QMP commands run there).
     */
    @Test
    void clickToPictureAndMainLoopStallDuringABigAdd() throws Exception {
        try (TestVm vm = TestVm.builder().name("figures10").qemu(TestEnv.qemu()).start();
                RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
            rfb.awaitFrame(c -> c.mark() > 0, WAIT);
            List<Double> clicks = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                Bitmap red = Bitmap.solid(64, 64, 0xffff0000);
                vm.qmp().execute("vnc-overlay-add", Qmp.withHotspots(Qmp.overlay("click-" + i, red),
                        Qmp.hotspot("ok", 0, 0, 64, 64)).put("anchor", "top-left"));
                rfb.awaitFrame(c -> c.pixel(32, 32) == 0xff0000, WAIT);
                Thread.sleep(100); // an idle moment, as when a person reads the message
                int mark = rfb.mark();
                rfb.pointer(20, 20, 1);
                long released = System.nanoTime();
                rfb.pointer(20, 20, 0);
                rfb.awaitFrame(c -> c.pixel(32, 32) != 0xff0000 && c.mark() > mark, WAIT);
                long shown = rfb.updatesSince(mark).stream().filter(u -> u.nanoTime() >= released)
                        .reduce((a, b) -> b).orElseThrow().nanoTime();
                clicks.add(Math.max(0, shown - released) / 1e6);
            }
            Collections.sort(clicks);
            System.out.printf("FIGURE click_to_picture_ms p50=%.2f p99=%.2f max=%.2f n=%d%n",
                    clicks.get(clicks.size() / 2), clicks.get(clicks.size() * 99 / 100),
                    clicks.get(clicks.size() - 1), clicks.size());

            Bitmap big = Bitmap.pattern(3840, 2160);
            String pixels = big.zlibBase64();
            try (tmc.testkit.QmpClient pinger = tmc.testkit.QmpClient.connect(vm.qmpSocket())) {
                double idle = pingMax(pinger, null, vm);
                double during = pingMax(pinger, () -> vm.qmp().execute("vnc-overlay-add",
                        Qmp.overlay("big", big).put("format", "argb32-zlib").put("pixels", pixels)), vm);
                System.out.printf("FIGURE main_loop_stall_ms 3840x2160_argb32_zlib_add=%.2f idle=%.2f "
                        + "zlib_base64_bytes=%d%n", during, idle, pixels.length());
            }
            assertTrue(clicks.get(clicks.size() / 2) < 1000, "click to picture " + clicks);
        }
    }

    /**
     * Pings {@code query-status} every millisecond for a second (around {@code add}, run once after 200 ms, if
     * given) and returns the slowest answer in milliseconds.
     */
    private static double pingMax(tmc.testkit.QmpClient pinger, Runnable add, TestVm vm) throws Exception {
        long end = System.nanoTime() + Duration.ofMillis(1200).toNanos();
        Thread adder = null;
        double max = 0;
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
            if (add != null && adder == null && System.nanoTime() - start > 200_000_000L) {
                adder = Thread.ofVirtual().start(add);
            }
            long t0 = System.nanoTime();
            pinger.execute("query-status");
            max = Math.max(max, (System.nanoTime() - t0) / 1e6);
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        if (adder != null) adder.join();
        return max;
    }

    private static double bytesPerSecond(RfbClient rfb, Duration span) throws InterruptedException {
        long before = rfb.bytesReceived();
        Thread.sleep(span.toMillis());
        return (rfb.bytesReceived() - before) * 1000.0 / span.toMillis();
    }
}
