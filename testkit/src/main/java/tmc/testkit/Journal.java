package tmc.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * An append-only record of what a connection received (serial lines, QMP events), written by one reader thread and
 * read by tests. Entries are numbered from 0: a test takes a {@link #mark()} before it acts and then waits only for
 * what came later, so an earlier, unrelated entry can never satisfy it.
 */
final class Journal<T> {
    private final String what;
    /** Guarded by this. */
    private final List<T> entries = new ArrayList<>();
    /** Guarded by this. */
    private boolean ended;

    Journal(String what) {
        this.what = what;
    }

    synchronized void add(T entry) {
        entries.add(entry);
        notifyAll();
    }

    /** No more entries will come (the connection closed): waiters fail at once instead of timing out. */
    synchronized void end() {
        ended = true;
        notifyAll();
    }

    synchronized boolean ended() {
        return ended;
    }

    synchronized int mark() {
        return entries.size();
    }

    synchronized List<T> since(int mark) {
        return List.copyOf(entries.subList(Math.min(mark, entries.size()), entries.size()));
    }

    /**
     * Waits for the first entry at or after {@code mark} that matches {@code test}. Throws AssertionError on timeout
     * or when the journal ended, with {@code context} (e.g. the last lines) in the message.
     */
    synchronized T await(int mark, Predicate<T> test, Duration timeout, Function<Integer, String> context) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int next = mark;
        while (true) {
            for (; next < entries.size(); next++) {
                if (test.test(entries.get(next))) return entries.get(next);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || ended) {
                throw new AssertionError((ended ? what + " closed" : "timed out after " + timeout)
                        + " waiting for a matching " + what + " entry; " + context.apply(mark));
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
    }
}
