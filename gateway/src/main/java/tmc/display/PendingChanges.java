package tmc.display;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import tmc.pixels.Cursor;
import tmc.pixels.Rect;
import tmc.pixels.Region;

/**
 * What changed in the guest's picture since its owner last took it, coalesced: a size change, the changed area as a
 * bounded {@link Region}, the latest cursor shape. QEMU's updates are applied to the picture as they arrive (cheap);
 * what viewers must then do about them (compositing, encoding) is expensive and is done on batches taken from here,
 * so a slow consumer makes bigger batches instead of a longer queue: whatever happens, this holds at most one
 * screen's worth of rectangles.
 *
 * <p>A batch is ready once QEMU has nothing more queued ({@link #drained}: the end of one of its refreshes) or the
 * oldest change has waited one refresh interval (QEMU never pausing). Thread safe.
 */
final class PendingChanges {
    /** QEMU's own display refresh interval (GUI_REFRESH_INTERVAL_DEFAULT): no viewer sees changes faster. */
    static final long REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(30);

    /** One batch: handle {@code resized} first (the whole picture is new), then the damage, then the cursor. */
    record Batch(boolean resized, List<Rect> damage, Cursor cursor) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    // Guarded by lock.
    private final Region damage = new Region();
    private boolean resized;
    private Cursor cursor;
    private boolean drained;
    private long oldest;
    private boolean closed;

    void damaged(Rect area) {
        lock.lock();
        try {
            if (!resized) {
                touch();
                damage.add(area);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The picture has a new size: all of it is new, so the damage so far is moot. */
    void resized() {
        lock.lock();
        try {
            touch();
            resized = true;
            damage.clear();
        } finally {
            lock.unlock();
        }
    }

    void cursor(Cursor shape) {
        lock.lock();
        try {
            touch();
            cursor = shape;
        } finally {
            lock.unlock();
        }
    }

    /** QEMU has nothing more queued for now: what is pending may go. */
    void drained() {
        lock.lock();
        try {
            if (pending()) {
                drained = true;
                ready.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The area held for the next batch, in pixels (tests, figures). */
    long area() {
        lock.lock();
        try {
            return damage.area();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the next batch; null once closed. */
    Batch take() throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                if (pending()) {
                    long wait = drained ? 0 : oldest + REFRESH_NANOS - System.nanoTime();
                    if (wait <= 0) {
                        Batch b = new Batch(resized, damage.takeAll(), cursor);
                        resized = false;
                        cursor = null;
                        drained = false;
                        return b;
                    }
                    ready.awaitNanos(wait);
                } else {
                    ready.await();
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private boolean pending() {
        return resized || cursor != null || !damage.isEmpty();
    }

    private void touch() {
        if (!pending()) {
            oldest = System.nanoTime();
            // A consumer waiting for the first change waits for the refresh interval from now on.
            ready.signal();
        }
    }
}
