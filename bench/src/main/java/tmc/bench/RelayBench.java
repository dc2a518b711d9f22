package tmc.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Relay throughput: a synthetic RFB server streams full-screen Raw updates (1920x1080x32 bpp, 8.3 MB each) as fast
 * as the reader takes them; the same reader pulls N MB through a direct TCP connection, tmc's gateway (its own JVM,
 * WebSocket) and websockify (WebSocket). The paths take turns within each round, so a noisy neighbour hits all of
 * them alike; the figure per path is the median over the rounds.
 *
 * <p>CPU per GB: {@code *_cpu_s_per_gb} is everything on the path (this JVM's server and reader plus the relay
 * process), {@code *_relay_cpu_s_per_gb} the relay process alone.
 */
final class RelayBench {
    private static final long MB = 1_000_000;

    private enum Path { DIRECT, GATEWAY, WEBSOCKIFY }

    private record Run(double seconds, long bytes, double endpointsCpu, double relayCpu) {
        double mbPerSecond() {
            return bytes / MB / seconds;
        }
    }

    private final Report report = new Report("relay");
    private final int mb;
    private final int websockifyMb;
    private final int rounds;
    private final int warmupMb;
    private final int seconds;
    private final List<String> gatewayJvmArgs;
    private final List<Path> paths = new ArrayList<>();
    private final int chunkBytes;
    private final int inFlightBytes;

    RelayBench(Args args) {
        mb = args.integer("mb", 2000);
        websockifyMb = args.integer("websockifyMb", Math.max(64, mb / 4));
        rounds = args.integer("rounds", 3);
        warmupMb = args.integer("warmupMb", 500);
        seconds = args.integer("maxSeconds", 30);
        gatewayJvmArgs = List.of();
        chunkBytes = args.integer("chunkBytes", 0); // 0: the gateway's default
        inFlightBytes = args.integer("maxInFlightBytes", 0);
        for (String p : args.string("paths", "direct,gateway,websockify").split(",")) {
            paths.add(Path.valueOf(p.trim().toUpperCase()));
        }
        report.label(args.string("label", ""));
        args.done();
    }

    void run() throws Exception {
        report.note("relay: %d MB per run (websockify %d MB), %d rounds, synthetic RFB server 1920x1080 Raw",
                mb, websockifyMb, rounds);
        try (SyntheticRfbServer server = new SyntheticRfbServer(SyntheticRfbServer.Mode.STREAM, 1920, 1080);
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("synthetic", "bench",
                     "tcp:127.0.0.1:" + server.port(), null, null)), limits(), gatewayJvmArgs);
             WebsockifyProcess websockify = WebsockifyProcess.start(server.port())) {
            String token = gateway.tenantToken("bench");
            Map<Path, List<Run>> runs = new LinkedHashMap<>();
            for (Path p : Path.values()) {
                runs.put(p, new ArrayList<>());
            }
            Report.progress("warm-up (%d MB direct and through the gateway, %d MB through websockify)", warmupMb,
                    Math.min(warmupMb, 100));
            for (Path p : paths) {
                transfer(p, server, gateway, websockify, token, p == Path.WEBSOCKIFY ? Math.min(warmupMb, 100)
                        : warmupMb);
            }
            for (int r = 1; r <= rounds; r++) {
                for (Path p : paths) {
                    Run run = transfer(p, server, gateway, websockify, token,
                            p == Path.WEBSOCKIFY ? websockifyMb : mb);
                    runs.get(p).add(run);
                    report.note("round %d %-10s %7.1f MB/s  %5.0f MB in %5.2f s  cpu: endpoints %5.2f s, relay %5.2f s",
                            r, p.name().toLowerCase(), run.mbPerSecond(), run.bytes / (double) MB, run.seconds,
                            run.endpointsCpu, run.relayCpu);
                }
            }
            Map<Path, Double> median = new LinkedHashMap<>();
            for (Path p : paths) {
                String k = p.name().toLowerCase();
                List<Run> list = runs.get(p);
                List<Double> rates = new ArrayList<>();
                double bytes = 0;
                double cpu = 0;
                double relay = 0;
                for (Run run : list) {
                    rates.add(run.mbPerSecond());
                    bytes += run.bytes;
                    cpu += run.endpointsCpu + run.relayCpu;
                    relay += run.relayCpu;
                }
                Collections.sort(rates);
                double m = rates.get(rates.size() / 2);
                median.put(p, m);
                report.put(k + "_mb_s", m);
                report.put(k + "_cpu_s_per_gb", cpu / (bytes / 1e9));
                if (p != Path.DIRECT) {
                    report.put(k + "_relay_cpu_s_per_gb", relay / (bytes / 1e9));
                }
            }
            if (!paths.containsAll(List.of(Path.values()))) {
                return;
            }
            double vsDirect = median.get(Path.GATEWAY) / median.get(Path.DIRECT);
            double vsWebsockify = median.get(Path.GATEWAY) / median.get(Path.WEBSOCKIFY);
            report.put("gateway_vs_direct", vsDirect);
            report.put("gateway_vs_websockify", vsWebsockify);
            report.put("goal_vs_direct_0.9", vsDirect >= 0.9 ? "met" : "missed");
            report.put("goal_vs_websockify_5", vsWebsockify >= 5 ? "met" : "missed");
            report.note("gateway/direct %.2f (goal >= 0.9), gateway/websockify %.1f (goal >= 5); websockify %s",
                    vsDirect, vsWebsockify, WebsockifyProcess.version());
        }
    }

    private com.fasterxml.jackson.databind.node.ObjectNode limits() {
        var limits = GatewayProcess.generousLimits();
        if (chunkBytes > 0) {
            limits.put("chunkBytes", chunkBytes);
            report.note("gateway limits.chunkBytes=%d", chunkBytes);
        }
        if (inFlightBytes > 0) {
            limits.put("maxInFlightBytes", inFlightBytes);
            report.note("gateway limits.maxInFlightBytes=%d", inFlightBytes);
        }
        return limits;
    }

    private Run transfer(Path path, SyntheticRfbServer server, GatewayProcess gateway, WebsockifyProcess websockify,
            String token, int megabytes) throws IOException {
        BenchConn conn = switch (path) {
            case DIRECT -> BenchConn.tcp("127.0.0.1", server.port());
            case GATEWAY -> BenchConn.websocket(gateway.vncUri("synthetic", token), GatewayProcess.ORIGIN);
            case WEBSOCKIFY -> BenchConn.websocket(websockify.uri(), null);
        };
        try (conn) {
            RfbReader reader = new RfbReader(conn).handshake();
            double relay0 = relayCpu(path, gateway, websockify);
            double self0 = Cpu.self();
            long bytes0 = reader.bytes;
            long t0 = System.nanoTime();
            reader.readUntil(bytes0 + megabytes * MB, t0 + TimeUnit.SECONDS.toNanos(seconds));
            long t1 = System.nanoTime();
            double self1 = Cpu.self();
            double relay1 = relayCpu(path, gateway, websockify);
            return new Run((t1 - t0) / 1e9, reader.bytes - bytes0, self1 - self0, relay1 - relay0);
        }
    }

    private static double relayCpu(Path path, GatewayProcess gateway, WebsockifyProcess websockify) {
        return switch (path) {
            case DIRECT -> 0;
            case GATEWAY -> gateway.cpuSeconds();
            case WEBSOCKIFY -> websockify.cpuSeconds();
        };
    }

    Report report() {
        return report;
    }
}
