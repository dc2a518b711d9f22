package tmc.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps one VM's QMP connection up: connects, and when the connection drops (QEMU stopped, restarted, or the
 * socket broke) reconnects with exponential backoff (100 ms doubling to 5 s, with jitter). Each successful
 * connect is reported with a generation number: generation 2 and later mean QEMU (or its monitor) went away and
 * came back, so whatever should be on screen must be put back.
 *
 * <p>Threads: one supervisor (virtual) thread; the handler is called on it ({@code onConnected},
 * {@code onDisconnected}) and on the client's reader thread ({@code onEvent}).
 */
public final class QmpConnection implements QmpTransport {
    private static final Logger LOG = Logger.getLogger(QmpConnection.class.getName());

    public interface Handler {
        /** A new connection is ready; {@code generation} counts connects, from 1. */
        void onConnected(QmpCommands client, long generation);

        void onEvent(String name, JsonNode data);

        void onDisconnected(Throwable cause);
    }

    private final String name;
    private final QmpAddress address;
    private final Handler handler;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by lock. */
    private QmpClient client;
    /** Guarded by lock. */
    private boolean closed;
    /** Guarded by lock. */
    private long generation;
    private Thread thread;

    public QmpConnection(String name, QmpAddress address, Handler handler) {
        this(name, address, handler, Duration.ofMillis(100), Duration.ofSeconds(5));
    }

    public QmpConnection(String name, QmpAddress address, Handler handler, Duration minBackoff, Duration maxBackoff) {
        this.name = name;
        this.address = address;
        this.handler = handler;
        this.minBackoff = minBackoff;
        this.maxBackoff = maxBackoff;
    }

    public QmpConnection start() {
        thread = Thread.ofVirtual().name("qmp " + name).start(this::run);
        return this;
    }

    public QmpAddress address() {
        return address;
    }

    /** The connected client, or null while disconnected. */
    public QmpClient client() {
        lock.lock();
        try {
            return client;
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code timeout} for a connection; null if none came. */
    public QmpClient awaitClient(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (client == null && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                changed.awaitNanos(left);
            }
            return client;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        QmpClient c;
        lock.lock();
        try {
            closed = true;
            c = client;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (c != null) {
            c.close();
        }
        if (thread != null) {
            thread.interrupt();
        }
    }

    private void run() {
        long backoff = minBackoff.toMillis();
        while (true) {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            ReentrantLock doneLock = new ReentrantLock();
            Condition doneCond = doneLock.newCondition();
            Throwable[] cause = new Throwable[1];
            boolean[] ended = new boolean[1];
            QmpClient c = null;
            try {
                c = QmpClient.connect(address, new QmpClient.Listener() {
                    @Override
                    public void onEvent(String event, JsonNode data, JsonNode timestamp) {
                        handler.onEvent(event, data);
                    }

                    @Override
                    public void onClosed(Throwable t) {
                        doneLock.lock();
                        try {
                            cause[0] = t;
                            ended[0] = true;
                            doneCond.signalAll();
                        } finally {
                            doneLock.unlock();
                        }
                    }
                }, Duration.ofSeconds(10));
            } catch (IOException | QmpException e) {
                LOG.log(Level.FINE, () -> "QMP " + name + " at " + address + ": " + e.getMessage());
            }
            if (c != null) {
                long gen;
                lock.lock();
                try {
                    if (closed) {
                        c.close();
                        return;
                    }
                    client = c;
                    gen = ++generation;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                backoff = minBackoff.toMillis();
                LOG.info("QMP " + name + ": connected to " + address + " (generation " + gen + ")");
                try {
                    handler.onConnected(c, gen);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "QMP " + name + ": onConnected failed", e);
                }
                doneLock.lock();
                try {
                    while (!ended[0]) {
                        doneCond.awaitUninterruptibly();
                    }
                } finally {
                    doneLock.unlock();
                }
                lock.lock();
                try {
                    client = null;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                LOG.info("QMP " + name + ": disconnected" + (cause[0] != null ? ": " + cause[0].getMessage() : ""));
                try {
                    handler.onDisconnected(cause[0]);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "QMP " + name + ": onDisconnected failed", e);
                }
            }
            long sleep = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            backoff = Math.min(backoff * 2, maxBackoff.toMillis());
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                // close() interrupts; the loop head checks closed
            }
        }
    }
}
