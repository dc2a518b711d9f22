package tmc.rfb;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

/**
 * One browser session relayed to one VM: an RFB-aware proxy, not a byte pipe.
 *
 * <ol>
 *   <li>{@link #start} connects to the VM and completes the RFB handshake with it ({@link UpstreamHandshake}) on a
 *       virtual thread (blocking code is simplest for a one-off exchange), hands the socket to {@link VmSockets}
 *       and greets the browser.
 *   <li>The browser's bytes ({@link #onBrowserData}) go through {@link BrowserHandshake}, then through
 *       {@link ClientMessageParser} and {@link ClientMessageFilter} to the VM.
 *   <li>Once the browser has its ServerInit, the VM's bytes are relayed to the browser as they come (framebuffer
 *       updates need no parsing): read on the selector thread into a pooled direct buffer, sent as one WebSocket
 *       message, and the next read only once that message has been written. A browser that stops reading makes the
 *       gateway stop reading from the VM, and the VM's own output throttling takes over.
 * </ol>
 *
 * Backpressure the other way: {@link #onBrowserData} completes its callback only once the VM has taken the bytes,
 * and the WebSocket reads no further frame before that, so a VM that stops reading stops the browser's reads.
 *
 * <p>Threads: the WebSocket's (one frame at a time) calls {@link #onBrowserData}; a virtual thread connects and
 * performs the VM handshake; the selector reads from the VM; {@link #end} may run on any thread and runs its
 * effects once.
 */
public final class RfbRelay {
    /** Told how the session went. */
    public interface Listener {
        /** The VM's ServerInit was sent to the browser: the session is live. */
        default void onRelaying(ServerInit init) {}

        /** Runs exactly once, after both sides were closed. {@code detail} is for the log only. */
        void onEnd(CloseStatus status, String detail, long bytesFromBrowser, long bytesToBrowser);
    }

    private final String id;
    private final ServerAddress address;
    private final String password;
    private final boolean viewOnly;
    private final BrowserChannel browser;
    private final RelaySettings settings;
    private final VmSockets sockets;
    private final ScheduledExecutorService timer;
    private final Listener listener;

    private final AtomicBoolean ended = new AtomicBoolean();
    private final AtomicLong fromBrowser = new AtomicLong();
    private final AtomicLong toBrowser = new AtomicLong();
    private final CompletableFuture<VmConnection> vmOpened = new CompletableFuture<>();
    private final Pump pump = new Pump();
    /** The browser's bytes for the VM, filtered; written whole before the next WebSocket frame is read. */
    private final Outbox toVm = new Outbox();
    private volatile SocketChannel channel;
    private volatile VmConnection vm;
    private volatile Thread connector;
    private volatile ScheduledFuture<?> watchdog;
    private volatile boolean upstreamReady;
    private volatile ServerInit serverInit;

    // Guarded by this: the browser side's protocol state. The connecting thread sets it up once; afterwards only
    // the WebSocket's thread touches it.
    private BrowserHandshake handshake;
    private ClientMessageParser parser;

    public RfbRelay(String id, ServerAddress address, String password, boolean viewOnly, BrowserChannel browser,
            RelaySettings settings, VmSockets sockets, ScheduledExecutorService timer, Listener listener) {
        this.id = id;
        this.address = address;
        this.password = password;
        this.viewOnly = viewOnly;
        this.browser = browser;
        this.settings = settings;
        this.sockets = sockets;
        this.timer = timer;
        this.listener = listener;
    }

