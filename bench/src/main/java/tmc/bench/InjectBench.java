package tmc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * Message injection: {@code POST /api/v1/messages} to the gateway until the message is in the picture a connected
 * client receives, on the real patched QEMU with the idle test guest. Between messages the previous one is
 * retracted (DELETE) and the picture is back to the guest's before the next POST, so each sample starts from the
 * same state. The client is connected through the gateway, as a browser would be.
 */
final class InjectBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Report report = new Report("inject");
    private final int messages;
    private final int warmup;

    InjectBench(Args args) {
        messages = args.integer("messages", 200);
        warmup = args.integer("warmup", 10);
        report.label(args.string("label", ""));
        args.done();
    }

    Report report() {
        return report;
    }

    void run() throws Exception {
        report.note("inject: %d messages (after %d warm-up) POST -> overlay visible at a client through the gateway;"
                + " real patched QEMU, idle test guest", messages, warmup);
        try (TestVm vm = Vms.start("bench-inject");
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("vm", "bench",
                     "tcp:127.0.0.1:" + vm.vncPort(), null, "unix:" + vm.qmpSocket())),
                     GatewayProcess.generousLimits(), List.of())) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String admin = gateway.adminToken();
            BenchConn conn = BenchConn.websocket(gateway.vncUri("vm", gateway.tenantToken("bench")),
                    GatewayProcess.ORIGIN, 64 * 1024);
            try (RfbClient client = RfbClient.connect(new BenchTransport(conn), null)) {
                client.awaitUpdate(0, Duration.ofSeconds(10));
                GatewayProcess.sleep(500);
                int[] baseline = client.pixels();
                int w = client.width();
                int h = client.height();
                report.note("guest screen %dx%d", w, h);
                awaitQmpReady(http, gateway, admin);
                List<Double> visible = new ArrayList<>();
                List<Double> created = new ArrayList<>();
                List<Double> shown = new ArrayList<>();
                List<double[]> samples = new ArrayList<>(); // visible, post, shown
                for (int i = 0; i < warmup + messages; i++) {
                    String body = "{\"vms\":[\"vm\"],\"title\":\"Maintenance " + i + "\",\"body\":\"This VM"
                            + " restarts at 22:00 for a kernel update.\",\"severity\":\"warning\",\"buttons\":"
                            + "[{\"id\":\"ok\",\"label\":\"OK\"},{\"id\":\"later\",\"label\":\"Later\"}]}";
                    long wall0 = System.currentTimeMillis();
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                    "/api/v1/messages"))
                            .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    long t1 = System.nanoTime();
                    if (r.statusCode() != 201) {
                        throw new IOException("POST /api/v1/messages: " + r.statusCode() + " " + r.body());
                    }
                    client.awaitFrame(c -> differs(c, baseline, w, h), Duration.ofSeconds(10));
                    long t2 = System.nanoTime();
                    if (i >= warmup) {
                        created.add((t1 - t0) / 1e6);
                        visible.add((t2 - t0) / 1e6);
                    }
                    String id = JSON.readTree(r.body()).path("id").asText();
                    if (i >= warmup) {
                        // When the gateway recorded it shown (vnc-overlay-add returned): splits the gateway's part
                        // from QEMU's refresh and the relay's.
                        HttpResponse<String> g = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                        "/api/v1/messages/" + id)).header("Authorization", "Bearer " + admin)
                                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                        String at = JSON.readTree(g.body()).path("deliveries").path(0).path("shownAt").asText("");
                        double shownMs = at.isEmpty() ? Double.NaN
                                : java.time.Instant.parse(at).toEpochMilli() - wall0;
                        if (!at.isEmpty()) {
                            shown.add(shownMs);
                        }
                        samples.add(new double[] {(t2 - t0) / 1e6, (t1 - t0) / 1e6, shownMs});
                    }
                    HttpResponse<String> d = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                    "/api/v1/messages/" + id)).header("Authorization", "Bearer " + admin)
                            .timeout(Duration.ofSeconds(10)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
                    if (d.statusCode() / 100 != 2) {
                        throw new IOException("DELETE message: " + d.statusCode() + " " + d.body());
                    }
                    client.awaitFrame(c -> !differs(c, baseline, w, h), Duration.ofSeconds(10));
                }
                Stats v = new Stats(visible);
                Stats c = new Stats(created);
                report.note("POST answered (201): p50 %.1f ms  p99 %.1f ms", c.percentile(50), c.percentile(99));
                Stats sh = new Stats(shown);
                report.note("recorded shown:      p50 %.0f ms  p99 %.0f ms (the gateway's shownAt, ms clock)",
                        sh.percentile(50), sh.percentile(99));
                report.put("shown_p50_ms", sh.percentile(50));
                report.put("shown_p99_ms", sh.percentile(99));
                report.note("overlay visible:     p50 %.1f ms  p99 %.1f ms  max %.1f ms (n=%d)", v.percentile(50),
                        v.percentile(99), v.max(), v.count());
                samples.sort((x, y) -> Double.compare(y[0], x[0]));
                StringBuilder slow = new StringBuilder();
                for (int k = 0; k < Math.min(5, samples.size()); k++) {
                    double[] x = samples.get(k);
                    slow.append(String.format(java.util.Locale.ROOT, " %.0f (POST %.0f, shown %.0f)", x[0], x[1],
                            x[2]));
                }
                report.note("slowest visible, ms:%s", slow);
                report.put("messages", v.count());
                report.put("post_p50_ms", c.percentile(50));
                report.put("post_p99_ms", c.percentile(99));
                report.put("visible_p50_ms", v.percentile(50));
                report.put("visible_p99_ms", v.percentile(99));
                report.put("visible_max_ms", v.max());
                report.put("goal_p99_100ms", v.percentile(99) <= 100 ? "met" : "missed");
                report.put("aim_p99_50ms", v.percentile(99) <= 50 ? "met" : "missed");
            }
        }
    }

    /** The gateway connects to QMP in the background: wait until the VM is reported reachable, up to 30 s. */
    private static void awaitQmpReady(HttpClient http, GatewayProcess gateway, String admin) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(gateway.uri().resolve("/api/v1/vms"))
                    .header("Authorization", "Bearer " + admin).build(), HttpResponse.BodyHandlers.ofString());
            last = r.body();
            JsonNode vms = JSON.readTree(last);
            JsonNode list = vms.isArray() ? vms : vms.path("vms");
            for (JsonNode vm : list) {
                if (vm.path("id").asText().equals("vm") && vm.path("qmpConnected").asBoolean()) {
                    return;
                }
            }
            GatewayProcess.sleep(100);
        }
        Report.progress("QMP readiness not reported by GET /api/v1/vms (%s); going on", last);
    }

    /** Whether a 9x9 grid of points over the middle third of the screen differs from the guest's picture. */
    private static boolean differs(RfbClient c, int[] baseline, int w, int h) {
        if (c.width() != w || c.height() != h) {
            return true;
        }
        for (int gy = 0; gy < 9; gy++) {
            for (int gx = 0; gx < 9; gx++) {
                int x = w / 3 + gx * (w / 3) / 8;
                int y = h / 3 + gy * (h / 3) / 8;
                if (x < w && y < h && c.pixel(x, y) != baseline[y * w + x]) {
                    return true;
                }
            }
        }
        return false;
    }
}
