package tmc.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A benchmark's output: notes as it goes, then the figures, appended with the machine and the date to
 * bench/RESULTS.md, and {@code RESULT name key=value ...} as the very last line on stdout.
 */
final class Report {
    private final String name;
    private final Map<String, String> figures = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final Instant started = Instant.now();

    private String label = "";

    Report(String name) {
        this.name = name;
    }

    /** Shown in the RESULTS.md heading, e.g. "before: RfbRelay with heap buffers". */
    void label(String label) {
        this.label = label == null ? "" : label;
    }

    /** A line for the reader, printed now and kept for RESULTS.md. */
    void note(String format, Object... args) {
        String line = String.format(Locale.ROOT, format, args);
        notes.add(line);
        System.out.println(line);
        System.out.flush();
    }

    /** Progress for the console only. */
    static void progress(String format, Object... args) {
        System.out.println("  " + String.format(Locale.ROOT, format, args));
        System.out.flush();
    }

    void put(String key, String value) {
        figures.put(key, value.replace(' ', '_'));
    }

    void put(String key, long value) {
        put(key, Long.toString(value));
    }

    void put(String key, double value) {
        put(key, format(value));
    }

    static String format(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "nan";
        }
        double a = Math.abs(v);
        String s = a >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : a >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : a >= 1 ? String.format(Locale.ROOT, "%.2f", v)
                : String.format(Locale.ROOT, "%.3f", v);
        return s;
    }

    String resultLine() {
        StringBuilder b = new StringBuilder("RESULT ").append(name);
        figures.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }

    /** Appends to the results file (bench/RESULTS.md unless -Dtmc.bench.results says otherwise), prints RESULT. */
    void finish(Machine machine) {
        String result = resultLine();
        StringBuilder md = new StringBuilder();
        md.append("\n## ").append(name).append(" — ").append(started.truncatedTo(ChronoUnit.SECONDS))
                .append(label.isEmpty() ? "" : " — " + label).append("\n\n");
        md.append("Machine: ").append(machine.describe())
                .append(". Shared with other engineers' builds and tests while it ran.\n\n");
        for (String n : notes) {
            md.append("    ").append(n).append('\n');
        }
        md.append("\n```\n").append(result).append("\n```\n");
        Path file = Path.of(System.getProperty("tmc.bench.results", "bench/RESULTS.md"));
        try {
            if (!Files.exists(file)) {
                Files.writeString(file, "# tmc benchmark results\n\nAppended by `bench/run NAME`; newest last.\n",
                        StandardCharsets.UTF_8);
            }
            Files.writeString(file, md.toString(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("bench: cannot append to " + file + ": " + e);
        }
        System.out.println("machine: " + machine.describe());
        System.out.println(result);
        System.out.flush();
    }
}
