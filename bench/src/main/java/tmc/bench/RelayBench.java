package tmc.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Relay throughput: a synthetic RFB server streams full-screen Raw updates (1920x1080x32 bpp, 8.3 MB each) as fast
 * as the reader takes them; the same reader pulls N MB through a direct TCP connection, tmc's gateway (its own JVM,
 * WebSocket) and websockify (WebSocket). The paths take turns within each round, so a noisy neighbour hits all of
 * them alike; the figure per path is the median over the rounds.
 *
 * <p>CPU per GB: {@code *_cpu_s_per_gb} is everything on the path (this JVM's server and reader plus the relay
 * process), {@code *_relay_cpu_s_per_gb} the relay process alone; both the median over the rounds, like the
 * throughput, after a warm-up long enough for the JIT (a gateway compiling its relay loop is not what a gateway
 * that has run for a minute costs).
 *
 * <p>With {@code TMC_BENCH_BASELINE=REV} a second gateway built from REV runs as the path "baseline", interleaved
 * with the others: before and after of a change in one run.
 */
final class RelayBench {
    private static final long MB = 1_000_000;

    private enum Path { DIRECT, GATEWAY, BASELINE, WEBSOCKIFY }

    /**
     * {@code jitCpu}: of {@code relayCpu}, what the gateway's JIT compiler threads spent (0 for other paths);
     * {@code syscalls}: the gateway's read and write system calls (/proc/PID/io counts read, readv, write, writev:
     * what Java's NIO uses; not recv/send, which is what websockify uses, so 0 for the other paths).
     */
    private record Run(double seconds, long bytes, double endpointsCpu, double relayCpu, double jitCpu,
            long syscalls) {
        double mbPerSecond() {
            return bytes / MB / seconds;
        }

        double cpuPerGb() {
            return (endpointsCpu + relayCpu) / (bytes / 1e9);
        }

        double relayCpuPerGb() {
            return relayCpu / (bytes / 1e9);
        }

        double jitCpuPerGb() {
            return jitCpu / (bytes / 1e9);
        }

        double syscallsPerMb() {
            return syscalls / (bytes / (double) MB);
        }
    }

    /** Warm-up ends once the gateway's compiler threads take less than this share of its CPU over a block. */
    private static final double JIT_QUIET = 0.03;

    private final Report report = new Report("relay");
    private final int mb;
    private final int websockifyMb;
    private final int rounds;
    private final int warmupMb;
    private final int warmupMaxMb;
    private final int seconds;
    private final List<String> gatewayJvmArgs;
    private final List<Path> paths = new ArrayList<>();
    private final int chunkBytes;
    private final int inFlightBytes;

