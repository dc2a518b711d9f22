package tmc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import tmc.testkit.RfbClient;
import tmc.testkit.RfbEncodings;
import tmc.testkit.TestVm;

/**
 * The two ways tmc shows a VM, side by side in one run on the same guest workload: (a) {@code relay}, the patched
 * QEMU's own VNC server through the gateway's relay, and (b) {@code dbus}, Debian's stock QEMU with the D-Bus
 * display and the gateway's own RFB server. One gateway serves both VMs; each path has one client over the
 * gateway's WebSocket offering what noVNC offers (Tight with JPEG quality 6, ZRLE, Hextile, Raw, cursor, desktop
 * size).
 *
 * <ul>
 *   <li><b>stream</b>: the guest prints {@code linesPerSecond} lines on its text console (each one scrolls the
 *       screen) for {@code seconds}; frames and bytes at the client per second, and the CPU of the gateway and of
 *       the VM's QEMU per frame (both encode for one path or the other: QEMU's VNC server, or the gateway). Paths
 *       take turns within each round, so a neighbour's load slows both alike; the median round is reported.
 *   <li><b>inject</b>: {@code POST /api/v1/messages} until the message is in the client's picture, then DELETE
 *       and back to the guest's picture; paths take turns message by message.
 *   <li><b>idle</b>: a message shown over a static screen; what the client receives and what the gateway and QEMU
 *       burn over {@code idleSeconds}, from half a second after the message arrived (goal: 0 bytes/s).
 * </ul>
 * With {@code TMC_BENCH_BASELINE=REV} a third path, {@code dbus-before}, runs the D-Bus display on a second stock
 * QEMU VM through a gateway built at REV, taking turns with the other two: the before/after of a change to the
 * D-Bus path in one run. Each gateway's peak resident memory is reported at the end.
 */
