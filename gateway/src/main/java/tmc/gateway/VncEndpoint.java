package tmc.gateway;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.ee11.servlet.ServletContextRequest;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.server.Handshaker;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.rfb.BrowserChannel;
import tmc.rfb.CloseStatus;
import tmc.rfb.RelaySettings;
import tmc.rfb.RfbRelay;
import tmc.rfb.ServerInit;
import tmc.rfb.VmSockets;
import tmc.rfbserver.RfbDesktop;
import tmc.vmscreen.DbusVm;
import tmc.vmscreen.DbusVms;

/**
 * One browser WebSocket on {@code /vnc/{vmId}}. Created per upgrade with the {@link Admission.Decision} already
 * taken: a refused session is closed with its code as soon as it opens; an admitted one registers (connection caps)
 * and starts an {@link RfbRelay} to the VM.
 *
 * <p>A Jetty core {@link FrameHandler}, not a Jakarta endpoint: frames arrive with a callback and the next one only
 * on {@link CoreSession#demand()}, which is exactly the relay's backpressure (demand once the VM took the bytes),
 * and the VM's bytes go out as frames over the relay's pooled buffers without a copy or a thread hand-off. The
 * Jakarta layer on top of the same core added a dispatch to a thread per frame and its own message plumbing.
 *
 * <p>Threads: Jetty calls {@link #onFrame} for one frame at a time; the timer pings.
 */
public final class VncEndpoint implements FrameHandler {
    private static final Logger LOG = LoggerFactory.getLogger("tmc.gateway.session");
    /** After asking for a close, how long before the connection is cut if the close frame cannot go out. */
    private static final long ABORT_AFTER_MS = 2000;
    private static final Handshaker HANDSHAKER = Handshaker.newInstance();
    private static final SecureRandom SEEDS = new SecureRandom();

    private final String id;
    private final String vmId;
    private final Admission.Decision decision;
    private final String remote;
    private final GatewayConfig config;
    private final SessionRegistry registry;
    private final ScheduledExecutorService timer;
    private final Pings pings = new Pings(SEEDS.nextLong());

    private volatile VmSockets sockets;
    private volatile DbusVms dbusVms;
    /** Instead of {@link #relay}: the gateway's own RFB server, for a D-Bus display VM. */
    private volatile DesktopBridge desktop;
    private volatile CoreSession session;
    private volatile RfbRelay relay;
    /** The data message being received is text (refused); continuation frames carry no type. */
    private boolean inText;

    VncEndpoint(String id, String vmId, Admission.Decision decision, String remote, GatewayConfig config,
            SessionRegistry registry, ScheduledExecutorService timer) {
        this.id = id;
        this.vmId = vmId;
        this.decision = decision;
        this.remote = remote;
        this.config = config;
        this.registry = registry;
        this.timer = timer;
    }