    RelayBench(Args args) {
        mb = args.integer("mb", 2000);
        websockifyMb = args.integer("websockifyMb", Math.max(64, mb / 4));
        rounds = args.integer("rounds", 3);
        warmupMb = args.integer("warmupMb", 3000);
        warmupMaxMb = args.integer("warmupMaxMb", 5 * warmupMb);
        seconds = args.integer("maxSeconds", 30);
        gatewayJvmArgs = List.of();
        chunkBytes = args.integer("chunkBytes", 0); // 0: the gateway's default
        inFlightBytes = args.integer("maxInFlightBytes", 0);
        String all = GatewayProcess.baselineLibDir() != null ? "direct,gateway,baseline,websockify"
                : "direct,gateway,websockify";
        for (String p : args.string("paths", all).split(",")) {
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
             GatewayProcess baseline = paths.contains(Path.BASELINE) ? GatewayProcess.startBaseline(List.of(
                     new GatewayProcess.Vm("synthetic", "bench", "tcp:127.0.0.1:" + server.port(), null, null)),
                     limits(), gatewayJvmArgs) : null;
             WebsockifyProcess websockify = WebsockifyProcess.start(server.port())) {
            if (paths.contains(Path.BASELINE) && baseline == null) {
                throw new IllegalArgumentException("path baseline needs TMC_BENCH_BASELINE=REV");
            }
            if (baseline != null) {
                report.note("baseline: the gateway at %s", GatewayProcess.baselineRev());
            }
            Gateways gateways = new Gateways(gateway, baseline);
            Map<Path, List<Run>> runs = new LinkedHashMap<>();
            for (Path p : Path.values()) {
                runs.put(p, new ArrayList<>());
            }
            Report.progress("warm-up (%d MB direct and through the gateway, %d MB through websockify)", warmupMb,
                    Math.min(warmupMb, 100));
            for (Path p : paths) {
                if (p == Path.GATEWAY || p == Path.BASELINE) {
                    warmUp(p, server, gateways, websockify);
                } else {
                    transfer(p, server, gateways, websockify, p == Path.WEBSOCKIFY ? Math.min(warmupMb, 100)
                            : warmupMb);
                }
            }
            for (int r = 1; r <= rounds; r++) {
                for (Path p : paths) {
                    Run run = transfer(p, server, gateways, websockify, p == Path.WEBSOCKIFY ? websockifyMb : mb);
                    runs.get(p).add(run);
                    report.note("round %d %-10s %7.1f MB/s  %5.0f MB in %5.2f s  cpu: endpoints %5.2f s, relay %5.2f s%s",
                            r, p.name().toLowerCase(), run.mbPerSecond(), run.bytes / (double) MB, run.seconds,
                            run.endpointsCpu, run.relayCpu, p == Path.GATEWAY || p == Path.BASELINE
                                    ? String.format(Locale.ROOT, " (JIT %4.2f s), %4.1f reads+writes per MB",
                                            run.jitCpu, run.syscallsPerMb()) : "");
                }
            }
            Map<Path, Double> median = new LinkedHashMap<>();
            Map<Path, Double> relayCpu = new LinkedHashMap<>();
            for (Path p : paths) {
                String k = p.name().toLowerCase();
                List<Run> list = runs.get(p);
                median.put(p, median(list.stream().map(Run::mbPerSecond).toList()));
                report.put(k + "_mb_s", median.get(p));
                report.put(k + "_cpu_s_per_gb", median(list.stream().map(Run::cpuPerGb).toList()));
                if (p != Path.DIRECT) {
                    relayCpu.put(p, median(list.stream().map(Run::relayCpuPerGb).toList()));
                    report.put(k + "_relay_cpu_s_per_gb", relayCpu.get(p));
                    if (p != Path.WEBSOCKIFY) {
                        report.put(k + "_jit_cpu_s_per_gb", median(list.stream().map(Run::jitCpuPerGb).toList()));
                        report.put(k + "_syscalls_per_mb", median(list.stream().map(Run::syscallsPerMb).toList()));
                    }
                }
            }
            if (paths.containsAll(List.of(Path.DIRECT, Path.GATEWAY))) {
                double vsDirect = median.get(Path.GATEWAY) / median.get(Path.DIRECT);
                report.put("gateway_vs_direct", vsDirect);
                report.put("goal_vs_direct_0.5", vsDirect >= 0.5 ? "met" : "missed");
            }
            if (paths.contains(Path.GATEWAY)) {
                report.put("goal_relay_cpu_0.5", relayCpu.get(Path.GATEWAY) <= 0.5 ? "met" : "missed");
            }
            if (paths.containsAll(List.of(Path.GATEWAY, Path.WEBSOCKIFY))) {
                double vsWebsockify = median.get(Path.GATEWAY) / median.get(Path.WEBSOCKIFY);
                double efficiency = relayCpu.get(Path.WEBSOCKIFY) / relayCpu.get(Path.GATEWAY);
                report.put("gateway_vs_websockify", vsWebsockify);
                report.put("gateway_efficiency_vs_websockify", efficiency);
                report.put("goal_efficiency_vs_websockify_2", efficiency >= 2 ? "met" : "missed");
                report.note("gateway/websockify %.2f (throughput), websockify/gateway relay CPU per GB %.2f; websockify %s",
                        vsWebsockify, efficiency, WebsockifyProcess.version());
            }
            if (paths.containsAll(List.of(Path.GATEWAY, Path.BASELINE))) {
                report.put("gateway_vs_baseline", median.get(Path.GATEWAY) / median.get(Path.BASELINE));
                report.put("baseline_vs_gateway_relay_cpu", relayCpu.get(Path.BASELINE) / relayCpu.get(Path.GATEWAY));
            }
            if (paths.containsAll(List.of(Path.DIRECT, Path.GATEWAY))) {
                report.note("gateway/direct %.2f (goal >= 0.5); gateway relay CPU %.3f s/GB (goal <= 0.5)",
                        median.get(Path.GATEWAY) / median.get(Path.DIRECT), relayCpu.get(Path.GATEWAY));
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    /** The gateway under test and, when asked for, the baseline one. */
    private record Gateways(GatewayProcess gateway, GatewayProcess baseline) {}

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

    /**
     * Relays {@code warmupMb}, then more in blocks of a third of it until the gateway's JIT compiler threads take
     * under {@link #JIT_QUIET} of its CPU over a block (or {@code warmupMaxMb} is reached): a gateway that has run
     * for minutes has compiled its start-up code long ago, and the rounds should measure relaying, not that.
     */
    private void warmUp(Path path, SyntheticRfbServer server, Gateways gateways, WebsockifyProcess websockify)
            throws IOException {
        Run run = transfer(path, server, gateways, websockify, warmupMb);
        int total = warmupMb;
        int block = Math.max(1000, warmupMb / 3); // CPU ticks are 10 ms: smaller blocks say little
        while (run.jitCpu > JIT_QUIET * run.relayCpu && total + block <= warmupMaxMb) {
            run = transfer(path, server, gateways, websockify, block);
            total += block;
        }
        report.note("warm-up %-10s %5d MB; compiler threads %.0f %% of the gateway's CPU in the last %d MB%s",
                path.name().toLowerCase(), total, 100 * run.jitCpu / Math.max(run.relayCpu, 1e-9),
                run.bytes / MB, run.jitCpu > JIT_QUIET * run.relayCpu ? " (warmupMaxMb reached)" : "");
    }

    private Run transfer(Path path, SyntheticRfbServer server, Gateways gateways, WebsockifyProcess websockify,
            int megabytes) throws IOException {
        GatewayProcess gateway = path == Path.BASELINE ? gateways.baseline() : gateways.gateway();
        BenchConn conn = switch (path) {
            case DIRECT -> BenchConn.tcp("127.0.0.1", server.port());
            case GATEWAY, BASELINE -> BenchConn.websocket(gateway.vncUri("synthetic", gateway.tenantToken("bench")),
                    GatewayProcess.ORIGIN);
            case WEBSOCKIFY -> BenchConn.websocket(websockify.uri(), null);
        };
        try (conn) {
            RfbReader reader = new RfbReader(conn).handshake();
            double relay0 = relayCpu(path, gateway, websockify);
            double jit0 = jitCpu(path, gateway);
            long sys0 = syscalls(path, gateway);
            double self0 = Cpu.self();
            long bytes0 = reader.bytes;
            long t0 = System.nanoTime();
            reader.readUntil(bytes0 + megabytes * MB, t0 + TimeUnit.SECONDS.toNanos(seconds));
            long t1 = System.nanoTime();
            double self1 = Cpu.self();
            double relay1 = relayCpu(path, gateway, websockify);
            double jit1 = jitCpu(path, gateway);
            long sys1 = syscalls(path, gateway);
            return new Run((t1 - t0) / 1e9, reader.bytes - bytes0, self1 - self0, relay1 - relay0, jit1 - jit0,
                    sys1 - sys0);
        }
    }

    private static long syscalls(Path path, GatewayProcess gateway) {
        return path == Path.GATEWAY || path == Path.BASELINE ? Cpu.syscalls(gateway.pid()) : 0;
    }

    private static double jitCpu(Path path, GatewayProcess gateway) {
        return path == Path.GATEWAY || path == Path.BASELINE ? Cpu.jit(gateway.pid()) : 0;
    }

    private static double relayCpu(Path path, GatewayProcess gateway, WebsockifyProcess websockify) {
        return switch (path) {
            case DIRECT -> 0;
            case GATEWAY, BASELINE -> gateway.cpuSeconds();
            case WEBSOCKIFY -> websockify.cpuSeconds();
        };
    }

    Report report() {
        return report;
    }
}
