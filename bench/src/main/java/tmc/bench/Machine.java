package tmc.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on: they mean little without it. */
record Machine(int cores, String cpu, String jdk, String os, String load) {
    static Machine current() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("?");
        } catch (IOException ignored) {
            // Not Linux: leave it unknown.
        }
        String load = "?";
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            load = f[0] + " " + f[1] + " " + f[2];
        } catch (IOException ignored) {
            // idem
        }
        return new Machine(Runtime.getRuntime().availableProcessors(), cpu,
                System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version"), load);
    }

    /** {@code load} is read again: the load average at the end of a run says more than at its start. */
    String describe() {
        return cores + " cores (" + cpu + "), " + jdk + ", " + os + ", load average " + current().load();
    }
}
