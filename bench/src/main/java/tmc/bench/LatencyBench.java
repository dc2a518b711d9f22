package tmc.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * Input latency: a pointer event's round trip from the client to the VNC server and back as a framebuffer change,
 * through a direct TCP connection, the gateway and websockify (same client code on every path, paths interleaved).
 * <ol>
 *   <li>synthetic: the synthetic RFB server answers each PointerEvent at once with a 16x16 update. Nothing but
 *       the path is in the loop, so the difference to direct is what the relay adds.
 *   <li>qemu: the real patched QEMU with the test guest. A 64x64 overlay with one hot-spot is shown (QMP
 *       vnc-overlay-add); the client clicks it; the round trip ends when the update without the overlay arrives.
 *       QEMU's VNC refresh timer (30 ms base interval) is inside this loop, so its spread is the timer's.
 * </ol>
 */
final class LatencyBench {
    private enum Path { DIRECT, GATEWAY, BASELINE, WEBSOCKIFY }

    private final Report report = new Report("latency");
    private final int samples;
    private final int qemuSamples;
    private final int warmup;
    private final int qemuWarmup;
    /** Synthetic paths: the baseline gateway too when one was built (TMC_BENCH_BASELINE). */
    private final List<Path> synthetic = new ArrayList<>();

    LatencyBench(Args args) {
        samples = args.integer("samples", 2000);
        qemuSamples = args.integer("qemuSamples", 200);
        // Enough round trips for the JIT to compile the relay's path in the gateway (a few hundred left it
        // interpreted: a quarter of a millisecond per round trip that a running gateway does not pay).
        warmup = args.integer("warmup", 10_000);
        qemuWarmup = args.integer("qemuWarmup", 20);
        for (Path p : Path.values()) {
            if (p != Path.BASELINE || GatewayProcess.baselineLibDir() != null) {
                synthetic.add(p);
            }
        }
        report.label(args.string("label", ""));
        args.done();
    }

    Report report() {
        return report;
    }

    void run() throws Exception {
        report.note("latency: %d synthetic round trips (after %d warm-up) and %d QEMU overlay clicks (after %d) per path",
                samples, warmup, qemuSamples, qemuWarmup);
        if (synthetic.contains(Path.BASELINE)) {
            report.note("baseline: the gateway at %s (synthetic paths)", GatewayProcess.baselineRev());
        }
        synthetic();
        if (qemuSamples > 0) {
            qemu();
        }
    }

