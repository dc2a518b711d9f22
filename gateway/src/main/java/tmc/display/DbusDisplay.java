package tmc.display;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.freedesktop.dbus.FileDescriptor;
import org.freedesktop.dbus.connections.IDisconnectCallback;
import org.freedesktop.dbus.connections.impl.DirectConnection;
import org.freedesktop.dbus.connections.impl.DirectConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.UInt64;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.FileDescriptorCast;
import tmc.pixels.Cursor;
import tmc.pixels.Framebuffer;
import tmc.pixels.PixelLayout;
import tmc.pixels.Rect;

/**
 * One VM's screen, keyboard and mouse through QEMU's D-Bus display ({@code -display dbus,p2p=yes}, QEMU 7.0 and
 * later, e.g. Debian 12's stock qemu-system-x86 7.2). Peer to peer, no bus:
 * <ol>
 *   <li>the gateway opens a socket, passes its far end to QEMU over QMP ({@code getfd} + {@code add_client
 *       @dbus-display}) and talks D-Bus to QEMU's {@code /org/qemu/Display1} objects on the near end;</li>
 *   <li>it calls {@code Console.RegisterListener} with the far end of a second socket; QEMU authenticates on it as
 *       the server and calls {@link QemuListener} on the gateway's side: Scanout, Update, CursorDefine...</li>
 * </ol>
 * The picture is kept in a {@link Framebuffer}, updated as QEMU's calls arrive (on the listener connection's reading
 * thread through {@link ListenerReader}, the fast path; see there why). {@link DisplayEvents} says what changed, one
 * call at a time, from one thread of its own that takes the changes coalesced from {@link PendingChanges}: a slow
 * owner gets fewer, bigger changes, never a backlog.
 *
 * <p>Input methods may be called from any thread; each call is a blocking D-Bus call (so a client's events reach
 * QEMU in the order it sent them).
 */
