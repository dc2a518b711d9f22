package tmc.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code key=value} arguments after the benchmark's name, with defaults. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(String[] args, int from) {
        for (int i = from; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got " + args[i]);
            }
            values.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
    }

    int integer(String key, int fallback) {
        String v = values.remove(key);
        return v == null ? fallback : Integer.parseInt(v);
    }

    String string(String key, String fallback) {
        String v = values.remove(key);
        return v == null ? fallback : v;
    }

    boolean flag(String key, boolean fallback) {
        String v = values.remove(key);
        return v == null ? fallback : Boolean.parseBoolean(v);
    }

    /** Call after reading every argument: a misspelt one must not be silently ignored. */
    void done() {
        if (!values.isEmpty()) {
            throw new IllegalArgumentException("unknown arguments: " + values.keySet());
        }
    }
}