    private void synthetic() throws Exception {
        try (SyntheticRfbServer server = new SyntheticRfbServer(SyntheticRfbServer.Mode.ECHO, 1024, 768);
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("synthetic", "bench",
                     "tcp:127.0.0.1:" + server.port(), null, null)), GatewayProcess.generousLimits(), List.of());
             GatewayProcess baseline = GatewayProcess.startBaseline(List.of(new GatewayProcess.Vm("synthetic",
                     "bench", "tcp:127.0.0.1:" + server.port(), null, null)), GatewayProcess.generousLimits(),
                     List.of());
             WebsockifyProcess websockify = WebsockifyProcess.start(server.port())) {
            Map<Path, RfbReader> readers = new EnumMap<>(Path.class);
            Map<Path, BenchConn> conns = new EnumMap<>(Path.class);
            Map<Path, List<Double>> times = new EnumMap<>(Path.class);
            try {
                for (Path p : synthetic) {
                    GatewayProcess g = p == Path.BASELINE ? baseline : gateway;
                    BenchConn c = switch (p) {
                        case DIRECT -> BenchConn.tcp("127.0.0.1", server.port());
                        case GATEWAY, BASELINE -> BenchConn.websocket(g.vncUri("synthetic", g.tenantToken("bench")),
                                GatewayProcess.ORIGIN, 64 * 1024);
                        case WEBSOCKIFY -> BenchConn.websocket(websockify.uri(), null, 64 * 1024);
                    };
                    conns.put(p, c);
                    readers.put(p, new RfbReader(c).handshake());
                    times.put(p, new ArrayList<>());
                }
                int blocks = 10;
                for (int i = 0; i < warmup; i++) {
                    for (Path p : synthetic) {
                        roundTrip(readers.get(p), i);
                    }
                }
                for (int b = 0; b < blocks; b++) {
                    for (Path p : synthetic) {
                        RfbReader r = readers.get(p);
                        for (int i = 0; i < samples / blocks; i++) {
                            times.get(p).add(roundTrip(r, i));
                        }
                    }
                }
            } finally {
                conns.values().forEach(BenchConn::close);
            }
            figures("synthetic", times, synthetic);
        }
    }

    /** One PointerEvent out, one FramebufferUpdate back; milliseconds. */
    private static double roundTrip(RfbReader r, int i) throws IOException {
        long t0 = System.nanoTime();
        r.pointer(100 + i % 500, 100 + i % 300, 0);
        if (!r.awaitUpdate(t0 + TimeUnit.SECONDS.toNanos(5))) {
            throw new IOException("no answer to a PointerEvent within 5 s");
        }
        return (r.lastUpdateNanos - t0) / 1e6;
    }

    private void qemu() throws Exception {
        try (TestVm vm = Vms.start("bench-latency");
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("vm", "bench",
                     "tcp:127.0.0.1:" + vm.vncPort(), null, null)), GatewayProcess.generousLimits(), List.of());
             WebsockifyProcess websockify = WebsockifyProcess.start(vm.vncPort())) {
            QmpClient qmp = vm.qmp();
            Map<Path, List<Double>> times = new EnumMap<>(Path.class);
            Map<Path, RfbClient> clients = new EnumMap<>(Path.class);
            List<String> failures = new ArrayList<>();
            try {
                for (Path p : QEMU_PATHS) {
                    BenchConn c = switch (p) {
                        case DIRECT -> BenchConn.tcp("127.0.0.1", vm.vncPort());
                        case GATEWAY, BASELINE -> BenchConn.websocket(gateway.vncUri("vm",
                                gateway.tenantToken("bench")), GatewayProcess.ORIGIN, 64 * 1024);
                        case WEBSOCKIFY -> BenchConn.websocket(websockify.uri(), null, 64 * 1024);
                    };
                    clients.put(p, RfbClient.connect(new BenchTransport(c), null));
                    times.put(p, new ArrayList<>());
                }
                for (int i = -qemuWarmup; i < qemuSamples; i++) {
                    for (Path p : QEMU_PATHS) {
                        try {
                            double ms = overlayClick(qmp, clients.get(p), i);
                            if (i >= 0) {
                                times.get(p).add(ms);
                            }
                        } catch (AssertionError e) {
                            // Counted and reported, not fatal: the figures of the other clicks still hold.
                            String why = "click " + i + " through " + p.name().toLowerCase() + ": " + e.getMessage()
                                    + "; query-vnc-overlays " + qmp.execute("query-vnc-overlays") + "; client pixel "
                                    + Integer.toHexString(clients.get(p).pixel(OVERLAY / 2, OVERLAY / 2));
                            if (failures.size() < 3) {
                                report.note("QEMU overlay click failed: %s", why);
                            }
                            failures.add(why);
                            for (com.fasterxml.jackson.databind.JsonNode o : qmp.execute("query-vnc-overlays")) {
                                qmp.execute("vnc-overlay-remove", QmpClient.args().put("id", o.path("id").asText()));
                            }
                            for (RfbClient c : clients.values()) {
                                c.awaitFrame(x -> x.pixel(OVERLAY / 2, OVERLAY / 2) != RED, Duration.ofSeconds(5));
                            }
                        }
                    }
                }
            } finally {
                for (RfbClient c : clients.values()) {
                    c.close();
                }
            }
            figures("qemu", times, QEMU_PATHS);
            report.put("qemu_failed_clicks", failures.size());
        }
    }

    private static final List<Path> QEMU_PATHS = List.of(Path.DIRECT, Path.GATEWAY, Path.WEBSOCKIFY);
    private static final int OVERLAY = 64;
    private static final int RED = 0xff0000;
    private static final java.util.concurrent.atomic.AtomicInteger OVERLAY_IDS =
            new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Shows a red 64x64 overlay at the top left (only this client is connected... all three are, and all see it),
     * waits until this client sees it, clicks it and times until this client sees it gone.
     */
    private static double overlayClick(QmpClient qmp, RfbClient client, int i) throws IOException {
        // A new id each time, as the gateway does for each message. (Re-adding the id just dismissed by a click,
        // the overlay once failed to appear within 5 s with qemu-patch 0005; reported, not chased here.)
        ObjectNode args = QmpClient.args().put("id", "bench-latency-" + OVERLAY_IDS.incrementAndGet()).put("width", OVERLAY).put("height", OVERLAY)
                .put("pixels", redPixels()).put("anchor", "top-left");
        args.putArray("hotspots").addObject().put("id", "ok").put("x", 0).put("y", 0).put("width", OVERLAY)
                .put("height", OVERLAY);
        qmp.execute("vnc-overlay-add", args);
        client.awaitFrame(c -> c.pixel(OVERLAY / 2, OVERLAY / 2) == RED, Duration.ofSeconds(5));
        int x = 8 + Math.floorMod(i, 48);
        int y = 8 + Math.floorMod(i * 7, 48);
        long t0 = System.nanoTime();
        client.pointer(x, y, 1);
        client.pointer(x, y, 0);
        client.awaitFrame(c -> c.pixel(OVERLAY / 2, OVERLAY / 2) != RED, Duration.ofSeconds(5));
        return (System.nanoTime() - t0) / 1e6;
    }

    private static String cachedPixels;

    private static String redPixels() {
        if (cachedPixels == null) {
            byte[] argb = new byte[OVERLAY * OVERLAY * 4];
            for (int i = 0; i < argb.length; i += 4) {
                argb[i] = (byte) 0xff;
                argb[i + 1] = (byte) 0xff;
            }
            cachedPixels = Base64.getEncoder().encodeToString(argb);
        }
        return cachedPixels;
    }

    private void figures(String target, Map<Path, List<Double>> times, List<Path> paths) {
        Stats direct = new Stats(times.get(Path.DIRECT));
        for (Path p : paths) {
            Stats s = new Stats(times.get(p));
            String k = target + "_" + p.name().toLowerCase();
            report.note("%-9s %-10s n=%d p50 %.3f ms  p99 %.3f ms  max %.3f ms", target, p.name().toLowerCase(),
                    s.count(), s.percentile(50), s.percentile(99), s.max());
            report.put(k + "_p50_ms", s.percentile(50));
            report.put(k + "_p99_ms", s.percentile(99));
            if (p != Path.DIRECT) {
                report.put(k + "_added_p50_ms", s.percentile(50) - direct.percentile(50));
                report.put(k + "_added_p99_ms", s.percentile(99) - direct.percentile(99));
            }
        }
        if (target.equals("synthetic")) {
            Stats gateway = new Stats(times.get(Path.GATEWAY));
            double p50 = gateway.percentile(50) - direct.percentile(50);
            double p99 = gateway.percentile(99) - direct.percentile(99);
            report.put("goal_gateway_added_p50_0.1ms", p50 <= 0.1 ? "met" : "missed");
            report.put("goal_gateway_added_p99_1ms", p99 <= 1.0 ? "met" : "missed");
        }
    }
}