public final class DbusDisplay implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DbusDisplay.class.getName());
    static final String DISPLAY_PATH = "/org/qemu/Display1";
    static final String LISTENER_PATH = "/org/qemu/Display1/Listener";
    static final String CONSOLE_INTERFACE = "org.qemu.Display1.Console";
    /** RFB pointer mask bits 0..4 are left, middle, right, wheel up, wheel down: QEMU's InputButton 0..4. */
    private static final int BUTTONS = 5;

    private final DisplayEvents events;
    private final Path runDir;
    private final PendingChanges pending = new PendingChanges();
    private final Thread refresher;
    /** Whether QEMU's picture calls take the fast path ({@link ListenerReader}). */
    private volatile boolean fastPath;
    private final CountDownLatch firstScanout = new CountDownLatch(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Our copies of the socket ends handed to QEMU. junixsocket shuts a socket down when closing it, so closing
     * these is how we disconnect QEMU even though it holds copies; holding them means QEMU's death shows on QMP.
     */
    private final List<AFUNIXSocket> handedOver = new ArrayList<>();
    private volatile Framebuffer framebuffer;
    private DisplayLink link;
    private DirectConnection qemu;
    private DirectConnection listenerConnection;
    private QemuKeyboard keyboard;
    private QemuMouse mouse;
    private Properties consoleProperties;
    private String consolePath;
    /**
     * Held while the picture changes and its events go out: Scanout/Update come on the listener connection, size
     * announcements on the other one, so two dbus-java threads take part.
     */
    private final Object picture = new Object();
    /** QEMU's picture calls applied so far (guarded by picture, which is notified after each). */
    private long applied;

    // Guarded by the input lock (this).
    private int lastX = -1;
    private int lastY = -1;
    private int lastButtons;

    private DbusDisplay(DisplayEvents events) throws IOException {
        this.events = events;
        // Unix socket paths are limited to 108 bytes; createTempDirectory makes it 0700.
        this.runDir = Files.createTempDirectory(Path.of("/tmp"), "tmc-dbus-");
        this.refresher = Thread.ofVirtual().name("dbus-display-refresh").start(this::refresh);
    }

    /**
     * Attaches to console {@code consoleId} of the QEMU whose QMP socket is {@code qmpSocket} and waits until its
     * first picture has arrived.
     */
    public static DbusDisplay attach(Path qmpSocket, int consoleId, DisplayEvents events, Duration timeout)
            throws IOException {
        return attach(DisplayLinks.qmp(qmpSocket), qmpSocket.toString(), consoleId, events, timeout);
    }

    /**
     * Attaches to console {@code consoleId} of the QEMU that {@code link} reaches ({@code what} names it in errors)
     * and waits until its first picture has arrived.
     */
    public static DbusDisplay attach(DisplayLink.Opener link, String what, int consoleId, DisplayEvents events,
            Duration timeout) throws IOException {
        DbusDisplay display = new DbusDisplay(events);
        try {
            display.connect(link, what, consoleId, timeout);
            return display;
        } catch (IOException | RuntimeException e) {
            display.close();
            throw e;
        }
    }

    private void connect(DisplayLink.Opener linkOpener, String what, int consoleId, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String console = DISPLAY_PATH + "/Console_" + consoleId;
        consolePath = console;

        // 1. Our D-Bus connection to QEMU. dbus-java only connects to addresses, so it connects to a socket of ours
        //    and the accepted end goes to QEMU. QEMU is the authenticating server on it.
        Path qemuSocket = runDir.resolve("qemu.sock");
        try (AFUNIXServerSocket server = AFUNIXServerSocket.bindOn(AFUNIXSocketAddress.of(qemuSocket))) {
            server.setSoTimeout(millisLeft(deadline));
            CompletableFuture<DirectConnection> connecting = startAsync(() -> DirectConnectionBuilder
                    .forAddress("unix:path=" + qemuSocket)
                    .withDisconnectCallback(new Disconnected())
                    .build());
            AFUNIXSocket peer = handOver(server.accept());
            link = linkOpener.open(Duration.ofMillis(millisLeft(deadline)));
            link.addDbusClient(peer.getFileDescriptor());
            qemu = await(connecting, deadline, "QEMU's D-Bus display did not answer on the passed socket");
        }
        try {
            keyboard = qemu.getRemoteObject(console, QemuKeyboard.class);
            mouse = qemu.getRemoteObject(console, QemuMouse.class);
            QemuConsole qemuConsole = qemu.getRemoteObject(console, QemuConsole.class);
            consoleProperties = qemu.getRemoteObject(console, Properties.class);
            // QEMU 7.2 sends a Scanout only for updates covering the whole screen; a mode switch shows as a change of
            // the console's Width/Height properties (see Endpoint.update for the other half).
            qemu.addSigHandler(Properties.PropertiesChanged.class, signal -> {
                if (console.equals(signal.getPath()) && CONSOLE_INTERFACE.equals(signal.getInterfaceName())
                        && (signal.getPropertiesChanged().containsKey("Width")
                                || signal.getPropertiesChanged().containsKey("Height"))) {
                    followConsoleSize();
                }
            });

            // 2. The listener connection. Export before connecting: QEMU sends the first Scanout right away. QEMU's
            //    picture calls are taken off the connection by ListenerReader; the exported object gets them only
            //    when that fast path is not in place.
            Path listenerSocket = runDir.resolve("listener.sock");
            AFUNIXSocketAddress listenerAddress = AFUNIXSocketAddress.of(listenerSocket);
            try (AFUNIXServerSocket server = AFUNIXServerSocket.bindOn(listenerAddress)) {
                server.setSoTimeout(millisLeft(deadline));
                listenerConnection = DirectConnectionBuilder.forAddress("unix:path=" + listenerSocket)
                        .transportConfig().withAutoConnect(false).back()
                        // One thread: Scanout and Update must be applied in the order QEMU sent them.
                        .receivingThreadConfig().withMethodCallThreadCount(1).connectionConfig()
                        .withDisconnectCallback(new Disconnected())
                        .build();
                listenerConnection.exportObject(LISTENER_PATH, new Endpoint());
                DirectConnection lc = listenerConnection;
                ListenerSocketProvider.expect(listenerAddress, sink);
                try {
                    CompletableFuture<Boolean> connecting = startAsync(lc::connect);
                    AFUNIXSocket peer = handOver(server.accept());
                    int fd = FileDescriptorCast.using(peer.getFileDescriptor()).as(Integer.class);
                    qemuConsole.registerListener(new FileDescriptor(fd));
                    await(connecting, deadline, "QEMU did not connect to the display listener");
                } finally {
                    fastPath = ListenerSocketProvider.forget(listenerAddress);
                }
            }
            if (!fastPath) {
                LOG.warning("D-Bus display of " + what + ": the listener's fast path is not in place (another"
                        + " dbus-java socket provider came first: put the gateway's jar before"
                        + " dbus-java-transport-junixsocket on the class path); every pixel is unmarshalled byte by"
                        + " byte");
            }
        } catch (DBusException | DBusExecutionException e) {
            throw new IOException("D-Bus display of " + what + ": " + e.getMessage(), e);
        }
        link.watch(this::shutDown);
        try {
            if (!firstScanout.await(millisLeft(deadline), TimeUnit.MILLISECONDS)) {
                throw new IOException("QEMU sent no picture within " + timeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the first picture");
        }
    }

    private AFUNIXSocket handOver(AFUNIXSocket socket) {
        synchronized (handedOver) {
            handedOver.add(socket);
        }
        return socket;
    }

    // ===== picture =====

    /** The current picture (never null after {@link #attach}); replaced only in place. */
    public Framebuffer framebuffer() {
        return framebuffer;
    }

    /** Whether QEMU's picture calls bypass dbus-java's generic unmarshalling and queue (see {@link ListenerReader}). */
    public boolean fastPath() {
        return fastPath;
    }

    /** QEMU's picture calls (Scanout, Update) applied so far. */
    public long changesApplied() {
        synchronized (picture) {
            return applied;
        }
    }

    /** Waits until more than {@code seen} picture calls have been applied; false on timeout. */
    public boolean awaitChangesApplied(long seen, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (picture) {
            while (applied <= seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                TimeUnit.NANOSECONDS.timedWait(picture, left);
            }
            return true;
        }
    }

    /** The changed area not yet passed to the {@link DisplayEvents}, in pixels: at most one screen. */
    public long pendingArea() {
        return pending.area();
    }

    /** Passes the changes on, coalesced, one batch at a time, until closed. */
    private void refresh() {
        PendingChanges.Batch b;
        try {
            while ((b = pending.take()) != null) {
                try {
                    if (b.resized()) {
                        Framebuffer fb = framebuffer;
                        events.resized(fb.width(), fb.height());
                    }
                    for (Rect r : b.damage()) events.damaged(r);
                    if (b.cursor() != null) events.cursor(b.cursor());
                } catch (RuntimeException e) {
                    // One failed change must not stop the next ones (the next resize draws everything anew).
                    LOG.log(Level.WARNING, "D-Bus display: passing a change on failed", e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads the console's size from QEMU and resizes to it; false when QEMU could not say. */
    private boolean followConsoleSize() {
        int w;
        int h;
        try {
            w = ((Number) consoleProperties.Get(CONSOLE_INTERFACE, "Width")).intValue();
            h = ((Number) consoleProperties.Get(CONSOLE_INTERFACE, "Height")).intValue();
        } catch (DBusExecutionException | ClassCastException e) {
            LOG.log(Level.FINE, "console size unavailable", e);
            return false;
        }
        synchronized (picture) {
            Framebuffer fb = framebuffer;
            if (fb == null || w <= 0 || h <= 0) return false;
            try {
                if (fb.resize(w, h)) pending.resized();
            } catch (IllegalArgumentException e) {
                LOG.warning("ignoring QEMU's console size: " + e.getMessage());
                return false;
            }
            return true;
        }
    }

    // ===== input =====

    /** A key by QEMU key number (see {@link QemuKeyboard}). */
    public synchronized void key(int qnum, boolean down) {
        UInt32 code = new UInt32(qnum);
        if (down) {
            keyboard.press(code);
        } else {
            keyboard.release(code);
        }
    }

    /**
     * The pointer at (x, y) in screen pixels with RFB's button mask (bit 0 left, 1 middle, 2 right, 3/4 wheel).
     * Moves first, then presses and releases what changed, as a VNC server does.
     */
    public synchronized void pointer(int x, int y, int buttonMask) {
        Framebuffer fb = framebuffer;
        x = Math.clamp(x, 0, fb.width() - 1);
        y = Math.clamp(y, 0, fb.height() - 1);
        if (x != lastX || y != lastY) {
            try {
                mouse.setAbsPosition(new UInt32(x), new UInt32(y));
            } catch (DBusExecutionException relativeOnly) {
                // No absolute pointer in the guest (yet): move by the difference instead.
                if (lastX >= 0) mouse.relMotion(x - lastX, y - lastY);
            }
            lastX = x;
            lastY = y;
        }
        int changed = buttonMask ^ lastButtons;
        for (int b = 0; b < BUTTONS; b++) {
            if ((changed & (1 << b)) == 0) continue;
            if ((buttonMask & (1 << b)) != 0) {
                mouse.press(new UInt32(b));
            } else {
                mouse.release(new UInt32(b));
            }
        }
        lastButtons = buttonMask & ((1 << BUTTONS) - 1);
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        shutDown(null);
    }

    private void shutDown(Throwable cause) {
        if (!closed.compareAndSet(false, true)) return;
        pending.close();
        // dbus-java first: a connection whose socket vanishes under it logs an error, ours ending is no error.
        if (listenerConnection != null) listenerConnection.disconnect();
        if (qemu != null) qemu.disconnect();
        synchronized (handedOver) {
            for (AFUNIXSocket s : handedOver) closeQuietly(s);
        }
        if (link != null) link.close();
        try (Stream<Path> files = Files.walk(runDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // A temp directory: best effort.
        }
        firstScanout.countDown();
        events.closed(cause);
    }

    // ===== the listener QEMU calls =====

    /** QEMU's picture calls, applied to the picture as they come, in QEMU's order, on one thread at a time. */
    private final ListenerSink sink = new ListenerSink() {
        @Override
        public void scanout(int width, int height, int stride, int pixmanFormat, byte[] data) {
            synchronized (picture) {
                try {
                    PixelLayout layout = PixelLayout.ofPixman(pixmanFormat);
                    Framebuffer fb = framebuffer;
                    if (fb == null) {
                        fb = new Framebuffer(width, height);
                        fb.reset(width, height, stride, layout, data);
                        framebuffer = fb;
                        pending.resized();
                    } else if (fb.width() != width || fb.height() != height) {
                        fb.reset(width, height, stride, layout, data);
                        pending.resized();
                    } else {
                        Rect changed = fb.update(0, 0, width, height, stride, layout, data);
                        if (changed != null) pending.damaged(changed);
                    }
                    firstScanout.countDown();
                } catch (IllegalArgumentException e) {
                    LOG.log(Level.WARNING, "ignoring a bad Scanout from QEMU: " + e.getMessage());
                }
                appliedOne();
            }
        }

        @Override
        public void update(int x, int y, int width, int height, int stride, int pixmanFormat, byte[] data) {
            Framebuffer fb = framebuffer;
            if (fb == null) return;
            // Outside the picture we know: QEMU switched modes and its size announcement is still on its way over
            // the other connection. Ask for the size now (QEMU set it before drawing this update).
            if (!fb.covers(x, y, width, height)) followConsoleSize();
            synchronized (picture) {
                try {
                    Rect changed = fb.update(x, y, width, height, stride, PixelLayout.ofPixman(pixmanFormat), data);
                    if (changed != null) pending.damaged(changed);
                } catch (IllegalArgumentException e) {
                    LOG.log(Level.WARNING, "ignoring a bad Update from QEMU: " + e.getMessage());
                }
                appliedOne();
            }
        }

        @Override
        public void cursorDefine(int width, int height, int hotX, int hotY, byte[] data) {
            try {
                pending.cursor(Cursor.fromQemu(width, height, hotX, hotY, data));
            } catch (IllegalArgumentException e) {
                LOG.log(Level.WARNING, "ignoring a bad CursorDefine from QEMU: " + e.getMessage());
            }
        }

        @Override
        public void drained() {
            pending.drained();
        }

        /** Called holding the picture lock. */
        private void appliedOne() {
            applied++;
            picture.notifyAll();
        }
    };

    /**
     * The listener object dbus-java exports. With the fast path in place QEMU's picture calls never reach it (only
     * what the fast path leaves to dbus-java: introspection, the DMABUF variants it refuses); without, it passes
     * them to the same sink, one by one, on dbus-java's single method-call thread.
     */
    private final class Endpoint implements QemuListener {
        @Override
        public String getObjectPath() {
            return LISTENER_PATH;
        }

        @Override
        public void scanout(UInt32 width, UInt32 height, UInt32 stride, UInt32 pixmanFormat, byte[] data) {
            sink.scanout(width.intValue(), height.intValue(), stride.intValue(), pixmanFormat.intValue(), data);
            sink.drained();
        }

        @Override
        public void update(int x, int y, int width, int height, UInt32 stride, UInt32 pixmanFormat, byte[] data) {
            sink.update(x, y, width, height, stride.intValue(), pixmanFormat.intValue(), data);
            sink.drained();
        }

        @Override
        public void scanoutDmabuf(FileDescriptor dmabuf, UInt32 width, UInt32 height, UInt32 stride, UInt32 fourcc,
                UInt64 modifier, boolean y0Top) {
            throw new DBusExecutionException("DMABUF scanouts are not supported: run QEMU with -display dbus,gl=off");
        }

        @Override
        public void updateDmabuf(int x, int y, int width, int height) {
            throw new DBusExecutionException("DMABUF scanouts are not supported: run QEMU with -display dbus,gl=off");
        }

        @Override
        public void disable() {
            // The console stopped scanning out (guest display off): keep the last picture.
            LOG.fine("QEMU disabled the display");
        }

        @Override
        public void mouseSet(int x, int y, int on) {
            // Where the guest put its own pointer; RFB clients draw the pointer locally from the cursor shape.
        }

        @Override
        public void cursorDefine(int width, int height, int hotX, int hotY, byte[] data) {
            sink.cursorDefine(width, height, hotX, hotY, data);
            sink.drained();
        }
    }

    private final class Disconnected implements IDisconnectCallback {
        @Override
        public void disconnectOnError(IOException e) {
            shutDown(e);
        }

        @Override
        public void exceptionOnTerminate(IOException e) {
            shutDown(e);
        }
    }

    // ===== helpers =====

    private interface Call<T> {
        T call() throws Exception;
    }

    /**
     * dbus-java blocks while authenticating; the other end must be handed to QEMU meanwhile. A platform thread, as
     * junixsocket blocks in native code (see {@link QmpLink#watch}).
     */
    private static <T> CompletableFuture<T> startAsync(Call<T> call) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("dbus-connect").start(() -> {
            try {
                f.complete(call.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static <T> T await(CompletableFuture<T> f, long deadline, String what) throws IOException {
        try {
            return f.get(millisLeft(deadline), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException(what);
        } catch (ExecutionException e) {
            throw new IOException(what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + what);
        }
    }

    private static int millisLeft(long deadline) {
        return (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private static void closeQuietly(AFUNIXSocket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }
}
