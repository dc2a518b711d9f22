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
 * same state. The client is connected through the gateway, as a browser would be; a second client connected
 * straight to QEMU's VNC server splits QEMU's part from the relay's.
 *
 * <p>Where the time goes: the gateway logs a timing line per message (logger {@code tmc.messages.timing}, turned on
 * here) with the stages it measures (validation, store, hand-off to the VM's thread, screen size, render, encode,
 * vnc-overlay-add) and the wall-clock time QEMU answered the add; the two clients give QEMU's refresh (add answered
 * until the direct client sees the message) and the relay (direct client until the gateway's client sees it).
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
                     GatewayProcess.generousLimits(), List.of("-Djava.util.logging.config.file="
                             + timingLogConfig()))) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String admin = gateway.adminToken();
            BenchConn conn = BenchConn.websocket(gateway.vncUri("vm", gateway.tenantToken("bench")),
                    GatewayProcess.ORIGIN, 64 * 1024);
            try (RfbClient client = RfbClient.connect(new BenchTransport(conn), null);
                 RfbClient direct = RfbClient.connect(new BenchTransport(BenchConn.tcp("127.0.0.1", vm.vncPort())),
                         null)) {
                client.awaitUpdate(0, Duration.ofSeconds(10));
                direct.awaitUpdate(0, Duration.ofSeconds(10));
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
                List<Sample> timed = new ArrayList<>();
                for (int i = 0; i < warmup + messages; i++) {
                    String body = "{\"vms\":[\"vm\"],\"title\":\"Maintenance " + i + "\",\"body\":\"This VM"
                            + " restarts at 22:00 for a kernel update.\",\"severity\":\"warning\",\"buttons\":"
                            + "[{\"id\":\"ok\",\"label\":\"OK\"},{\"id\":\"later\",\"label\":\"Later\"}]}";
                    long wall0 = System.currentTimeMillis();
                    long wall0Micros = epochMicros();
                    long t0 = System.nanoTime();
                    java.util.concurrent.CompletableFuture<Long> seenDirect = seen(direct, baseline, w, h);
                    java.util.concurrent.CompletableFuture<Long> seenGateway = seen(client, baseline, w, h);
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                    "/api/v1/messages"))
                            .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    long t1 = System.nanoTime();
                    if (r.statusCode() != 201) {
                        throw new IOException("POST /api/v1/messages: " + r.statusCode() + " " + r.body());
                    }
                    long t2 = seenGateway.get(10, java.util.concurrent.TimeUnit.SECONDS);
                    long tDirect = seenDirect.get(10, java.util.concurrent.TimeUnit.SECONDS);
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
                        timed.add(new Sample(id, wall0Micros, (t1 - t0) / 1000, (tDirect - t0) / 1000,
                                (t2 - t0) / 1000));
                    }
                    HttpResponse<String> d = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                    "/api/v1/messages/" + id)).header("Authorization", "Bearer " + admin)
                            .timeout(Duration.ofSeconds(10)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
                    if (d.statusCode() / 100 != 2) {
                        throw new IOException("DELETE message: " + d.statusCode() + " " + d.body());
                    }
                    client.awaitFrame(c -> !differs(c, baseline, w, h), Duration.ofSeconds(10));
                    direct.awaitFrame(c -> !differs(c, baseline, w, h), Duration.ofSeconds(10));
                }
                breakdown(timed, gateway.log());
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
                report.put("goal_p99_50ms", v.percentile(99) <= 50 ? "met" : "missed");
                report.put("goal_p50_15ms", v.percentile(50) <= 15 ? "met" : "missed");
            }
        }
    }

    /** One message's client-side times, microseconds from the POST. */
    private record Sample(String id, long postAtMicros, long answeredUs, long directUs, long gatewayUs) {}

    /** Completes with System.nanoTime() when {@code c} first shows something other than the guest's picture. */
    private static java.util.concurrent.CompletableFuture<Long> seen(RfbClient c, int[] baseline, int w, int h) {
        java.util.concurrent.CompletableFuture<Long> f = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                c.awaitFrame(x -> differs(x, baseline, w, h), Duration.ofSeconds(10));
                f.complete(System.nanoTime());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private static long epochMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    /** A java.util.logging configuration for the gateway: INFO as usual, plus the timing lines, one per line. */
    private static String timingLogConfig() throws IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("tmc-bench-jul-", ".properties");
        f.toFile().deleteOnExit();
        java.nio.file.Files.writeString(f, String.join("\n",
                "handlers=java.util.logging.ConsoleHandler",
                ".level=INFO",
                "tmc.messages.timing.level=FINE",
                "java.util.logging.ConsoleHandler.level=FINE",
                "java.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n", ""));
        return f.toString();
    }

    /**
     * Joins the clients' times with the gateway's timing lines and prints p50/p99 per stage. The stages add up to
     * the time to the gateway's client: what the gateway did before vnc-overlay-add returned, QEMU's refresh, the
     * relay.
     */
    private void breakdown(List<Sample> samples, String log) {
        java.util.Map<String, java.util.Map<String, Long>> lines = new java.util.HashMap<>();
        for (String line : log.split("\n")) {
            int at = line.indexOf("event=");
            if (at < 0 || !(line.contains("event=overlay-timing") || line.contains("event=message-timing"))) {
                continue;
            }
            java.util.Map<String, Long> fields = new java.util.HashMap<>();
            String message = null;
            for (String kv : line.substring(at).trim().split(" ")) {
                int eq = kv.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String k = kv.substring(0, eq);
                String v = kv.substring(eq + 1);
                if (k.equals("message")) {
                    message = v;
                } else if (k.endsWith("_us")) {
                    fields.put(k, Long.parseLong(v));
                }
            }
            if (message != null) {
                lines.computeIfAbsent(message, m -> new java.util.HashMap<>()).putAll(fields);
            }
        }
        String[] gatewayStages = {"validate_us", "store_insert_us", "publish_us", "queue_us", "store_read_us",
            "size_query_us", "render_us", "encode_us", "qmp_add_us"};
        String[] labels = {"validate (incl. layout check)", "store insert", "publish (SSE bus)",
            "hand-off to the VM's thread", "store read", "screen size (QMP query, or the last answer)",
            "render (or wait for the render ahead)", "encode (deflate, base64)", "vnc-overlay-add (QMP round trip)"};
        List<Double> untilAdd = new ArrayList<>();
        java.util.Map<String, List<Double>> stages = new java.util.LinkedHashMap<>();
        stages.put("HTTP, auth, JSON (the rest until add)", new ArrayList<>());
        for (String l : labels) {
            stages.put(l, new ArrayList<>());
        }
        stages.put("= POST until vnc-overlay-add answered", untilAdd);
        stages.put("QEMU refresh (add answered -> direct client)", new ArrayList<>());
        stages.put("relay (direct client -> gateway's client)", new ArrayList<>());
        stages.put("total: POST -> gateway's client", new ArrayList<>());
        stages.put("(off the path) record shown", new ArrayList<>());
        int joined = 0;
        for (Sample s : samples) {
            java.util.Map<String, Long> f = lines.get(s.id());
            if (f == null || !f.containsKey("qmp_done_at_us") || !f.containsKey("validate_us")) {
                continue;
            }
            joined++;
            long addDone = f.get("qmp_done_at_us") - s.postAtMicros();
            untilAdd.add(addDone / 1000.0);
            long inGateway = 0;
            for (int i = 0; i < gatewayStages.length; i++) {
                long us = f.getOrDefault(gatewayStages[i], 0L);
                inGateway += us;
                stages.get(labels[i]).add(us / 1000.0);
            }
            stages.get("HTTP, auth, JSON (the rest until add)").add((addDone - inGateway) / 1000.0);
            stages.get("QEMU refresh (add answered -> direct client)").add((s.directUs() - addDone) / 1000.0);
            stages.get("relay (direct client -> gateway's client)").add((s.gatewayUs() - s.directUs()) / 1000.0);
            stages.get("total: POST -> gateway's client").add(s.gatewayUs() / 1000.0);
            stages.get("(off the path) record shown").add(f.getOrDefault("store_shown_us", 0L) / 1000.0);
        }
        report.note("where the time goes (%d of %d messages joined with the gateway's timing lines), ms:", joined,
                samples.size());
        report.note("  %-46s %8s %8s", "stage", "p50", "p99");
        for (java.util.Map.Entry<String, List<Double>> e : stages.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            Stats st = new Stats(e.getValue());
            report.note("  %-46s %8.2f %8.2f", e.getKey(), st.percentile(50), st.percentile(99));
        }
        if (joined > 0) {
            report.put("qemu_refresh_p50_ms", new Stats(stages.get("QEMU refresh (add answered -> direct client)"))
                    .percentile(50));
            report.put("relay_p50_ms", new Stats(stages.get("relay (direct client -> gateway's client)"))
                    .percentile(50));
            report.put("render_p50_ms", new Stats(stages.get(labels[6])).percentile(50));
            report.put("qmp_add_p50_ms", new Stats(stages.get(labels[8])).percentile(50));
            report.put("gateway_until_add_p50_ms", new Stats(untilAdd).percentile(50));
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
    static boolean differs(RfbClient c, int[] baseline, int w, int h) {
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
