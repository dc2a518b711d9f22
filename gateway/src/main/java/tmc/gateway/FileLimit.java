package tmc.gateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The process's limit on open files, which caps the browser sessions a gateway holds: each takes two descriptors
 * (the browser's socket and the VM's). On Linux the JVM raises its soft limit to the hard one at start (HotSpot's
 * {@code MaxFDLimit}, on by default), so the gateway only has to say what it got; the hard limit is the
 * administrator's ({@code ulimit -Hn}, systemd's {@code LimitNOFILE}).
 *
 * @param soft the limit in force; -1 when unknown
 * @param hard the most it may be raised to; -1 when unknown or unlimited
 */
record FileLimit(long soft, long hard) {
    /** Descriptors held per live session. */
    static final int PER_SESSION = 2;
    /** Descriptors kept for everything else (jars, selectors, QMP sockets, the store). */
    static final int RESERVED = 200;

    static FileLimit current() {
        try {
            return parse(Files.readAllLines(Path.of("/proc/self/limits")));
        } catch (IOException | RuntimeException e) {
            return new FileLimit(-1, -1);
        }
    }

    /** Parses the "Max open files" line of /proc/PID/limits. */
    static FileLimit parse(List<String> lines) {
        for (String line : lines) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                return new FileLimit(number(f[0]), number(f[1]));
            }
        }
        return new FileLimit(-1, -1);
    }

    private static long number(String s) {
        return s.equals("unlimited") ? -1 : Long.parseLong(s);
    }

    /** Sessions the limit leaves room for. */
    long sessions() {
        return soft < 0 ? -1 : Math.max(0, (soft - RESERVED) / PER_SESSION);
    }

    /** One line for the start-up output. */
    String describe() {
        if (soft < 0) {
            return "open files: limit unknown";
        }
        String raise = hard >= 0 && soft < hard ? "; the hard limit is " + hard + ": raise the soft one (ulimit -n)"
                : " (the hard limit: ulimit -Hn or LimitNOFILE= raises it)";
        return "open files: limit " + soft + ", room for about " + sessions() + " browser sessions (" + PER_SESSION
                + " descriptors each)" + raise;
    }
}
