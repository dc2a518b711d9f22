package tmc.fleet;

import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/**
 * Reads the outbox in sequence order and hands every event, once, to {@code sink}: this gateway's own changes and
 * those of every other gateway of the fleet. Woken by {@link #poke} (a local commit, or PostgreSQL's NOTIFY from
 * another gateway), and once a second in any case, so that a lost notification costs a second, never an event.
 *
 * <p>Gap-safe without waiting: the store hands out sequence numbers in commit order (see {@link Store}), so "after
 * the last seq seen" never passes over an event that commits later.
 */
public final class OutboxFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxFeed.class);
    private static final int BATCH = 500;
    private static final long POLL_MS = 1000;

    private final Store store;
    private final Consumer<OutboxEvent> sink;
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean stopped;
    private volatile long cursor;
    private Thread thread;

    /** @param after the last seq already handled (events after it are handed on) */
    public OutboxFeed(Store store, long after, Consumer<OutboxEvent> sink) {
        this.store = store;
        this.cursor = after;
        this.sink = sink;
    }

    public OutboxFeed start() {
        thread = Thread.ofVirtual().name("tmc-outbox-feed").start(this::run);
        return this;
    }

    /** Something was committed: read the outbox now. */
    public void poke() {
        wake.release();
    }

    /** The last seq handed on. */
    public long cursor() {
        return cursor;
    }

    @Override
    public void close() {
        stopped = true;
        wake.release();
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        while (!stopped) {
            try {
                wake.tryAcquire(POLL_MS, TimeUnit.MILLISECONDS);
                wake.drainPermits();
                List<OutboxEvent> batch;
                do {
                    batch = store.outboxAfter(cursor, BATCH);
                    for (OutboxEvent e : batch) {
                        if (stopped) {
                            return;
                        }
                        sink.accept(e);
                        cursor = e.seq();
                    }
                } while (batch.size() == BATCH);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("event=outbox-feed-failed error=\"{}\"", e.getMessage());
            }
        }
    }
}
