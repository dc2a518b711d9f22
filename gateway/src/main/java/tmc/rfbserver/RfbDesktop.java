package tmc.rfbserver;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import tmc.pixels.Cursor;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;

/**
 * An RFB 3.8 server for one picture: any number of viewers, each served over its own byte channel (a TCP socket, a
 * WebSocket adapted to a channel), each with its own update requests, encodings and pace. Whoever owns the picture
 * calls {@link #damaged}, {@link #resized} and {@link #cursor} as it changes; nothing is ever resent that did not
 * change, except on a client's non-incremental request.
 *
 * <p>Depends on nothing of tmc but the picture model ({@code tmc.pixels}).
 */
public final class RfbDesktop {
    private final Framebuffer picture;
    private final String name;
    private final InputSink.Factory inputs;
    private final List<ClientConnection> clients = new CopyOnWriteArrayList<>();
    private volatile Cursor cursor;
    private volatile Predicate<Rect> lossless = r -> false;
    /** Notified after every update sent and every viewer come or gone (see {@link #awaitProgress}). */
    private final Object progress = new Object();

    public RfbDesktop(Framebuffer picture, String name, InputSink.Factory inputs) {
        this.picture = picture;
        this.name = name;
        this.inputs = inputs;
    }

    /**
     * Serves one viewer on the calling thread until it disconnects (EOF: returns; protocol error: throws).
     * {@code password} null means security type None (the gateway already authenticated the person); a password
     * means VNC Authentication (native viewers on a plain TCP listener). View-only clients' input is dropped.
     */
    public void serve(ByteChannel channel, String password, boolean viewOnly, String clientName) throws IOException {
        ClientConnection client = new ClientConnection(this, channel, password, viewOnly, name,
                inputs.forClient(clientName));
        clients.add(client);
        progressed();
        try {
            client.run();
        } finally {
            clients.remove(client);
            progressed();
        }
    }

    /** Disconnects every viewer (the picture's source is gone). */
    public void closeAll() {
        for (ClientConnection c : clients) c.close();
    }

    /** These pixels of the picture changed. */
    public void damaged(Rect area) {
        for (ClientConnection c : clients) c.damaged(area);
    }

    /** The picture has a new size; every client is told and gets all of it. */
    public void resized() {
        Rect bounds = picture.bounds();
        for (ClientConnection c : clients) c.resized(bounds);
    }

    /** A new pointer shape for clients that draw it themselves. */
    public void cursor(Cursor shape) {
        this.cursor = shape;
        for (ClientConnection c : clients) c.cursorChanged();
    }

    /** Areas for which lossy encodings (JPEG) are never used, e.g. where a message is shown. */
    public void setLossless(Predicate<Rect> lossless) {
        this.lossless = lossless;
    }

    public int clientCount() {
        return clients.size();
    }

    /** Bytes sent to each connected client so far, in connection order (figures and tests). */
    public List<Long> bytesSent() {
        return clients.stream().map(ClientConnection::bytesSent).toList();
    }

    /**
     * Waits until {@code condition} (on viewer counts, bytes sent) holds, checking it after every update sent and
     * every viewer come or gone; false on timeout. For figures and tests that watch viewers they do not control
     * (a native viewer's process).
     */
    public boolean awaitProgress(java.util.function.BooleanSupplier condition, java.time.Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                progress.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    void progressed() {
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /** The largest pending (not yet sent) area among the clients, in pixels. */
    public long maxPendingArea() {
        return clients.stream().mapToLong(ClientConnection::pendingArea).max().orElse(0);
    }

    Framebuffer picture() {
        return picture;
    }

    Cursor cursor() {
        return cursor;
    }

    boolean lossless(Rect r) {
        return lossless.test(r);
    }
}
