package tmc.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scale of one gateway (its own JVM, default settings) on this machine:
 * <ol>
 *   <li>idle: open N sessions (WebSocket upgrade, JWT, upstream RFB handshake, browser RFB handshake) to a desktop
 *       where nothing changes, with a few opening at once; time to open them all, then the gateway's live heap
 *       after a full GC, its resident memory and its threads, per session;
 *   <li>streaming: S sessions pull full-screen updates at once for a fixed time; aggregate MB/s and fairness
 *       (Jain's index over the bytes each session got, and min/max);
 *   <li>paced: P sessions each get a steady R MB/s (updates at a fixed rate, stamped with the time each was due):
 *       whether each keeps its rate, and each session's p99 frame delay (due at the server until complete at the
 *       reader), through the gateway and, as the anchor, direct.
 * </ol>
 * File descriptors bound N: the gateway holds two per session and this process two (client and server end), under
 * a hard limit of {@code ulimit -Hn}.
 */
final class ScaleBench {
    private final Report report = new Report("scale");
    private final int idle;
    private final int parallel;
    private final int streams;
    private final int streamSeconds;
    private final int paced;
    private final int pacedMbs;
    private final int pacedFps;

    ScaleBench(Args args) {
        idle = args.integer("idle", 2000);
        parallel = args.integer("parallel", 8);
        streams = args.integer("streams", 100);
        streamSeconds = args.integer("streamSeconds", 10);
        paced = args.integer("paced", 200);
        pacedMbs = args.integer("pacedMbs", 5);
        pacedFps = args.integer("pacedFps", 30);
        report.label(args.string("label", ""));
        args.done();
    }

    Report report() {
        return report;
    }

    void run() throws Exception {
        if (idle > 0) {
            idle();
        }
        if (streams > 0) {
            streaming(true);
            streaming(false);
        }
        if (paced > 0) {
            paced(true);
            paced(false);
        }
    }