    public void start() {
        watchdog = timer.schedule(this::handshakeTimedOut, settings.handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        connector = Thread.ofVirtual().name("rfb-" + id).start(this::connect);
    }

    public long bytesFromBrowser() {
        return fromBrowser.get();
    }

    public long bytesToBrowser() {
        return toBrowser.get();
    }

    public boolean isEnded() {
        return ended.get();
    }

    /**
     * Bytes from the browser, in order. {@code done} completes (succeeded) once the VM has taken them, or at once
     * when they end the session; the caller reads no further bytes before that.
     */
    public void onBrowserData(ByteBuffer data, Callback done) {
        boolean startRelaying = false;
        ByteBuffer out;
        synchronized (this) {
            if (ended.get()) {
                done.succeeded();
                return;
            }
            fromBrowser.addAndGet(data.remaining());
            try {
                if (handshake == null) {
                    throw new RfbProtocolException("the browser spoke before the server's ProtocolVersion");
                }
                if (!handshake.done()) {
                    byte[] reply = handshake.feed(data);
                    if (reply.length > 0) {
                        browser.send(ByteBuffer.wrap(reply), this::sent);
                    }
                    startRelaying = handshake.done();
                }
                if (data.hasRemaining()) {
                    parser.feed(data);
                }
            } catch (RfbProtocolException e) {
                int code = e.tooBig() ? CloseStatus.MESSAGE_TOO_BIG : CloseStatus.PROTOCOL_ERROR;
                end(new CloseStatus(code, e.getMessage()), "browser: " + e.getMessage());
                done.succeeded();
                return;
            } catch (IOException e) {
                throw new IllegalStateException("the outbox does no I/O", e);
            }
            out = toVm.pending();
        }
        if (startRelaying) {
            beginRelaying();
        }
        if (out == null) {
            done.succeeded();
            return;
        }
        vm.getEndPoint().write(Callback.from(() -> {
            toVm.reset();
            done.succeeded();
        }, e -> {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "lost the connection to the VM's VNC server"),
                    "writing to the VM: " + e);
            done.succeeded();
        }), out);
    }

    /** The browser closed the WebSocket (or it failed). */
    public void onBrowserClosed(int code, String reason) {
        end(new CloseStatus(code, reason), "closed by the browser");
    }

    /** Ends the session from outside (revocation, shutdown). */
    public void close(CloseStatus status, String detail) {
        end(status, detail);
    }

    /** Connects, performs the VM's handshake (blocking: a one-off exchange), then hands the socket to the selector. */
    private void connect() {
        if (ended.get()) {
            return; // closed (revoked, refused) before it started: no connection to the VM at all
        }
        try {
            SocketChannel c = address.connect(opened -> channel = opened);
            if (ended.get()) {
                c.close();
                return;
            }
            ServerInit init = UpstreamHandshake.perform(new DataInputStream(Channels.newInputStream(c)),
                    Channels.newOutputStream(c), password);
            synchronized (this) {
                if (ended.get()) {
                    return;
                }
                parser = new ClientMessageParser(new ClientMessageFilter(toVm, viewOnly,
                        !viewOnly || settings.viewOnlyGuestClipboard()), settings.maxCutText());
                handshake = new BrowserHandshake(init);
                serverInit = init;
            }
            sockets.register(c, this);
            vm = vmOpened.get(settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            upstreamReady = true;
        } catch (UpstreamHandshake.HandshakeException e) {
            String reason = e.authentication() ? "VNC authentication with the VM failed"
                    : "the VM's VNC server failed the RFB handshake";
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, reason), "VM handshake: " + e.getMessage());
            return;
        } catch (IOException | ExecutionException | TimeoutException e) {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "the VM's VNC server is unreachable"),
                    "connecting to " + address + ": " + e);
            return;
        } catch (InterruptedException e) {
            return; // end() ran elsewhere
        }
        if (!ended.get()) {
            browser.send(ByteBuffer.wrap(BrowserHandshake.greeting()), this::sent);
        }
    }

    /** Called by {@link VmSockets} on its selector thread. */
    VmConnection newVmConnection(EndPoint endPoint, Executor executor) {
        return new VmConnection(endPoint, executor);
    }

    private void beginRelaying() {
        ScheduledFuture<?> w = watchdog;
        if (w != null) {
            w.cancel(false);
        }
        if (ended.get()) {
            return;
        }
        listener.onRelaying(serverInit);
        pump.iterate();
    }

    private void sent(Throwable error) {
        if (error != null) {
            end(new CloseStatus(CloseStatus.ABNORMAL, "sending to the browser failed"),
                    "sending to the browser: " + error);
        }
    }

    private void handshakeTimedOut() {
        if (ended.get()) {
            return;
        }
        synchronized (this) {
            if (handshake != null && handshake.done()) {
                return;
            }
        }
        String seconds = seconds(settings.handshakeTimeout());
        if (!upstreamReady) {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE,
                    "the VM's VNC server did not answer within " + seconds + " s"), "VM handshake timed out");
        } else {
            end(new CloseStatus(CloseStatus.PROTOCOL_ERROR,
                    "the browser did not finish the RFB handshake within " + seconds + " s"),
                    "browser handshake timed out");
        }
    }

    /** "10", "1.5": for reasons people read. */
    static String seconds(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? Long.toString(millis / 1000)
                : java.math.BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString();
    }

    private void end(CloseStatus status, String detail) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> w = watchdog;
        if (w != null) {
            w.cancel(false);
        }
        VmConnection v = vm;
        if (v != null) {
            v.getEndPoint().close();
        }
        SocketChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // Closing is all we wanted.
            }
        }
        Thread t = connector;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
        }
        // The listener first: a browser that reconnects the moment it sees the close must not find its old
        // session still counted against its caps.
        try {
            listener.onEnd(status, detail, fromBrowser.get(), toBrowser.get());
        } finally {
            browser.close(status.code() != CloseStatus.ABNORMAL ? status
                    : new CloseStatus(CloseStatus.GOING_AWAY, status.reason()));
        }
    }

    /** The VM's socket on the selector: readable means "pump". Never blocks. */
    private final class VmConnection extends AbstractConnection.NonBlocking {
        VmConnection(EndPoint endPoint, Executor executor) {
            super(endPoint, executor);
        }

        @Override
        public void onOpen() {
            super.onOpen();
            vmOpened.complete(this);
        }

        @Override
        public void onFillable() {
            pump.iterate();
        }

        @Override
        public void onFillInterestedFailed(Throwable cause) {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "lost the connection to the VM's VNC server"),
                    "reading from the VM: " + cause);
        }

        @Override
        public boolean onIdleExpired(TimeoutException timeout) {
            return false;
        }
    }

    /**
     * Moves the VM's bytes to the browser: read what the socket has (up to {@code chunkBytes}), send it as one
     * message, and read again once it is written. One message in flight bounds what a session holds to one
     * buffer; a synchronous completion (the usual case: the browser's socket has room) loops without recursion.
     */
    private final class Pump extends IteratingCallback {
        /** Only the iterating thread touches it; released whenever the VM has nothing to read. */
        private RetainableByteBuffer buffer;

        @Override
        protected Action process() {
            if (ended.get()) {
                release();
                return Action.SUCCEEDED;
            }
            if (buffer == null) {
                buffer = sockets.pool().acquire(settings.chunkBytes(), true);
            }
            ByteBuffer b = buffer.getByteBuffer();
            BufferUtil.clear(b);
            int n;
            try {
                n = vm.getEndPoint().fill(b);
            } catch (IOException e) {
                release();
                end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "lost the connection to the VM's VNC server"),
                        "reading from the VM: " + e);
                return Action.SUCCEEDED;
            }
            if (n > 0) {
                toBrowser.addAndGet(n);
                browser.send(b, error -> {
                    if (error == null) {
                        succeeded();
                    } else {
                        failed(error);
                    }
                });
                return Action.SCHEDULED;
            }
            release();
            if (n == 0) {
                vm.fillInterested();
                return Action.IDLE;
            }
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "the VM's VNC server closed the connection"),
                    "VM closed the connection");
            return Action.SUCCEEDED;
        }

        @Override
        protected void onCompleteFailure(Throwable cause) {
            release();
            end(new CloseStatus(CloseStatus.ABNORMAL, "sending to the browser failed"),
                    "sending to the browser: " + cause);
        }

        private void release() {
            if (buffer != null) {
                buffer.release();
                buffer = null;
            }
        }
    }

    /**
     * What the filter passes for the VM, collected per WebSocket frame (a few bytes for input events, at most a
     * frame's payload for cut text) and written in one go. Not thread safe: filled under the relay's lock, drained
     * by the one write in flight, reset when that write completes.
     */
    private static final class Outbox extends OutputStream {
        private static final int KEEP = 4096;
        private byte[] bytes = new byte[64];
        private int count;

        @Override
        public void write(int b) {
            grow(1);
            bytes[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            grow(len);
            System.arraycopy(b, off, bytes, count, len);
            count += len;
        }

        private void grow(int n) {
            if (count + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(count + n, 2 * bytes.length));
            }
        }

        /** The bytes to write, or null if there are none. */
        ByteBuffer pending() {
            return count == 0 ? null : ByteBuffer.wrap(bytes, 0, count);
        }

        /** After the write: a large paste does not keep its buffer for the rest of the session. */
        void reset() {
            count = 0;
            if (bytes.length > KEEP) {
                bytes = new byte[64];
            }
        }
    }
}
