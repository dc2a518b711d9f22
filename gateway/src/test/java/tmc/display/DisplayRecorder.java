package tmc.display;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import tmc.pixels.Cursor;
import tmc.pixels.Rect;

/** Records what a {@link DbusDisplay} reports, for tests to wait on. */
final class DisplayRecorder implements DisplayEvents {
    sealed interface Event permits Resized, Damaged, CursorChanged, Closed {}

    record Resized(int width, int height) implements Event {}

    record Damaged(Rect area) implements Event {}

    record CursorChanged(Cursor cursor) implements Event {}

    record Closed(Throwable cause) implements Event {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

    @Override
    public void resized(int width, int height) {
        events.add(new Resized(width, height));
    }

    @Override
    public void damaged(Rect area) {
        events.add(new Damaged(area));
    }

    @Override
    public void cursor(Cursor cursor) {
        events.add(new CursorChanged(cursor));
    }

    @Override
    public void closed(Throwable cause) {
        events.add(new Closed(cause));
    }

    void clear() {
        events.clear();
    }

    /** Waits for the first event matching {@code test}, dropping those before it. */
    Event await(Predicate<Event> test, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Event> seen = new ArrayList<>();
        try {
            while (true) {
                Event e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (e == null) fail("no " + what + " within " + timeout + "; saw " + seen);
                if (test.test(e)) return e;
                if (seen.size() < 20) seen.add(e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
