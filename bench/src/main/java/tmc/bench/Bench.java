package tmc.bench;

/**
 * {@code bench/run NAME [key=value ...]}: runs one benchmark, prints its figures, appends them to
 * bench/RESULTS.md and prints {@code RESULT NAME key=value ...} last.
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0) {
            usage();
        }
        Args args = new Args(argv, 1);
        // Options for the gateway JVM, common to all benchmarks: gatewayJvm="-Dx=y -Xmx1g", jfr=FILE.
        String jvm = args.string("gatewayJvm", "");
        for (String a : jvm.trim().split("\\s+")) {
            if (!a.isEmpty()) {
                GatewayProcess.extraJvmArgs.add(a);
            }
        }
        String jfr = args.string("jfr", null);
        if (jfr != null) {
            GatewayProcess.extraJvmArgs.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
        }
        Machine machine = Machine.current();
        System.out.println("machine: " + machine.describe());
        Report report;
        switch (argv[0]) {
            case "relay" -> {
                RelayBench b = new RelayBench(args);
                b.run();
                report = b.report();
            }
            case "latency" -> {
                LatencyBench b = new LatencyBench(args);
                b.run();
                report = b.report();
            }
            case "inject" -> {
                InjectBench b = new InjectBench(args);
                b.run();
                report = b.report();
            }
            case "scale" -> {
                ScaleBench b = new ScaleBench(args);
                b.run();
                report = b.report();
            }
            case "dbus" -> {
                DbusBench b = new DbusBench(args);
                b.run();
                report = b.report();
            }
            case "broadcast" -> {
                BroadcastBench b = new BroadcastBench(args);
                b.run();
                report = b.report();
            }
            default -> {
                usage();
                return;
            }
        }
        report.finish(machine);
        System.exit(0); // stray non-daemon threads of clients must not keep the JVM alive
    }

    private static void usage() {
        System.err.println("usage: bench/run relay|latency|inject|scale|broadcast|dbus [key=value ...]");
        System.exit(2);
    }
}