    /**
     * Upgrades the request to a WebSocket handled by {@code endpoint}: subprotocol "binary" when asked for (noVNC
     * asks for it only when its page says so; both are accepted), no extensions.
     */
    static void upgrade(HttpServletRequest request, HttpServletResponse response, VncEndpoint endpoint)
            throws IOException {
        ServletContextRequest core = ServletContextRequest.getServletContextRequest(request);
        WebSocketComponents components = WebSocketServerComponents.getWebSocketComponents(
                core.getServletContextHandler());
        endpoint.sockets = (VmSockets) request.getServletContext().getAttribute(VmSockets.class.getName());
        endpoint.dbusVms = (DbusVms) request.getServletContext().getAttribute(DbusVms.class.getName());
        WebSocketNegotiator negotiator = new WebSocketNegotiator.AbstractNegotiator() {
            @Override
            public FrameHandler negotiate(ServerUpgradeRequest upgrade, ServerUpgradeResponse upgraded,
                    Callback callback) {
                if (upgrade.hasSubProtocol(VncUpgradeServlet.SUBPROTOCOL)) {
                    upgraded.setAcceptedSubProtocol(VncUpgradeServlet.SUBPROTOCOL);
                }
                // No permessage-deflate, though browsers offer it: RFB's encodings (Tight, ZRLE) are compressed
                // already, so deflating again costs CPU and latency for little, and each session would hold zlib
                // windows both ways, against the bounded memory per session.
                upgraded.setExtensions(List.of());
                return endpoint;
            }
        };
        FutureCallback done = new FutureCallback();
        int maxFrameBytes = endpoint.config.limits().chunkBytes();
        if (!HANDSHAKER.upgradeRequest(negotiator, core, core.getServletContextResponse(), done, components,
                c -> configure(c, maxFrameBytes))) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST, "not a WebSocket upgrade");
            return;
        }
        done.block();
    }

    /**
     * Frame sizes. Jetty applies the maximum to both directions: it cuts every larger frame it sends into frames of
     * the maximum (its FragmentingFlusher), and with auto-fragment it hands on a larger incoming data frame in
     * pieces as its bytes arrive, never holding more than its network buffer. So the maximum is the relay's read
     * size ({@code limits.chunkBytes}): each read from the VM leaves as one frame in one write (at 64 KiB, a
     * 256 KiB read left as four frames, four writes and four headers), and the browser's frames still stream.
     */
    private static void configure(Configuration c, int maxFrameBytes) {
        c.setMaxFrameSize(maxFrameBytes);
        c.setAutoFragment(true);
        c.setMaxBinaryMessageSize(-1); // the relay streams; ClientMessageParser bounds every message it buffers
        c.setMaxTextMessageSize(1024);
    }

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
        session = coreSession;
        coreSession.setIdleTimeout(config.limits().idleTimeout());
        WebSocketChannel channel = new WebSocketChannel(coreSession);
        callback.succeeded();
        coreSession.demand();
        if (!decision.admitted()) {
            LOG.info("session={} event=refused vm={} remote={} code={} reason=\"{}\"", id, safe(vmId), remote,
                    decision.refusal().code(), decision.refusal().reason());
            channel.close(decision.refusal());
            return;
        }
        VmConfig vm = decision.vm();
        if (vm.dbusDisplay()) {
            openDesktop(vm, channel);
            return;
        }
        Limits limits = config.limits();
        SessionRegistry.SessionInfo info = new SessionRegistry.SessionInfo(id, vm.id(), decision.claims(), remote,
                Instant.now());
        RelaySettings settings = new RelaySettings(limits.handshakeTimeout(), limits.maxCutTextBytes(),
                limits.chunkBytes(), limits.maxInFlightBytes(), limits.viewOnlyGuestClipboard());
        Live live = new Live(info);
        RfbRelay r = new RfbRelay(id, vm.vnc(), vm.vncPassword(), info.viewOnly(), channel, settings, sockets, timer,
                new RfbRelay.Listener() {
                    @Override
                    public void onRelaying(ServerInit init) {
                        LOG.info("session={} event=relaying user={} vm={} view_only={} size={}x{}", id,
                                safe(info.user()), vm.id(), info.viewOnly(), init.width(), init.height());
                    }

                    @Override
                    public void onEnd(CloseStatus status, String detail, long fromBrowser, long toBrowser) {
                        registry.unregister(live);
                        LOG.info("session={} event=closed user={} vm={} bytes_from_browser={} bytes_to_browser={}"
                                        + " code={} reason=\"{}\" detail=\"{}\"", id, safe(info.user()), vm.id(),
                                fromBrowser, toBrowser, status.code(), status.reason(), detail);
                    }
                });
        relay = r;
        CloseStatus refusal = registry.register(live);
        if (refusal != null) {
            relay = null;
            LOG.info("session={} event=refused user={} vm={} remote={} code={} reason=\"{}\"", id,
                    safe(info.user()), vm.id(), remote, refusal.code(), refusal.reason());
            channel.close(refusal);
            return;
        }
        LOG.info("session={} event=admitted user={} tenant={} vm={} view_only={} remote={}", id, safe(info.user()),
                safe(info.tenant()), vm.id(), info.viewOnly(), remote);
        r.start();
        keepAlive(r::isEnded, r::close);
    }

    /** A D-Bus display VM: the browser speaks RFB to the gateway's own server for it (docs/dbus-display.md). */
    private void openDesktop(VmConfig vm, WebSocketChannel channel) {
        DbusVm dbusVm = dbusVms == null ? null : dbusVms.get(vm.id());
        RfbDesktop rfb = dbusVm == null ? null : dbusVm.desktop();
        if (rfb == null) {
            LOG.info("session={} event=refused vm={} remote={} reason=\"display not attached\"", id, vm.id(), remote);
            channel.close(new CloseStatus(CloseStatus.UPSTREAM_UNREACHABLE, "the VM's display is not reachable"));
            return;
        }
        SessionRegistry.SessionInfo info = new SessionRegistry.SessionInfo(id, vm.id(), decision.claims(), remote,
                Instant.now());
        DesktopBridge bridge = new DesktopBridge(id, channel);
        Live live = new Live(info);
        desktop = bridge;
        CloseStatus refusal = registry.register(live);
        if (refusal != null) {
            desktop = null;
            channel.close(refusal);
            return;
        }
        LOG.info("session={} event=admitted user={} tenant={} vm={} view_only={} remote={} display=dbus", id,
                safe(info.user()), safe(info.tenant()), vm.id(), info.viewOnly(), remote);
        bridge.start(rfb, info.viewOnly(), remote, () -> {
            registry.unregister(live);
            LOG.info("session={} event=closed vm={} bytes_from_browser={} bytes_to_browser={}", id, vm.id(),
                    bridge.bytesFromBrowser(), bridge.bytesToBrowser());
        });
        keepAlive(bridge::isEnded, (status, detail) -> {
            LOG.info("session={} event=closing vm={} detail=\"{}\"", id, vm.id(), detail);
            bridge.close(status);
        });
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        DesktopBridge d = desktop;
        if (d != null) {
            switch (frame.getOpCode()) {
                case OpCode.BINARY, OpCode.CONTINUATION -> d.onBrowserData(frame.getPayload(),
                        Callback.from(() -> next(callback), callback::failed));
                case OpCode.TEXT -> {
                    d.close(new CloseStatus(CloseStatus.PROTOCOL_ERROR, "text messages are not part of RFB"));
                    callback.succeeded();
                }
                case OpCode.PING -> session.sendFrame(new Frame(OpCode.PONG, true, frame.getPayload()),
                        Callback.from(() -> next(callback), callback::failed), false);
                case OpCode.PONG -> {
                    pings.answered(frame.getPayload(), System.nanoTime());
                    next(callback);
                }
                default -> callback.succeeded();
            }
            return;
        }
        RfbRelay r = relay;
        switch (frame.getOpCode()) {
            case OpCode.BINARY, OpCode.TEXT, OpCode.CONTINUATION -> {
                if (frame.getOpCode() != OpCode.CONTINUATION) {
                    inText = frame.getOpCode() == OpCode.TEXT;
                }
                if (r == null) {
                    next(callback); // refused: the close is on its way, the browser's last bytes go nowhere
                } else if (inText) {
                    r.close(new CloseStatus(CloseStatus.PROTOCOL_ERROR, "text messages are not part of RFB"),
                            "browser sent a text message");
                    callback.succeeded();
                } else {
                    r.onBrowserData(frame.getPayload(), Callback.from(() -> next(callback), callback::failed));
                }
            }
            case OpCode.PING -> session.sendFrame(new Frame(OpCode.PONG, true, frame.getPayload()),
                    Callback.from(() -> next(callback), callback::failed), false);
            case OpCode.PONG -> {
                pings.answered(frame.getPayload(), System.nanoTime());
                next(callback);
            }
            default -> callback.succeeded(); // CLOSE: Jetty answers it and then calls onClosed
        }
    }

    /** The frame is done with: ask for the next one (backpressure: only now). */
    private void next(Callback frameDone) {
        frameDone.succeeded();
        CoreSession s = session;
        if (s.isInputOpen()) {
            s.demand();
        }
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        DesktopBridge d = desktop;
        if (d != null) {
            d.onBrowserClosed();
        }
        RfbRelay r = relay;
        if (r != null) {
            r.onBrowserClosed(CloseStatus.ABNORMAL, "WebSocket error: " + cause.getClass().getSimpleName());
        }
        callback.succeeded();
    }

    @Override
    public void onClosed(org.eclipse.jetty.websocket.core.CloseStatus status, Callback callback) {
        DesktopBridge d = desktop;
        if (d != null) {
            d.onBrowserClosed();
        }
        RfbRelay r = relay;
        if (r != null) {
            r.onBrowserClosed(status.getCode(), status.getReason());
        }
        callback.succeeded();
    }

    /**
     * Pings the browser every interval. Browsers answer pings by themselves, so silence for three intervals means
     * the peer is gone or has stopped reading (its pongs queue behind the data it does not read): cut it off rather
     * than hold a VM connection for it. Only a pong that echoes one of our recent pings counts: unsolicited pongs
     * (RFC 6455 allows them as heartbeats) would let a client that never reads keep its session, and a VM
     * connection, for ever.
     */
    private void keepAlive(java.util.function.BooleanSupplier ended,
            java.util.function.BiConsumer<CloseStatus, String> close) {
        long interval = config.limits().pingInterval().toMillis();
        if (interval <= 0) {
            return;
        }
        pings.start(System.nanoTime());
        ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
        task[0] = timer.scheduleAtFixedRate(() -> {
            CoreSession s = session;
            if (ended.getAsBoolean() || !s.isOutputOpen()) {
                task[0].cancel(false);
                return;
            }
            long now = System.nanoTime();
            if (pings.silentFor(now) > TimeUnit.MILLISECONDS.toNanos(3 * interval)) {
                task[0].cancel(false);
                close.accept(new CloseStatus(CloseStatus.GOING_AWAY, "the browser stopped answering pings"),
                        "no pong for " + 3 * interval + " ms");
                return;
            }
            s.sendFrame(new Frame(OpCode.PING, true, pings.next()), Callback.NOOP, false);
        }, interval, interval, TimeUnit.MILLISECONDS);
    }

    /** Log values come from tokens and URLs: keep them on one line and short. */
    static String safe(String s) {
        if (s == null) {
            return "-";
        }
        String clean = s.replaceAll("[^\\x21-\\x7e]", "?").replace("\"", "?");
        return clean.length() > 64 ? clean.substring(0, 64) + "..." : clean;
    }

    private final class Live implements SessionRegistry.Live {
        private final SessionRegistry.SessionInfo info;

        Live(SessionRegistry.SessionInfo info) {
            this.info = info;
        }

        @Override
        public SessionRegistry.SessionInfo info() {
            return info;
        }

        @Override
        public long bytesFromBrowser() {
            DesktopBridge d = desktop;
            if (d != null) {
                return d.bytesFromBrowser();
            }
            RfbRelay r = relay;
            return r == null ? 0 : r.bytesFromBrowser();
        }

        @Override
        public long bytesToBrowser() {
            DesktopBridge d = desktop;
            if (d != null) {
                return d.bytesToBrowser();
            }
            RfbRelay r = relay;
            return r == null ? 0 : r.bytesToBrowser();
        }

        @Override
        public void close(CloseStatus status, String detail) {
            DesktopBridge d = desktop;
            if (d != null) {
                d.close(status);
            }
            RfbRelay r = relay;
            if (r != null) {
                r.close(status, detail);
            }
        }
    }

    /** The core session as a {@link BrowserChannel}: frames out without a copy, closes that cannot hang. */
    private final class WebSocketChannel implements BrowserChannel {
        private final CoreSession session;
        private final AtomicBoolean closed = new AtomicBoolean();

        WebSocketChannel(CoreSession session) {
            this.session = session;
        }

        @Override
        public void send(ByteBuffer data, Consumer<Throwable> done) {
            session.sendFrame(new Frame(OpCode.BINARY, true, data), Callback.from(() -> done.accept(null),
                    done::accept), false);
        }

        @Override
        public void close(CloseStatus status) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            // Non-blocking close; a browser that stopped reading would never take the close frame, so the
            // connection is cut if it is still open a little later.
            session.close(status.code(), status.reason(), Callback.NOOP);
            timer.schedule(() -> {
                if (!session.isClosed()) {
                    session.abort();
                }
            }, ABORT_AFTER_MS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The pings in flight: each carries 8 unpredictable bytes, and a pong counts only if it echoes one of the last
     * {@link #REMEMBERED} (a browser that reads answers each one; a slow one may answer late).
     */
    static final class Pings {
        static final int REMEMBERED = 3;
        private final SplittableRandom random;
        private final long[] sent = new long[REMEMBERED];
        private int count;
        private long lastPong;

        Pings(long seed) {
            random = new SplittableRandom(seed);
        }

        synchronized void start(long now) {
            lastPong = now;
        }

        /** The payload of the next ping. */
        synchronized ByteBuffer next() {
            long nonce = random.nextLong();
            sent[count++ % REMEMBERED] = nonce;
            return ByteBuffer.allocate(8).putLong(0, nonce);
        }

        /** A pong arrived: it refreshes the session only if it echoes a ping of ours. */
        synchronized boolean answered(ByteBuffer payload, long now) {
            if (payload == null || payload.remaining() != 8) {
                return false;
            }
            long nonce = payload.getLong(payload.position());
            for (int i = 0; i < Math.min(count, REMEMBERED); i++) {
                if (sent[i] == nonce) {
                    lastPong = now;
                    return true;
                }
            }
            return false;
        }

        synchronized long silentFor(long now) {
            return now - lastPong;
        }
    }
}