final class DbusBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Report report = new Report("dbus");
    private final int rounds;
    private final int seconds;
    private final int linesPerSecond;
    private final int messages;
    private final int warmup;
    private final int idleSeconds;

    DbusBench(Args args) {
        rounds = args.integer("rounds", 3);
        seconds = args.integer("seconds", 5);
        linesPerSecond = args.integer("linesPerSecond", 30);
        messages = args.integer("messages", 30);
        warmup = args.integer("warmup", 5);
        idleSeconds = args.integer("idleSeconds", 10);
        report.label(args.string("label", ""));
        args.done();
    }

    Report report() {
        return report;
    }

    /** One path: its VM, the gateway that serves it (the VM is {@code vmId} there) and the client that watches it. */
    private record Side(String name, String vmId, TestVm vm, GatewayProcess gateway, RfbClient client) {}

    /**
     * One stream window's totals. Per guest line they do not depend on how fast a loaded machine let the guest
     * print (every window waits until the guest printed all its lines); per second they do.
     */
    private record Window(int lines, double seconds, int frames, long bytes, double gatewayCpu, double qemuCpu,
            double drainSeconds) {
        double fps() {
            return frames / seconds;
        }

        double kbPerSecond() {
            return bytes / 1024.0 / seconds;
        }

        double bytesPerLine() {
            return (double) bytes / lines;
        }

        double framesPerLine() {
            return (double) frames / lines;
        }

        double gatewayMsPerLine() {
            return gatewayCpu * 1000 / lines;
        }

        double qemuMsPerLine() {
            return qemuCpu * 1000 / lines;
        }

        double cpuMsPerLine() {
            return gatewayMsPerLine() + qemuMsPerLine();
        }

        double cpuMsPerFrame() {
            return frames == 0 ? Double.NaN : (gatewayCpu + qemuCpu) * 1000 / frames;
        }
    }

    void run() throws Exception {
        report.note("dbus: (a) relay = patched QEMU's VNC server through the gateway's relay, (b) dbus = Debian's"
                + " stock QEMU 7.2 with -display dbus and the gateway's RFB server; one gateway, one noVNC-like client"
                + " per path over the WebSocket (Tight, JPEG quality 6, ZRLE, Hextile, Raw)");
        boolean before = GatewayProcess.baselineLibDir() != null;
        if (before) {
            report.note("dbus-before: (b) through a second gateway built at %s, on a second stock QEMU VM",
                    GatewayProcess.baselineRev());
        }
        // A bounded heap, so that each path's garbage is collected (and its GC CPU counted) in its own windows:
        // with the default heap (a quarter of the RAM) one path's garbage waited for the other's.
        List<String> jvm = List.of("-Xmx512m");
        try (TestVm relayVm = Vms.start("bench-relay");
             TestVm dbusVm = Vms.startDbus("bench-dbus");
             TestVm beforeVm = before ? Vms.startDbus("bench-dbus-before") : null;
             GatewayProcess gateway = GatewayProcess.start(List.of(
                     new GatewayProcess.Vm("relay", "bench", "tcp:127.0.0.1:" + relayVm.vncPort(), null,
                             "unix:" + relayVm.qmpSocket()),
                     new GatewayProcess.Vm("dbus", "bench", null, null, "unix:" + dbusVm.qmpSocket())),
                     GatewayProcess.generousLimits(), jvm);
             GatewayProcess baseline = before ? GatewayProcess.startBaseline(List.of(
                     new GatewayProcess.Vm("dbus", "bench", null, null, "unix:" + beforeVm.qmpSocket())),
                     GatewayProcess.generousLimits(), jvm) : null) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            awaitConnected(http, gateway, 2);
            if (baseline != null) awaitConnected(http, baseline, 1);
            List<Side> sides = new ArrayList<>();
            try {
                sides.add(side("relay", relayVm, gateway));
                sides.add(side("dbus", dbusVm, gateway));
                if (baseline != null) sides.add(side("dbus-before", beforeVm, baseline));
                for (Side s : sides) s.client().awaitUpdate(0, Duration.ofSeconds(30));
                for (Side s : sides) {
                    report.note("guest screen %s: %dx%d", s.name(), s.client().width(), s.client().height());
                }
                // The stream last: on a loaded machine the D-Bus path may still be working off its updates after.
                idle(sides, http);
                inject(sides, http);
                stream(sides);
                memory(gateway, "gateway (relay + dbus)", "gateway");
                if (baseline != null) memory(baseline, "gateway (dbus-before)", "gateway_before");
            } finally {
                for (Side s : sides) s.client().close();
            }
        }
    }

    private static Side side(String name, TestVm vm, GatewayProcess gateway) throws IOException {
        String vmId = name.equals("relay") ? "relay" : "dbus";
        return new Side(name, vmId, vm, gateway, connect(gateway, vmId, gateway.tenantToken("bench")));
    }

    /** The gateway's peak and current resident memory (the JVM's own, from /proc). */
    private void memory(GatewayProcess gateway, String label, String key) throws IOException {
        String status = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(gateway.pid()),
                "status"));
        long peak = kib(status, "VmHWM:");
        long now = kib(status, "VmRSS:");
        report.note("memory %-24s peak resident %5d MB, now %5d MB (-Xmx512m)", label, peak / 1024, now / 1024);
        report.put(key + "_peak_rss_mb", peak / 1024);
    }

    private static long kib(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field)) return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
        return -1;
    }

    private static RfbClient connect(GatewayProcess gateway, String vm, String token) throws IOException {
        BenchConn conn = BenchConn.websocket(gateway.vncUri(vm, token), GatewayProcess.ORIGIN, 64 * 1024);
        return RfbClient.Options.plain().withEncodings(RfbEncodings.TIGHT, RfbEncodings.ZRLE, RfbEncodings.HEXTILE,
                RfbEncodings.RAW, RfbEncodings.quality(6), RfbEncodings.compression(2), RfbEncodings.DESKTOP_SIZE,
                RfbEncodings.EXTENDED_DESKTOP_SIZE, RfbEncodings.CURSOR).connect(new BenchTransport(conn));
    }

    // ===== stream =====

    private void stream(List<Side> sides) throws Exception {
        report.note("stream: %d rounds of %d s per path, the guest printing %d lines/s (the console scrolls)",
                rounds, seconds, linesPerSecond);
        List<List<Window>> windows = new ArrayList<>();
        for (int i = 0; i < sides.size(); i++) windows.add(new ArrayList<>());
        int line = 0;
        // One unmeasured round first: the gateway's encoders and relay get compiled before anything counts.
        for (int r = -1; r < rounds; r++) {
            for (int i = 0; i < sides.size(); i++) {
                Window w = window(sides.get(i), line);
                line += seconds * linesPerSecond;
                if (r >= 0) windows.get(i).add(w);
                Report.progress("round %d %s: %.1f s (drain %.1f s), %d frames, %.0f KB; per line: CPU %.2f ms"
                        + " (gateway %.2f, QEMU %.2f), %.0f bytes", r, sides.get(i).name(), w.seconds(),
                        w.drainSeconds(), w.frames(), w.bytes() / 1024.0, w.cpuMsPerLine(), w.gatewayMsPerLine(),
                        w.qemuMsPerLine(), w.bytesPerLine());
            }
        }
        Window[] median = new Window[sides.size()];
        for (int i = 0; i < sides.size(); i++) {
            List<Window> list = new ArrayList<>(windows.get(i));
            list.sort((a, b) -> Double.compare(a.cpuMsPerLine(), b.cpuMsPerLine()));
            median[i] = list.get(list.size() / 2);
            Window m = median[i];
            String p = sides.get(i).name();
            report.note("  %-11s per guest line: CPU %6.2f ms (gateway %5.2f, QEMU %5.2f), %5.2f frames, %6.0f bytes"
                    + " | %5.1f frames/s, %6.1f KB/s, CPU %5.2f ms/frame, drained %4.1f s after the guest"
                    + "   [median round by CPU/line]", p, m.cpuMsPerLine(), m.gatewayMsPerLine(), m.qemuMsPerLine(),
                    m.framesPerLine(), m.bytesPerLine(), m.fps(), m.kbPerSecond(), m.cpuMsPerFrame(),
                    m.drainSeconds());
            String k = p.replace('-', '_');
            report.put(k + "_cpu_ms_per_line", m.cpuMsPerLine());
            report.put(k + "_gateway_cpu_ms_per_line", m.gatewayMsPerLine());
            report.put(k + "_qemu_cpu_ms_per_line", m.qemuMsPerLine());
            report.put(k + "_bytes_per_line", m.bytesPerLine());
            report.put(k + "_frames_per_line", m.framesPerLine());
            report.put(k + "_fps", m.fps());
            report.put(k + "_kb_per_s", m.kbPerSecond());
            report.put(k + "_cpu_ms_per_frame", m.cpuMsPerFrame());
            report.put(k + "_drain_s", m.drainSeconds());
        }
        compare(median, sides, 1, 0, "dbus_vs_relay");
        if (sides.size() > 2) compare(median, sides, 1, 2, "dbus_vs_before");
    }

    /** Path {@code b} against path {@code a}, per guest line and per frame. */
    private void compare(Window[] median, List<Side> sides, int b, int a, String key) {
        Window x = median[a];
        Window y = median[b];
        report.note("  %s/%s per guest line: CPU %.2f (gateway %.2f, QEMU %.2f), bytes %.2f, frames %.2f;"
                + " per frame: CPU %.2f", sides.get(b).name(), sides.get(a).name(), y.cpuMsPerLine() / x.cpuMsPerLine(),
                y.gatewayMsPerLine() / x.gatewayMsPerLine(), y.qemuMsPerLine() / x.qemuMsPerLine(),
                y.bytesPerLine() / x.bytesPerLine(), y.framesPerLine() / x.framesPerLine(),
                y.cpuMsPerFrame() / x.cpuMsPerFrame());
        report.put(key + "_cpu_per_line", y.cpuMsPerLine() / x.cpuMsPerLine());
        report.put(key + "_gateway_cpu_per_line", y.gatewayMsPerLine() / x.gatewayMsPerLine());
        report.put(key + "_bytes_per_line", y.bytesPerLine() / x.bytesPerLine());
        report.put(key + "_frames_per_line", y.framesPerLine() / x.framesPerLine());
        report.put(key + "_cpu_per_frame", y.cpuMsPerFrame() / x.cpuMsPerFrame());
    }

    /** The guest prints lines at a fixed pace for {@code seconds}; then the client gets the last change. */
    private Window window(Side side, int firstLine) {
        RfbClient c = side.client();
        GatewayProcess gateway = side.gateway();
        int mark = c.mark();
        long bytes0 = c.bytesReceived();
        double gw0 = gateway.cpuSeconds();
        double qemu0 = Cpu.tree(side.vm().pid());
        long t0 = System.nanoTime();
        int lines = seconds * linesPerSecond;
        long interval = 1_000_000_000L / linesPerSecond;
        for (int i = 0; i < lines; i++) {
            long due = t0 + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait); // the workload's pace, not a wait for an event
            side.vm().serial().send("say bench-line-" + (firstLine + i));
        }
        // The guest handles its commands in order: when it answers a ping, it has printed every line.
        side.vm().serial().command("ping", Duration.ofSeconds(120));
        long printed = System.nanoTime();
        awaitQuiet(c, Duration.ofMillis(300), Duration.ofSeconds(10));
        // What the gateway still has to do for this window (updates queued on D-Bus) is part of its cost.
        awaitGatewayIdle(gateway);
        long t1 = System.nanoTime();
        int frames = (int) c.updatesSince(mark).stream().filter(u -> !u.rects().isEmpty()).count();
        return new Window(lines, (t1 - t0) / 1e9, frames, c.bytesReceived() - bytes0, gateway.cpuSeconds() - gw0,
                Cpu.tree(side.vm().pid()) - qemu0, (t1 - printed) / 1e9);
    }

    /** Returns once no update arrived for {@code quiet} (or after {@code max}). */
    private static void awaitQuiet(RfbClient c, Duration quiet, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            int mark = c.mark();
            try {
                c.awaitUpdate(mark, quiet);
            } catch (AssertionError noUpdate) {
                return;
            }
        }
    }

    // ===== inject =====

    private void inject(List<Side> sides, HttpClient http) throws Exception {
        report.note("inject: %d messages per path (after %d warm-up), POST -> the message in the client's picture,"
                + " paths taking turns", messages, warmup);
        int n = sides.size();
        List<List<Double>> visible = new ArrayList<>();
        int[][] baseline = new int[n][];
        for (int i = 0; i < n; i++) {
            visible.add(new ArrayList<>());
            awaitQuiet(sides.get(i).client(), Duration.ofMillis(500), Duration.ofSeconds(10));
            baseline[i] = sides.get(i).client().pixels();
        }
        for (int m = 0; m < warmup + messages; m++) {
            for (int i = 0; i < n; i++) {
                Side side = sides.get(i);
                RfbClient c = side.client();
                int w = c.width();
                int h = c.height();
                int[] base = baseline[i];
                long t0 = System.nanoTime();
                JsonNode created = api(http, side.gateway(), "POST", "/api/v1/messages", "{\"vms\":[\""
                        + side.vmId() + "\"],\"title\":\"Maintenance " + m + "\",\"body\":\"This VM restarts"
                        + " at 22:00 for a kernel update.\",\"severity\":\"warning\",\"buttons\":[{\"id\":\"ok\","
                        + "\"label\":\"OK\"},{\"id\":\"later\",\"label\":\"Later\"}]}");
                try {
                    c.awaitFrame(x -> InjectBench.differs(x, base, w, h), Duration.ofSeconds(30));
                } catch (AssertionError e) {
                    throw new AssertionError(side.name() + ": message " + m + " not in the picture", e);
                }
                long t1 = System.nanoTime();
                if (m >= warmup) visible.get(i).add((t1 - t0) / 1e6);
                api(http, side.gateway(), "DELETE", "/api/v1/messages/" + created.path("id").asText(), null);
                c.awaitFrame(x -> !InjectBench.differs(x, base, w, h), Duration.ofSeconds(30));
            }
        }
        Stats[] s = new Stats[n];
        for (int i = 0; i < n; i++) {
            s[i] = new Stats(visible.get(i));
            String p = sides.get(i).name();
            report.note("  %-11s visible p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms (n=%d)", p,
                    s[i].percentile(50), s[i].percentile(99), s[i].max(), s[i].count());
            report.put(p.replace('-', '_') + "_inject_p50_ms", s[i].percentile(50));
            report.put(p.replace('-', '_') + "_inject_p99_ms", s[i].percentile(99));
        }
        report.note("  dbus/relay: p50 %.2f, p99 %.2f", s[1].percentile(50) / s[0].percentile(50),
                s[1].percentile(99) / s[0].percentile(99));
        report.put("dbus_vs_relay_inject_p50", s[1].percentile(50) / s[0].percentile(50));
    }

    // ===== idle =====

    private void idle(List<Side> sides, HttpClient http) throws Exception {
        report.note("idle: a message over a static screen, %d s per path from 0.5 s after it arrived", idleSeconds);
        double[] bytesPerSecond = new double[sides.size()];
        boolean met = true;
        for (int i = 0; i < sides.size(); i++) {
            Side side = sides.get(i);
            GatewayProcess gateway = side.gateway();
            RfbClient c = side.client();
            awaitQuiet(c, Duration.ofMillis(500), Duration.ofSeconds(10));
            int[] base = c.pixels();
            int w = c.width();
            int h = c.height();
            JsonNode created = api(http, gateway, "POST", "/api/v1/messages", "{\"vms\":[\"" + side.vmId()
                    + "\"],\"title\":\"Idle\",\"body\":\"A message over a static screen.\",\"buttons\":[{\"id\":"
                    + "\"ok\",\"label\":\"OK\"}]}");
            c.awaitFrame(x -> InjectBench.differs(x, base, w, h), Duration.ofSeconds(30));
            GatewayProcess.sleep(500); // the rest of the message's first picture, if it came in pieces
            int mark = c.mark();
            long bytes0 = c.bytesReceived();
            double gw0 = gateway.cpuSeconds();
            double qemu0 = Cpu.tree(side.vm().pid());
            long t0 = System.nanoTime();
            GatewayProcess.sleep(idleSeconds * 1000L); // the measurement window itself
            double elapsed = (System.nanoTime() - t0) / 1e9;
            long bytes = c.bytesReceived() - bytes0;
            int updates = (int) c.updatesSince(mark).stream().filter(u -> !u.rects().isEmpty()).count();
            double gw = (gateway.cpuSeconds() - gw0) / elapsed * 1000;
            double qemu = (Cpu.tree(side.vm().pid()) - qemu0) / elapsed * 1000;
            bytesPerSecond[i] = bytes / elapsed;
            report.note("  %-11s %8.1f bytes/s (%d updates with pixels)   CPU: gateway %5.1f ms/s, QEMU %6.1f ms/s",
                    side.name(), bytesPerSecond[i], updates, gw, qemu);
            String k = side.name().replace('-', '_');
            report.put(k + "_idle_bytes_per_s", bytesPerSecond[i]);
            report.put(k + "_idle_gateway_cpu_ms_per_s", gw);
            report.put(k + "_idle_qemu_cpu_ms_per_s", qemu);
            api(http, gateway, "DELETE", "/api/v1/messages/" + created.path("id").asText(), null);
            c.awaitFrame(x -> !InjectBench.differs(x, base, w, h), Duration.ofSeconds(30));
            met &= bytesPerSecond[i] == 0;
        }
        report.put("idle_goal_0_bytes", met ? "met" : "missed");
    }

    /**
     * Waits (up to a minute) until the gateway burns less than a tenth of a core: on a loaded machine the D-Bus
     * path can still be working off a window's updates when the client has seen the last one.
     */
    private static void awaitGatewayIdle(GatewayProcess gateway) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            double before = gateway.cpuSeconds();
            GatewayProcess.sleep(200); // a sampling window
            if (gateway.cpuSeconds() - before < 0.02) return;
        }
    }

    // ===== API =====

    private static JsonNode api(HttpClient http, GatewayProcess gateway, String method, String path, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri().resolve(path))
                .header("Authorization", "Bearer " + gateway.adminToken()).timeout(Duration.ofSeconds(60)); // a loaded machine
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IOException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }

    /** The gateway's VMs reported connected (a patched one's QMP, a stock one's D-Bus display), up to 60 s. */
    private static void awaitConnected(HttpClient http, GatewayProcess gateway, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode vms = api(http, gateway, "GET", "/api/v1/vms", null).path("vms");
            int connected = 0;
            for (JsonNode vm : vms) {
                if (vm.path("qmpConnected").asBoolean()) connected++;
            }
            if (connected == count) return;
            if (System.nanoTime() > deadline) throw new IOException("VMs not connected: " + vms);
            GatewayProcess.sleep(100);
        }
    }
}
