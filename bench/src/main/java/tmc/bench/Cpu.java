package tmc.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of processes, read from /proc: a relay's cost is the CPU its process tree burns per byte moved.
 * websockify forks a child per connection, so the tree (live descendants plus reaped children) is what counts.
 */
final class Cpu {
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux x86-64

    private Cpu() {}

    /** CPU seconds (user + system) of this JVM. */
    static double self() {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getProcessCpuTime() / 1e9;
    }

    /** CPU seconds of {@code pid}, its reaped children and every live descendant. */
    static double tree(long pid) {
        Map<Long, List<Long>> children = children();
        Map<Long, long[]> stats = new HashMap<>();
        children.values().forEach(list -> list.forEach(p -> stats.put(p, stat(p))));
        stats.put(pid, stat(pid));
        return sum(pid, children, stats) / TICKS_PER_SECOND;
    }

    /**
     * Read and write system calls made so far by {@code pid} and its live descendants, from /proc/PID/io: a relay's
     * syscalls per MB show how many bytes each one moves. The kernel counts read, readv, write and writev there (what
     * Java's NIO uses for sockets), not recv, recvfrom, send or sendto.
     */
    static long syscalls(long pid) {
        Map<Long, List<Long>> children = children();
        long total = 0;
        List<Long> todo = new ArrayList<>(List.of(pid));
        while (!todo.isEmpty()) {
            long p = todo.remove(todo.size() - 1);
            total += ioSyscalls(p);
            todo.addAll(children.getOrDefault(p, List.of()));
        }
        return total;
    }

    private static long ioSyscalls(long pid) {
        try {
            long n = 0;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "io"))) {
                if (line.startsWith("syscr:") || line.startsWith("syscw:")) {
                    n += Long.parseLong(line.substring(6).trim());
                }
            }
            return n;
        } catch (IOException e) {
            return 0; // gone
        }
    }

    /** Every live process's children, from /proc/PID/stat. */
    private static Map<Long, List<Long>> children() {
        Map<Long, List<Long>> children = new HashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long[] s = stat(Long.parseLong(name));
                if (s != null) {
                    children.computeIfAbsent(s[0], k -> new ArrayList<>()).add(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return children;
    }

    private static long sum(long pid, Map<Long, List<Long>> children, Map<Long, long[]> stats) {
        long[] s = stats.get(pid);
        long total = s == null ? 0 : s[1];
        for (long child : children.getOrDefault(pid, List.of())) {
            total += sum(child, children, stats);
        }
        return total;
    }

    /**
     * CPU seconds the JVM {@code pid} spent compiling (its C1 and C2 compiler threads). A gateway fresh from start
     * keeps compiling its start-up code (store, HTTP, JSON) for many seconds on a busy 2-core machine; that is not
     * what relaying costs, so the relay benchmark warms up until this stops growing and reports it apart.
     */
    static double jit(long pid) {
        long ticks = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String comm;
                String text;
                try {
                    comm = Files.readString(t.resolve("comm")).trim();
                    text = Files.readString(t.resolve("stat"));
                } catch (IOException e) {
                    continue; // the thread ended
                }
                if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
                    String[] f = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                }
            }
        } catch (IOException e) {
            return 0; // the process is gone
        }
        return ticks / TICKS_PER_SECOND;
    }

    /** {ppid, utime+stime+cutime+cstime} or null when the process is gone. */
    private static long[] stat(long pid) {
        String text;
        try {
            text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException e) {
            return null;
        }
        // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
        String[] f = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
        long ppid = Long.parseLong(f[1]);
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return new long[] {ppid, ticks};
    }
}
