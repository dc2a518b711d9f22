package tmc.rfbserver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import tmc.pixels.Cursor;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;
import tmc.pixels.Region;

/**
 * One viewer of an {@link RfbDesktop}. The calling thread reads the client (handshake, then messages); a writer
 * thread sends an update whenever the client has asked for one and something changed. Damage is not queued as
 * frames: it accumulates in a bounded {@link Region} until the client asks again, so a client that stops reading
 * holds up only its own writer and costs at most one screen of pending area, while the others go on.
 */
final class ClientConnection {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class.getName());
    private static final int READ_BUFFER = 16 * 1024;

    private final RfbDesktop desktop;
    private final ByteChannel channel;
    private final ServerSession session;
    private final boolean viewOnly;
    private final String name;
    private final InputSink input;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    // Guarded by lock.
    private final Region damage = new Region();
    private boolean requested;
    private boolean sizeChanged;
    private boolean cursorChanged;
    private boolean keyAck;
    /** A SetDesktopSize to refuse (tmc never resizes a VM from a viewer). */
    private boolean refuseResize;
    private PixelFormat format = PixelFormat.DEFAULT;
    private EncodingPrefs prefs = EncodingPrefs.RAW_ONLY;
    /** The screen size this client was last told (ServerInit or a DesktopSize). */
    private Rect known;
    private boolean closed;

    // Only the writer thread.
    private final TightEncoder tight = new TightEncoder();
    private long bytesSent;

    ClientConnection(RfbDesktop desktop, ByteChannel channel, String password, boolean viewOnly, String name,
            InputSink input) {
        this.desktop = desktop;
        this.input = input;
        this.channel = channel;
        this.viewOnly = viewOnly;
        this.name = name;
        this.session = new ServerSession(password, this::serverInit, new SecureRandom());
    }

    private ServerSession.Desktop serverInit() {
        Rect bounds = desktop.picture().bounds();
        lock.lock();
        try {
            known = bounds;
        } finally {
            lock.unlock();
        }
        return new ServerSession.Desktop(bounds.width(), bounds.height(), name);
    }

    /** Serves the client until it goes away; returns normally on EOF, throws on a protocol error. */
    void run() throws IOException {
        Thread writer = null;
        try {
            write(ByteBuffer.wrap(ServerSession.greeting()));
            ByteBuffer in = ByteBuffer.allocate(READ_BUFFER);
            while (true) {
                in.clear();
                if (channel.read(in) < 0) return;
                in.flip();
                ServerSession.Effects effects = session.receive(in);
                if (effects.output().length > 0) write(ByteBuffer.wrap(effects.output()));
                if (effects.failure() != null) throw new IOException("RFB client: " + effects.failure());
                if (effects.ready()) {
                    writer = Thread.ofVirtual().name("rfb-writer " + name).start(this::writeLoop);
                }
                for (ClientMessage m : effects.messages()) {
                    String refusal = handle(m);
                    if (refusal != null) throw new IOException("RFB client: " + refusal);
                }
            }
        } finally {
            lock.lock();
            try {
                closed = true;
                wake.signalAll();
            } finally {
                lock.unlock();
            }
            channel.close();
            if (writer != null) {
                try {
                    writer.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            tight.end();
        }
    }

    // ===== from the desktop =====

    void damaged(Rect r) {
        lock.lock();
        try {
            damage.add(r);
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void resized(Rect bounds) {
        lock.lock();
        try {
            sizeChanged = true;
            damage.clear();
            damage.add(bounds);
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void cursorChanged() {
        lock.lock();
        try {
            cursorChanged = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long bytesSent() {
        lock.lock();
        try {
            return bytesSent;
        } finally {
            lock.unlock();
        }
    }

    /** Pending area not yet sent (tests: a stalled client's cost stays bounded). */
    long pendingArea() {
        lock.lock();
        try {
            return damage.area();
        } finally {
            lock.unlock();
        }
    }

    // ===== from the client =====

    /** Acts on one message; returns why the client must be dropped, or null. */
    private String handle(ClientMessage m) {
        switch (m) {
            case ClientMessage.SetPixelFormat f -> withLock(() -> format = f.format());
            case ClientMessage.SetEncodings e -> withLock(() -> {
                prefs = EncodingPrefs.of(e.encodings());
                if (prefs.qemuExtendedKey()) keyAck = true;
                if (prefs.cursor() && desktop.cursor() != null) cursorChanged = true;
                // Tell a client that takes ExtendedDesktopSize the screen layout once (noVNC waits for it).
                if (prefs.extendedDesktopSize()) sizeChanged = true;
                wake.signalAll();
            });
            case ClientMessage.UpdateRequest u -> withLock(() -> {
                if (!u.incremental() && known != null && u.width() > 0 && u.height() > 0) {
                    Rect asked = new Rect(u.x(), u.y(), u.width(), u.height()).intersection(known);
                    if (asked != null) damage.add(asked);
                }
                requested = true;
                wake.signalAll();
            });
            case ClientMessage.SetDesktopSize s -> withLock(() -> {
                refuseResize = true;
                wake.signalAll();
            });
            case ClientMessage.Key k -> {
                if (!viewOnly) input.key(k.keysym(), -1, k.down());
            }
            case ClientMessage.QemuKey k -> {
                // Like QEMU's own server: only a client that asked for the extension may use it.
                if (!withLockGet(() -> prefs.qemuExtendedKey())) return "QEMU extended key event was not negotiated";
                if (!viewOnly) input.key(k.keysym(), k.keycode(), k.down());
            }
            case ClientMessage.Pointer p -> {
                if (!viewOnly) input.pointer(p.x(), p.y(), p.buttonMask());
            }
        }
        return null;
    }

    // ===== the writer =====

    /** What one update carries, taken under the lock. */
    private record Work(List<Rect> rects, boolean size, Cursor cursor, boolean keyAck, boolean refuseResize,
            PixelFormat format, EncodingPrefs prefs, Rect known) {}

    private void writeLoop() {
        try {
            while (true) {
                Work work = awaitWork();
                if (work == null) return;
                byte[] update = encode(work);
                if (update == null) {
                    // Everything pending fell outside the screen: still owed an update when something changes.
                    withLock(() -> requested = true);
                    continue;
                }
                write(ByteBuffer.wrap(update));
                lock.lock();
                try {
                    bytesSent += update.length;
                } finally {
                    lock.unlock();
                }
                desktop.progressed();
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "RFB client " + name + " write failed", e);
            closeQuietly();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "RFB update for " + name + " failed", e);
            closeQuietly();
        }
    }

    private Work awaitWork() {
        lock.lock();
        try {
            while (!closed && !(requested && hasWork())) wake.awaitUninterruptibly();
            if (closed) return null;
            requested = false;
            boolean size = sizeChanged && prefs.canResize();
            Cursor cursor = cursorChanged && prefs.cursor() ? desktop.cursor() : null;
            // A size announcement goes alone with the small pseudo-rects; the new screen's pixels follow on the
            // next request (the client first resizes its canvas).
            List<Rect> rects = size ? List.of() : damage.takeAll();
            sizeChanged = false;
            cursorChanged = false;
            Work w = new Work(rects, size, cursor, keyAck, refuseResize, format, prefs, known);
            keyAck = false;
            refuseResize = false;
            return w;
        } finally {
            lock.unlock();
        }
    }

    private boolean hasWork() {
        return !damage.isEmpty() || (sizeChanged && prefs.canResize()) || (cursorChanged && prefs.cursor())
                || keyAck || refuseResize;
    }

    private byte[] encode(Work w) {
        UpdateBuilder update = new UpdateBuilder(w.format(), w.prefs(), tight);
        if (w.keyAck()) update.qemuExtendedKeyAck();
        if (w.cursor() != null) update.cursor(w.cursor());
        Framebuffer fb = desktop.picture();
        List<Rect> rects;
        int[][] pixels;
        Rect announced = null;
        synchronized (fb) {
            Rect bounds = fb.bounds();
            if (w.size()) {
                announced = bounds;
                rects = List.of();
            } else {
                // Without DesktopSize the client stays at the size it was first told.
                Rect visible = w.prefs().canResize() ? bounds : bounds.intersection(w.known());
                rects = visible == null ? List.of() : UpdateBuilder.clip(w.rects(), visible);
            }
            pixels = new int[rects.size()][];
            for (int i = 0; i < rects.size(); i++) {
                pixels[i] = new int[rects.get(i).width() * rects.get(i).height()];
                fb.read(rects.get(i), pixels[i]);
            }
        }
        if (announced != null) {
            update.desktopSize(announced.width(), announced.height(), 0, 0);
            Rect a = announced;
            withLock(() -> known = a);
        }
        if (w.refuseResize()) {
            Rect k = announced != null ? announced : w.known();
            // ExtendedDesktopSize answer to this client's request: reason 1 (client), status 1 (prohibited).
            update.desktopSize(k.width(), k.height(), 1, 1);
        }
        for (int i = 0; i < rects.size(); i++) {
            update.pixels(rects.get(i), pixels[i], desktop.lossless(rects.get(i)));
        }
        return update.isEmpty() ? null : update.build();
    }

    // ===== helpers =====

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) channel.write(b);
    }

    private void withLock(Runnable r) {
        lock.lock();
        try {
            r.run();
        } finally {
            lock.unlock();
        }
    }

    private <T> T withLockGet(java.util.function.Supplier<T> s) {
        lock.lock();
        try {
            return s.get();
        } finally {
            lock.unlock();
        }
    }

    /** Ends the connection from the server's side; the reader sees the channel closed. */
    void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing anyway; the reader sees it.
        }
    }
}