    /** P sessions at a steady rate each: kept up or not, and each one's p99 frame delay. */
    private void paced(boolean viaGateway) throws Exception {
        String path = viaGateway ? "gateway" : "direct";
        report.note("scale/paced: %d sessions %s, each %d MB/s in %d updates a second (1920 wide strips), for %d s",
                paced, viaGateway ? "through one gateway" : "direct (anchor)", pacedMbs, pacedFps, streamSeconds);
        try (SyntheticRfbServer server = SyntheticRfbServer.paced(1920, 1080, pacedMbs * 1_000_000, pacedFps);
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("synthetic", "bench",
                     "tcp:127.0.0.1:" + server.port(), null, null)), GatewayProcess.generousLimits(), List.of())) {
            String token = gateway.tenantToken("bench");
            List<RfbReader> readers = new ArrayList<>();
            List<BenchConn> conns = new ArrayList<>();
            try {
                for (int i = 0; i < paced; i++) {
                    BenchConn c = viaGateway ? BenchConn.websocket(gateway.vncUri("synthetic", token),
                            GatewayProcess.ORIGIN, 64 * 1024) : BenchConn.tcp("127.0.0.1", server.port());
                    conns.add(c);
                    RfbReader r = new RfbReader(c);
                    r.stamped = true;
                    readers.add(r.handshake());
                }
                long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                long end = warmEnd + TimeUnit.SECONDS.toNanos(streamSeconds);
                long[] got = new long[paced];
                List<List<Long>> delays = new ArrayList<>();
                List<Thread> threads = new ArrayList<>();
                double[] cpu0 = new double[1];
                for (int i = 0; i < paced; i++) {
                    delays.add(null);
                    int k = i;
                    threads.add(Thread.ofVirtual().start(() -> {
                        RfbReader r = readers.get(k);
                        try {
                            r.readUntil(Long.MAX_VALUE, warmEnd);
                            long b0 = r.bytes;
                            int d0 = r.delays.size();
                            r.readUntil(Long.MAX_VALUE, end);
                            got[k] = r.bytes - b0;
                            delays.set(k, new ArrayList<>(r.delays.subList(d0, r.delays.size())));
                        } catch (IOException e) {
                            got[k] = -1;
                        }
                    }));
                }
                GatewayProcess.sleep(TimeUnit.NANOSECONDS.toMillis(warmEnd - System.nanoTime()));
                cpu0[0] = gateway.cpuSeconds();
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(streamSeconds + 30));
                }
                double cpu = gateway.cpuSeconds() - cpu0[0];
                List<Double> p99s = new ArrayList<>();
                List<Double> all = new ArrayList<>();
                int keptUp = 0;
                int failed = 0;
                int starved = 0;
                long total = 0;
                double offered = pacedMbs * 1e6 * streamSeconds;
                for (int i = 0; i < paced; i++) {
                    if (got[i] < 0 || delays.get(i) == null) {
                        failed++; // the connection failed
                        continue;
                    }
                    if (delays.get(i).isEmpty()) {
                        starved++; // open, but not one update completed while measuring
                        continue;
                    }
                    total += got[i];
                    if (got[i] >= 0.95 * offered) {
                        keptUp++;
                    }
                    List<Double> ms = delays.get(i).stream().map(n -> n / 1e6).toList();
                    all.addAll(ms);
                    p99s.add(new Stats(ms).percentile(99));
                }
                Stats p99 = new Stats(p99s);
                Stats overall = new Stats(all);
                double mbs = total / 1e6 / streamSeconds;
                report.note("%s: %.0f of %.0f MB/s delivered, %d of %d sessions kept their rate (>= 95 %%), %d failed,"
                        + " %d got no update while measuring; frame delay p50 %.2f ms, p99 %.2f ms over all frames;"
                        + " per-session p99: median %.2f ms,"
                        + " worst %.2f ms%s", path, mbs, paced * (double) pacedMbs, keptUp, paced, failed, starved,
                        overall.percentile(50), overall.percentile(99), p99.percentile(50), p99.max(),
                        viaGateway ? String.format(java.util.Locale.ROOT, "; gateway CPU %.2f s/GB",
                                cpu / (total / 1e9)) : "");
                String k = "paced_" + path + "_";
                report.put("paced_sessions", paced);
                report.put("paced_mb_s_each", pacedMbs);
                report.put(k + "delivered_mb_s", mbs);
                report.put(k + "kept_rate", keptUp);
                report.put(k + "failed", failed);
                report.put(k + "starved", starved);
                report.put(k + "delay_p50_ms", overall.percentile(50));
                report.put(k + "delay_p99_ms", overall.percentile(99));
                report.put(k + "session_p99_median_ms", p99.percentile(50));
                report.put(k + "session_p99_worst_ms", p99.max());
            } finally {
                conns.forEach(BenchConn::close);
            }
        }
    }

    private void idle() throws Exception {
        report.note("scale/idle: %d sessions through one gateway to an idle synthetic desktop (1920x1080), %d opening"
                + " at once", idle, parallel);
        try (SyntheticRfbServer server = new SyntheticRfbServer(SyntheticRfbServer.Mode.IDLE, 1920, 1080);
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("synthetic", "bench",
                     "tcp:127.0.0.1:" + server.port(), null, null)), GatewayProcess.generousLimits(), List.of())) {
            String token = gateway.tenantToken("bench");
            // One session first: loads the classes a session needs, so the baseline is not flattered.
            BenchConn first = BenchConn.websocket(gateway.vncUri("synthetic", token), GatewayProcess.ORIGIN, 4096);
            new RfbReader(first).handshake();
            GatewayProcess.sleep(500);
            Memory before = memory(gateway);
            ConcurrentLinkedQueue<BenchConn> conns = new ConcurrentLinkedQueue<>();
            AtomicInteger failures = new AtomicInteger();
            AtomicLong firstFailure = new AtomicLong();
            List<String> errors = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.SECONDS.toNanos(300);
            try (ExecutorService pool = Executors.newFixedThreadPool(parallel)) {
                AtomicInteger next = new AtomicInteger();
                List<Future<?>> workers = new ArrayList<>();
                for (int w = 0; w < parallel; w++) {
                    workers.add(pool.submit(() -> {
                        while (next.getAndIncrement() < idle && System.nanoTime() < deadline) {
                            try {
                                BenchConn c = BenchConn.websocket(gateway.vncUri("synthetic", token),
                                        GatewayProcess.ORIGIN, 4096);
                                conns.add(c);
                                new RfbReader(c).handshake();
                            } catch (IOException e) {
                                if (failures.getAndIncrement() == 0) {
                                    firstFailure.set(conns.size());
                                }
                                if (errors.size() < 3) {
                                    errors.add(e.toString());
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : workers) {
                    f.get();
                }
            }
            double openSeconds = (System.nanoTime() - t0) / 1e9;
            int open = conns.size() - failures.get();
            GatewayProcess.sleep(1000);
            int live = server.connections() - 1;
            Memory after = memory(gateway);
            // Per session the VNC server still sees: idle clients read nothing, so they answer no pings, and on a
            // machine slow enough that opening takes longer than three ping intervals the first ones are cut off.
            int held = Math.min(open, live);
            double heapPer = (after.heapKiB - before.heapKiB) / (double) held;
            double rssPer = (after.rssKiB - before.rssKiB) / (double) held;
            double threadsPer = (after.threads - before.threads) / (double) held;
            report.note("opened %d sessions in %.1f s (%.0f per second), %d failed%s; %d live at the VNC server",
                    open, openSeconds, open / openSeconds, failures.get(),
                    errors.isEmpty() ? "" : " (first after " + firstFailure.get() + ": " + errors.get(0) + ")", live);
            report.note("gateway heap after full GC %d -> %d KiB (%.1f KiB per live session); RSS %d -> %d KiB (%.1f"
                    + " KiB per live session); threads %d -> %d", before.heapKiB, after.heapKiB, heapPer,
                    before.rssKiB, after.rssKiB, rssPer, before.threads, after.threads);
            report.put("idle_sessions", open);
            report.put("idle_live", live);
            report.put("idle_failed", failures.get());
            report.put("idle_open_s", openSeconds);
            report.put("idle_heap_kib_per_session", heapPer);
            report.put("idle_rss_kib_per_session", rssPer);
            report.put("idle_threads_per_session", threadsPer);
            report.put("idle_threads_total", after.threads);
            report.put("goal_10000_at_40kib", open >= 10_000 && failures.get() == 0 && heapPer <= 40 ? "met"
                    : "missed");
            for (BenchConn c : conns) {
                c.close();
            }
            first.close();
        }
    }

    private record Memory(long heapKiB, long rssKiB, long threads) {}

    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    /** The gateway's live heap (after a full GC), resident set and platform threads. */
    private static Memory memory(GatewayProcess gateway) throws IOException {
        gateway.jcmd("GC.run");
        String info = gateway.jcmd("GC.heap_info");
        Matcher m = USED.matcher(info);
        long heap = m.find() ? Long.parseLong(m.group(1)) : -1;
        long rss = -1;
        long threads = -1;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(gateway.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return new Memory(heap, rss, threads);
    }

    /**
     * {@code viaGateway} false: the same sessions straight to the server, the anchor for fairness (the readers and
     * the server share this JVM and the machine's two cores, so some unfairness is theirs, not the gateway's).
     */
    private void streaming(boolean viaGateway) throws Exception {
        String path = viaGateway ? "gateway" : "direct";
        report.note("scale/streaming: %d sessions %s, each pulling 1920x1080 Raw updates, for %d s", streams,
                viaGateway ? "through one gateway" : "direct (anchor)", streamSeconds);
        try (SyntheticRfbServer server = new SyntheticRfbServer(SyntheticRfbServer.Mode.STREAM, 1920, 1080);
             GatewayProcess gateway = GatewayProcess.start(List.of(new GatewayProcess.Vm("synthetic", "bench",
                     "tcp:127.0.0.1:" + server.port(), null, null)), GatewayProcess.generousLimits(), List.of())) {
            String token = gateway.tenantToken("bench");
            List<RfbReader> readers = new ArrayList<>();
            List<BenchConn> conns = new ArrayList<>();
            try {
                for (int i = 0; i < streams; i++) {
                    BenchConn c = viaGateway ? BenchConn.websocket(gateway.vncUri("synthetic", token),
                            GatewayProcess.ORIGIN, 64 * 1024) : BenchConn.tcp("127.0.0.1", server.port());
                    conns.add(c);
                    readers.add(new RfbReader(c).handshake());
                }
                // Warm up briefly together, then measure.
                long[] start = new long[streams];
                long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                long end = warmEnd + TimeUnit.SECONDS.toNanos(streamSeconds);
                double cpu0[] = new double[1];
                List<Thread> threads = new ArrayList<>();
                long[] got = new long[streams];
                for (int i = 0; i < streams; i++) {
                    int k = i;
                    threads.add(Thread.ofVirtual().start(() -> {
                        RfbReader r = readers.get(k);
                        try {
                            r.readUntil(Long.MAX_VALUE, warmEnd);
                            start[k] = r.bytes;
                            r.readUntil(Long.MAX_VALUE, end);
                            got[k] = r.bytes - start[k];
                        } catch (IOException e) {
                            got[k] = -1;
                        }
                    }));
                }
                GatewayProcess.sleep(TimeUnit.NANOSECONDS.toMillis(warmEnd - System.nanoTime()));
                cpu0[0] = gateway.cpuSeconds();
                long t0 = System.nanoTime();
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(streamSeconds + 30));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                double cpu = gateway.cpuSeconds() - cpu0[0];
                long total = 0;
                long min = Long.MAX_VALUE;
                long max = 0;
                double sumSq = 0;
                int failed = 0;
                for (long g : got) {
                    if (g < 0) {
                        failed++;
                        continue;
                    }
                    total += g;
                    min = Math.min(min, g);
                    max = Math.max(max, g);
                    sumSq += (double) g * g;
                }
                double jain = (double) total * total / (streams * sumSq);
                double mbs = total / 1e6 / seconds;
                report.note("%s: %.0f MB/s aggregate over %d sessions (%.1f MB/s each on average), Jain's"
                        + " fairness %.3f, per-session min %.1f / max %.1f MB/s, gateway CPU %.2f s/GB, %d failed",
                        path, mbs, streams, mbs / streams, jain, min / 1e6 / seconds, max / 1e6 / seconds,
                        cpu / (total / 1e9), failed);
                String k = "stream_" + path + "_";
                report.put("streams", streams);
                report.put(k + "aggregate_mb_s", mbs);
                report.put(k + "fairness_jain", jain);
                report.put(k + "min_mb_s", min / 1e6 / seconds);
                report.put(k + "max_mb_s", max / 1e6 / seconds);
                if (viaGateway) {
                    report.put(k + "cpu_s_per_gb", cpu / (total / 1e9));
                }
                report.put(k + "failed", failed);
            } finally {
                conns.forEach(BenchConn::close);
            }
        }
    }
}
