package tmc.vmscreen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import tmc.display.DisplayLink;
import tmc.display.DisplayLinks;
import tmc.qmp.QmpConnection;
import tmc.qmp.QmpTransport;
import tmc.rfbserver.RfbDesktop;
import tmc.rfbserver.RfbTcpListener;

/**
 * Keeps one D-Bus display VM attached: attaches to its QMP socket, and when QEMU goes away (stopped, restarted)
 * attaches again with backoff (100 ms doubling to 5 s, with jitter), as {@link QmpConnection} does for the patched
 * QEMU. Each attach is a new {@link VmScreen}: viewers of the old one are disconnected, and every message-channel
 * handler is told of the new connection with a generation number, so it puts back what should be on screen.
 *
 * <p>Optionally it listens for native VNC viewers on TCP behind VNC Authentication ({@link #listenForViewers}); the
 * listener stays bound across QEMU restarts and serves whichever screen is current.
 *
 * <p>Threads: one supervisor (platform) thread; handlers are called on it and, for feedback, on the viewer's thread
 * that answered.
 */
public final class DbusVm implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DbusVm.class.getName());
    private static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(30);
    private static final long MIN_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5000;

    private final String id;
    private final DisplayLink.Opener link;
    private final String what;
    private final List<QmpConnection.Handler> handlers = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private VmScreen screen;
    private long generation;
    private boolean closed;
    private boolean retry;
    private Thread thread;
    private InetSocketAddress vncListen;
    private String vncPassword;
    private RfbTcpListener listener;

    public DbusVm(String id, Path qmpSocket) {
        this(id, DisplayLinks.qmp(qmpSocket), qmpSocket.toString());
    }

    /** A VM whose display {@code link} reaches ({@code what} names it in the log), e.g. through libvirt. */
    public DbusVm(String id, DisplayLink.Opener link, String what) {
        this.id = id;
        this.link = link;
        this.what = what;
    }

    /** Tries to attach now instead of after the current backoff (the VM has just started). */
    public void retryNow() {
        lock.lock();
        try {
            retry = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Also serve native VNC viewers on {@code address} (port 0: any), after VNC Authentication with this password. */
    public DbusVm listenForViewers(InetSocketAddress address, String password) {
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException("a VNC listener needs a password");
        }
        this.vncListen = address;
        this.vncPassword = password;
        return this;
    }

    /** Binds the viewers' listener, if any (a port in use stops the start), and starts attaching. */
    public DbusVm start() {
        if (vncListen != null) {
            try {
                listener = RfbTcpListener.start(this::desktop, vncListen, vncPassword);
            } catch (IOException e) {
                throw new UncheckedIOException("VM " + id + ": cannot listen for VNC viewers on " + vncListen
                        + ": " + e.getMessage(), e);
            }
            LOG.info("VM " + id + ": VNC viewers on " + vncListen.getHostString() + ":" + listener.port());
        }
        // A platform thread: junixsocket switches a socket first used on a virtual thread (the QMP link's greeting)
        // to polling on the common ForkJoinPool, where the idle QMP watcher then held the pool's only worker on a
        // 2-core machine for the VM's life, stalling everything else that runs there (the JDK's HttpClient and
        // WebSocket handshakes, CompletableFuture's default async stages).
        thread = Thread.ofPlatform().daemon().name("dbus-vm " + id).start(this::run);
        return this;
    }

    /** The TCP port native viewers connect to, or -1 without a listener. */
    public int vncPort() {
        return listener == null ? -1 : listener.port();
    }

    /** The current screen, or null while QEMU is away. */
    public VmScreen screen() {
        lock.lock();
        try {
            return screen;
        } finally {
            lock.unlock();
        }
    }

    /** The current RFB server for viewers, or null while QEMU is away. */
    public RfbDesktop desktop() {
        VmScreen s = screen();
        return s == null ? null : s.desktop();
    }

    /** Waits up to {@code timeout} for a screen; null if none came. */
    public VmScreen awaitScreen(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (screen == null && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return null;
                changed.awaitNanos(left);
            }
            return screen;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The message channel's way in: a transport whose "QMP monitor" is this VM's overlay commands (the backend
     * interface of the message service is the overlay contract; see {@link OverlayCommands}).
     */
    public QmpTransport.Factory transport() {
        return (name, handler) -> {
            handlers.add(handler);
            VmScreen s;
            long g;
            lock.lock();
            try {
                s = screen;
                g = generation;
            } finally {
                lock.unlock();
            }
            if (s != null) handler.onConnected(s.overlayCommands(), g);
            return () -> handlers.remove(handler);
        };
    }

    private void run() {
        long backoff = MIN_BACKOFF_MS;
        while (!isClosed()) {
            VmScreen s;
            try {
                s = VmScreen.attach(link, what, id, ATTACH_TIMEOUT);
            } catch (IOException | RuntimeException e) {
                // Whatever went wrong with this attempt, the VM stays supervised: try again with backoff.
                LOG.log(e instanceof IOException ? Level.FINE : Level.WARNING,
                        "VM " + id + ": D-Bus display not reachable: " + e.getMessage(), e);
                if (!pause(backoff + ThreadLocalRandom.current().nextLong(backoff / 2 + 1))) return;
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
                continue;
            }
            backoff = MIN_BACKOFF_MS;
            long g;
            lock.lock();
            try {
                if (closed) {
                    s.close();
                    return;
                }
                screen = s;
                g = ++generation;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            s.onClosed(() -> {
                lock.lock();
                try {
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            });
            OverlayCommands commands = s.overlayCommands();
            commands.onEvent((name, data) -> handlers.forEach(h -> h.onEvent(name, data)));
            LOG.info("VM " + id + ": D-Bus display attached (generation " + g + ")");
            for (QmpConnection.Handler h : handlers) h.onConnected(commands, g);
            awaitClosed(s);
            lock.lock();
            try {
                if (screen == s) screen = null;
            } finally {
                lock.unlock();
            }
            s.close();
            for (QmpConnection.Handler h : handlers) h.onDisconnected(new IOException("QEMU went away"));
        }
    }

    private void awaitClosed(VmScreen s) {
        lock.lock();
        try {
            while (!closed && !s.isClosed()) changed.awaitUninterruptibly();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for {@code ms}, until closed, or until {@link #retryNow}; false when closed. */
    private boolean pause(long ms) {
        long deadline = System.nanoTime() + ms * 1_000_000;
        lock.lock();
        try {
            while (!closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || retry) {
                    retry = false;
                    return true;
                }
                changed.awaitNanos(left);
            }
            return false;
        } catch (InterruptedException e) {
            return false;
        } finally {
            lock.unlock();
        }
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        VmScreen s;
        lock.lock();
        try {
            closed = true;
            s = screen;
            screen = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (listener != null) {
            try {
                listener.close();
            } catch (IOException e) {
                LOG.log(Level.FINE, "VM " + id + ": closing the VNC listener", e);
            }
        }
        if (s != null) s.close();
    }
}
