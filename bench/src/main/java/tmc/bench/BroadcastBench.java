package tmc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Broadcast: one message to every VM of a tenant of N VMs ({@code POST /api/v1/messages {"tenant": ...}}), time
 * from the POST until the last delivery's {@code shownAt} (as the API reports it), and until the last VM received
 * its {@code vnc-overlay-add}.
 * The VMs' QMP monitors are {@link QmpStandIn}s (real QMP, no QEMU behind them): N real VMs don't fit here.
 */
final class BroadcastBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Report report = new Report("broadcast");
    private final int vms;
    private final int rounds;

    BroadcastBench(Args args) {
        vms = args.integer("vms", 1000);
        rounds = args.integer("rounds", 3);
        report.label(args.string("label", ""));
        args.done();
    }

    Report report() {
        return report;
    }

    void run() throws Exception {
        report.note("broadcast: one message to a tenant of %d VMs, %d rounds after one warm-up; QMP endpoints are"
                + " lightweight stand-ins speaking real QMP (no QEMU behind them)", vms, rounds);
        try (QmpStandIn qmp = new QmpStandIn(vms)) {
            List<GatewayProcess.Vm> list = new ArrayList<>();
            for (int i = 0; i < vms; i++) {
                list.add(new GatewayProcess.Vm("vm-" + i, "bench", "tcp:127.0.0.1:9", null,
                        "unix:" + qmp.socket(i)));
            }
            long s0 = System.nanoTime();
            try (GatewayProcess gateway = GatewayProcess.start(list, GatewayProcess.generousLimits(), List.of())) {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                String admin = gateway.adminToken();
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (qmp.connected() < vms && System.nanoTime() < deadline) {
                    GatewayProcess.sleep(50);
                }
                report.note("gateway started and connected to %d/%d QMP monitors in %.1f s", qmp.connected(), vms,
                        (System.nanoTime() - s0) / 1e9);
                List<Double> shown = new ArrayList<>();
                List<Double> added = new ArrayList<>();
                for (int r = 0; r <= rounds; r++) {
                    qmp.reset();
                    String body = "{\"tenant\":\"bench\",\"title\":\"Maintenance tonight\",\"body\":\"All desktops"
                            + " restart at 22:00 (round " + r + ").\",\"severity\":\"warning\",\"buttons\":"
                            + "[{\"id\":\"ok\",\"label\":\"OK\"}]}";
                    long wall0 = System.currentTimeMillis();
                    long t0 = System.nanoTime();
                    HttpResponse<String> resp = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                    "/api/v1/messages")).header("Authorization", "Bearer " + admin)
                            .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    double postMs = (System.nanoTime() - t0) / 1e6;
                    if (resp.statusCode() != 201) {
                        throw new IOException("POST: " + resp.statusCode() + " " + resp.body());
                    }
                    String id = JSON.readTree(resp.body()).path("id").asText();
                    Map<String, Integer> states = new TreeMap<>();
                    double allShown = Double.NaN;
                    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (System.nanoTime() < end) {
                        HttpResponse<String> g = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                        "/api/v1/messages/" + id)).header("Authorization", "Bearer " + admin).build(),
                                HttpResponse.BodyHandlers.ofString());
                        states.clear();
                        long lastShown = 0;
                        for (JsonNode d : JSON.readTree(g.body()).path("deliveries")) {
                            states.merge(d.path("state").asText(), 1, Integer::sum);
                            if (d.path("shownAt").isTextual()) {
                                lastShown = Math.max(lastShown,
                                        Instant.parse(d.path("shownAt").asText()).toEpochMilli());
                            }
                        }
                        if (states.getOrDefault("shown", 0) == vms) {
                            // The deliveries' own shownAt (same clock): polling slowly does not blur it, and
                            // polling fast would load the gateway being measured.
                            allShown = lastShown - wall0;
                            break;
                        }
                        if (states.getOrDefault("queued", 0) == 0) {
                            break; // every delivery is settled, not all shown
                        }
                        GatewayProcess.sleep(250);
                    }
                    long last = qmp.adds().values().stream().mapToLong(Long::longValue).max().orElse(t0);
                    double lastAdd = (last - t0) / 1e6;
                    report.note("%s: POST %.0f ms, last vnc-overlay-add at %.0f ms (%d VMs), all shown in API at %.0f"
                            + " ms; states %s", r == 0 ? "warm-up" : "round " + r, postMs, lastAdd,
                            qmp.adds().size(), allShown, states);
                    if (r > 0) {
                        shown.add(Double.isNaN(allShown) ? Double.POSITIVE_INFINITY : allShown);
                        added.add(lastAdd);
                    }
                    HttpResponse<String> d = http.send(HttpRequest.newBuilder(gateway.uri().resolve(
                                    "/api/v1/messages/" + id)).header("Authorization", "Bearer " + admin)
                            .timeout(Duration.ofSeconds(30)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
                    if (d.statusCode() / 100 != 2) {
                        throw new IOException("DELETE: " + d.statusCode() + " " + d.body());
                    }
                    GatewayProcess.sleep(2000); // let the retraction's vnc-overlay-removes settle
                }
                Stats s = new Stats(shown);
                Stats a = new Stats(added);
                report.put("vms", vms);
                report.put("all_shown_median_ms", s.percentile(50));
                report.put("all_shown_max_ms", s.max());
                report.put("last_overlay_add_median_ms", a.percentile(50));
                report.put("qmp", "stand-in");
                report.put("goal_2s", s.max() <= 2000 ? "met" : "missed");
            }
        }
    }
}
