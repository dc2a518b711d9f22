package tmc.gateway;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.rfb.BrowserChannel;
import tmc.rfb.CloseStatus;
import tmc.rfbserver.RfbDesktop;

/**
 * A browser WebSocket served by the gateway's own RFB server (a D-Bus display VM) instead of relayed to a VNC
 * server: the WebSocket seen as a blocking {@link ByteChannel} by {@link RfbDesktop#serve} on a virtual thread.
 *
 * <p>Backpressure both ways: a browser frame's callback completes (and Jetty demands the next one) only when the RFB
 * server has read all of it, so at most one frame waits here; a write returns when the frame left, so a browser that
 * stops reading stops its own writer and nothing else (its damage coalesces in the RFB server).
 */
final class DesktopBridge implements ByteChannel {
    private static final Logger LOG = LoggerFactory.getLogger("tmc.gateway.session");

    private final String id;
    private final BrowserChannel browser;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    // Guarded by lock.
    private ByteBuffer frame;
    private Callback frameDone;
    private boolean closed;
    private final AtomicLong fromBrowser = new AtomicLong();
    private final AtomicLong toBrowser = new AtomicLong();
    private volatile boolean ended;

    DesktopBridge(String id, BrowserChannel browser) {
        this.id = id;
        this.browser = browser;
    }

    /** Serves the browser on a virtual thread until either side ends; {@code onEnd} runs once after. */
    void start(RfbDesktop desktop, boolean viewOnly, String client, Runnable onEnd) {
        Thread.ofVirtual().name("desktop " + id).start(() -> {
            CloseStatus status = new CloseStatus(CloseStatus.NORMAL, "");
            try {
                desktop.serve(this, null, viewOnly, client);
            } catch (IOException e) {
                LOG.info("session={} event=rfb-ended detail=\"{}\"", id, e.getMessage());
                status = new CloseStatus(CloseStatus.PROTOCOL_ERROR, "RFB error");
            } finally {
                ended = true;
                browser.close(status);
                onEnd.run();
            }
        });
    }

    // ===== from the WebSocket =====

    /** One browser frame; {@code done} completes when the RFB server has read all of it. */
    void onBrowserData(ByteBuffer payload, Callback done) {
        lock.lock();
        try {
            if (closed) {
                done.succeeded();
                return;
            }
            frame = payload;
            frameDone = done;
            fromBrowser.addAndGet(payload.remaining());
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        // A frame with nothing in it is done at once.
        if (!payload.hasRemaining()) finishFrame();
    }

    void onBrowserClosed() {
        closeQuietly();
    }

    boolean isEnded() {
        return ended;
    }

    long bytesFromBrowser() {
        return fromBrowser.get();
    }

    long bytesToBrowser() {
        return toBrowser.get();
    }

    void close(CloseStatus status) {
        browser.close(status);
        closeQuietly();
    }

    // ===== ByteChannel, for the RFB server =====

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n;
        boolean frameConsumed;
        lock.lock();
        try {
            while (!closed && (frame == null || !frame.hasRemaining())) arrived.awaitUninterruptibly();
            if (closed) return -1;
            n = Math.min(dst.remaining(), frame.remaining());
            dst.put(frame.slice(frame.position(), n));
            frame.position(frame.position() + n);
            frameConsumed = !frame.hasRemaining();
        } finally {
            lock.unlock();
        }
        // All of the frame read: now the browser may send the next (Jetty demands on the callback).
        if (frameConsumed) finishFrame();
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!isOpen()) throw new ClosedChannelException();
        int n = src.remaining();
        ByteBuffer copy = ByteBuffer.allocate(n).put(src).flip();
        CompletableFuture<Void> sent = new CompletableFuture<>();
        browser.send(copy, failure -> {
            if (failure == null) sent.complete(null);
            else sent.completeExceptionally(failure);
        });
        try {
            sent.get();
        } catch (ExecutionException e) {
            closeQuietly();
            throw new IOException("browser went away", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        toBrowser.addAndGet(n);
        return n;
    }

    @Override
    public boolean isOpen() {
        return !ended && !isClosed();
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
        closeQuietly();
    }

    private void closeQuietly() {
        releaseFrame(true);
    }

    private void finishFrame() {
        releaseFrame(false);
    }

    /** Drops the current frame and lets Jetty deliver the next (or, when closing, wakes the reader). */
    private void releaseFrame(boolean close) {
        Callback done;
        lock.lock();
        try {
            closed |= close;
            done = frameDone;
            frame = null;
            frameDone = null;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (done != null) done.succeeded();
    }
}
