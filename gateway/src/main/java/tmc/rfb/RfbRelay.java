package tmc.rfb;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One browser session relayed to one VM: an RFB-aware proxy, not a byte pipe.
 *
 * <ol>
 *   <li>{@link #start} connects to the VM and completes the RFB handshake with it ({@link UpstreamHandshake}),
 *       then greets the browser.
 *   <li>The browser's bytes ({@link #onBrowserData}) go through {@link BrowserHandshake}, then through
 *       {@link ClientMessageParser} and {@link ClientMessageFilter} to the VM.
 *   <li>Once the browser has its ServerInit, the reader thread relays the VM's bytes to the browser as they come
 *       (framebuffer updates need no parsing), keeping at most {@link RelaySettings#maxInFlightBytes()} unsent:
 *       a browser that stops reading makes the gateway stop reading from the VM, and the VM's own output
 *       throttling takes over.
 * </ol>
 *
 * Backpressure the other way is the caller's: {@link #onBrowserData} writes to the VM before it returns, so a VM
 * that stops reading stops the WebSocket reads that feed it.
 *
 * <p>Threads: the WebSocket's (one at a time) calls {@link #onBrowserData}; one virtual thread per session connects
 * and then reads from the VM; {@link #end} may run on any thread and runs its effects once.
 */
public final class RfbRelay {
    static final int MAX_FRAMES_IN_FLIGHT = 64;

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
    private final ScheduledExecutorService timer;
    private final Listener listener;

    private final Semaphore credit;
    /** Messages sent to the browser and not completed: many tiny messages must not pile up either. */
    private final Semaphore frames = new Semaphore(MAX_FRAMES_IN_FLIGHT);
    private final AtomicBoolean ended = new AtomicBoolean();
    private final CountDownLatch browserReady = new CountDownLatch(1);
    private final AtomicLong fromBrowser = new AtomicLong();
    private final AtomicLong toBrowser = new AtomicLong();
    /** Direct buffers whose send has completed, for the reader to use again. */
    private final java.util.ArrayDeque<ByteBuffer> spare = new java.util.ArrayDeque<>();
    private volatile SocketChannel upstream;
    private volatile Thread reader;
    private volatile ScheduledFuture<?> watchdog;
    private volatile boolean upstreamReady;

    // Guarded by this: the browser side's protocol state. The reader thread sets it up once; afterwards only the
    // WebSocket thread touches it.
    private BrowserHandshake handshake;
    private ClientMessageParser parser;
    private OutputStream toVm;

    public RfbRelay(String id, ServerAddress address, String password, boolean viewOnly, BrowserChannel browser,
            RelaySettings settings, ScheduledExecutorService timer, Listener listener) {
        this.id = id;
        this.address = address;
        this.password = password;
        this.viewOnly = viewOnly;
        this.browser = browser;
        this.settings = settings;
        this.timer = timer;
        this.listener = listener;
        this.credit = new Semaphore(settings.maxInFlightBytes());
    }

    public void start() {
        watchdog = timer.schedule(this::handshakeTimedOut, settings.handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        reader = Thread.ofVirtual().name("rfb-" + id).start(this::run);
    }

    public long bytesFromBrowser() {
        return fromBrowser.get();
    }

    public long bytesToBrowser() {
        return toBrowser.get();
    }

    /** Bytes sent to the browser whose sending has not completed. */
    public int bytesInFlight() {
        return settings.maxInFlightBytes() - credit.availablePermits();
    }

    public boolean isEnded() {
        return ended.get();
    }

    /** Bytes from the browser, in order. Blocks while the VM does not take them. */
    public synchronized void onBrowserData(ByteBuffer data) {
        if (ended.get()) {
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
                if (handshake.done()) {
                    browserReady.countDown();
                }
            }
            if (data.hasRemaining()) {
                parser.feed(data);
                toVm.flush();
            }
        } catch (RfbProtocolException e) {
            int code = e.tooBig() ? CloseStatus.MESSAGE_TOO_BIG : CloseStatus.PROTOCOL_ERROR;
            end(new CloseStatus(code, e.getMessage()), "browser: " + e.getMessage());
        } catch (IOException e) {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "lost the connection to the VM's VNC server"),
                    "writing to the VM: " + e);
        }
    }

    /** The browser closed the WebSocket (or it failed). */
    public void onBrowserClosed(int code, String reason) {
        end(new CloseStatus(code, reason), "closed by the browser");
    }

    /** Ends the session from outside (revocation, shutdown). */
    public void close(CloseStatus status, String detail) {
        end(status, detail);
    }

    private void run() {
        ServerInit init;
        SocketChannel channel;
        if (ended.get()) {
            return; // closed (revoked, refused) before it started: no connection to the VM at all
        }
        try {
            channel = address.connect(c -> upstream = c);
            if (ended.get()) {
                channel.close();
                return;
            }
            DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
            OutputStream out = Channels.newOutputStream(channel);
            init = UpstreamHandshake.perform(in, out, password);
            synchronized (this) {
                if (ended.get()) {
                    return;
                }
                toVm = new BufferedOutputStream(out, 8192);
                parser = new ClientMessageParser(new ClientMessageFilter(toVm, viewOnly), settings.maxCutText());
                handshake = new BrowserHandshake(init);
                upstreamReady = true;
            }
        } catch (UpstreamHandshake.HandshakeException e) {
            String reason = e.authentication() ? "VNC authentication with the VM failed"
                    : "the VM's VNC server failed the RFB handshake";
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, reason), "VM handshake: " + e.getMessage());
            return;
        } catch (IOException e) {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "the VM's VNC server is unreachable"),
                    "connecting to " + address + ": " + e);
            return;
        }

        browser.send(ByteBuffer.wrap(BrowserHandshake.greeting()), this::sent);
        try {
            browserReady.await();
        } catch (InterruptedException e) {
            return;
        }
        ScheduledFuture<?> w = watchdog;
        if (w != null) {
            w.cancel(false);
        }
        if (ended.get()) {
            return;
        }
        listener.onRelaying(init);
        relayFromVm(channel);
    }

    private void relayFromVm(SocketChannel channel) {
        int chunk = settings.chunkBytes();
        try {
            while (!ended.get()) {
                frames.acquire();
                credit.acquire(chunk);
                ByteBuffer buffer = takeBuffer(chunk);
                int n = channel.read(buffer);
                if (n < 0) {
                    end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE,
                            "the VM's VNC server closed the connection"), "VM closed the connection");
                    return;
                }
                buffer.flip();
                int held = chunk;
                ByteBuffer pooled = buffer;
                if (n < chunk / 4) {
                    // Small reads are common (cursor moves, small updates): don't pin a whole chunk for them.
                    ByteBuffer small = ByteBuffer.allocate(n).put(buffer).flip();
                    giveBack(buffer);
                    credit.release(chunk - n);
                    held = n;
                    buffer = small;
                    pooled = null;
                }
                toBrowser.addAndGet(n);
                int release = held;
                ByteBuffer reuse = pooled;
                browser.send(buffer, error -> {
                    if (reuse != null) {
                        giveBack(reuse);
                    }
                    credit.release(release);
                    frames.release();
                    if (error != null) {
                        end(new CloseStatus(CloseStatus.ABNORMAL, "sending to the browser failed"),
                                "sending to the browser: " + error);
                    }
                });
            }
        } catch (InterruptedException | ClosedChannelException e) {
            // end() ran elsewhere and closed the channel or interrupted us.
        } catch (IOException e) {
            end(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "lost the connection to the VM's VNC server"),
                    "reading from the VM: " + e);
        }
    }

    /**
     * A direct buffer of {@code chunk} bytes, reused once its send has completed. A fresh heap buffer per read cost
     * two extra copies (the JDK moves heap buffers through a temporary direct one on read and again on write), the
     * zeroing of 64 KiB and the garbage: the relay moved fewer bytes per CPU second than websockify (bench/run
     * relay). At most maxInFlightBytes / chunk + 1 buffers exist per session, since each holds chunk credit.
     */
    private ByteBuffer takeBuffer(int chunk) {
        ByteBuffer b;
        synchronized (spare) {
            b = spare.poll();
        }
        return b != null ? b.clear() : ByteBuffer.allocateDirect(chunk);
    }

    private void giveBack(ByteBuffer buffer) {
        synchronized (spare) {
            spare.push(buffer);
        }
    }

    private void sent(Throwable error) {
        if (error != null) {
            end(new CloseStatus(CloseStatus.ABNORMAL, "sending to the browser failed"),
                    "sending to the browser: " + error);
        }
    }

    private void handshakeTimedOut() {
        if (browserReady.getCount() == 0 || ended.get()) {
            return;
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
    static String seconds(java.time.Duration d) {
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
        SocketChannel channel = upstream;
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing is all we wanted.
            }
        }
        Thread r = reader;
        if (r != null && r != Thread.currentThread()) {
            r.interrupt();
        }
        browserReady.countDown();
        // The listener first: a browser that reconnects the moment it sees the close must not find its old
        // session still counted against its caps.
        try {
            listener.onEnd(status, detail, fromBrowser.get(), toBrowser.get());
        } finally {
            browser.close(status.code() != CloseStatus.ABNORMAL ? status
                    : new CloseStatus(CloseStatus.GOING_AWAY, status.reason()));
        }
    }
}
