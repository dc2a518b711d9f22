package tmc.render;

import java.util.concurrent.Semaphore;

/**
 * At most a few renders at once, process-wide: a render of a large screen takes up to a second of CPU and tens of
 * megabytes of heap, so an admin token sending previews in a loop must not be able to take the heap or every core.
 * Message delivery waits for its turn ({@link #render}); a preview that finds no turn free is refused at once
 * ({@link #tryRender}: the API answers 429 with Retry-After).
 */
public final class RenderGate {
    /** Renders at once: a few, never more than the cores (2 on a small box, 4 at most). */
    public static final int PERMITS = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private static final Semaphore TURNS = new Semaphore(PERMITS, true);

    private RenderGate() {}

    /** Renders when a turn is free, waiting for one. */
    public static Bitmap render(RenderRequest request) {
        TURNS.acquireUninterruptibly();
        try {
            return MessageRenderer.render(request);
        } finally {
            TURNS.release();
        }
    }

    /** Renders if a turn is free now; null when all are taken. */
    public static Bitmap tryRender(RenderRequest request) {
        if (!TURNS.tryAcquire()) {
            return null;
        }
        try {
            return MessageRenderer.render(request);
        } finally {
            TURNS.release();
        }
    }

    /** Takes every turn until the result is closed (tests: the state "all renders busy", made on purpose). */
    public static AutoCloseable occupyAll() {
        TURNS.acquireUninterruptibly(PERMITS);
        return () -> TURNS.release(PERMITS);
    }
}
