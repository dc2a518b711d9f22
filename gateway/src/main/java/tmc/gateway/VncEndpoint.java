package tmc.gateway;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.ee11.websocket.jakarta.common.JakartaWebSocketSession;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.rfb.BrowserChannel;
import tmc.rfb.CloseStatus;
import tmc.rfb.RelaySettings;
import tmc.rfb.RfbRelay;
import tmc.rfb.ServerInit;

/**
 * One browser WebSocket on {@code /vnc/{vmId}}. Created per upgrade with the {@link Admission.Decision} already
 * taken: a refused session is closed with its code as soon as it opens; an admitted one registers (connection caps)
 * and starts an {@link RfbRelay} to the VM.
 */
public final class VncEndpoint extends Endpoint {
    private static final Logger LOG = LoggerFactory.getLogger("tmc.gateway.session");
    /** After asking for a close, how long before the connection is cut if the close frame cannot go out. */
    private static final long ABORT_AFTER_MS = 2000;

    private final String id;
    private final String vmId;
    private final Admission.Decision decision;
    private final String remote;
    private final GatewayConfig config;
    private final SessionRegistry registry;
    private final ScheduledExecutorService timer;

    private static final byte[] PING = "tmc".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private volatile RfbRelay relay;
    private volatile long lastPong;

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

    @Override
    public void onOpen(Session session, EndpointConfig endpointConfig) {
        session.setMaxIdleTimeout(config.limits().idleTimeout().toMillis());
        WebSocketChannel channel = new WebSocketChannel(session);
        if (!decision.admitted()) {
            LOG.info("session={} event=refused vm={} remote={} code={} reason=\"{}\"", id, safe(vmId), remote,
                    decision.refusal().code(), decision.refusal().reason());
            channel.close(decision.refusal());
            return;
        }
        VmConfig vm = decision.vm();
        Limits limits = config.limits();
        SessionRegistry.SessionInfo info = new SessionRegistry.SessionInfo(id, vm.id(),
                decision.claims().tenant(), decision.claims().user(),
                decision.claims().tokenId(), decision.claims().viewOnly(), remote, Instant.now());
        RelaySettings settings = new RelaySettings(limits.handshakeTimeout(), limits.maxCutTextBytes(),
                limits.chunkBytes(), limits.maxInFlightBytes());
        Live live = new Live(info);
        RfbRelay r = new RfbRelay(id, vm.vnc(), vm.vncPassword(), info.viewOnly(), channel, settings, timer,
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
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) (data, last) ->
                r.onBrowserData(data));
        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text ->
                r.close(new CloseStatus(CloseStatus.PROTOCOL_ERROR, "text messages are not part of RFB"),
                        "browser sent a text message"));
        session.addMessageHandler(PongMessage.class, (MessageHandler.Whole<PongMessage>) pong ->
                lastPong = System.nanoTime());
        r.start();
        keepAlive(session, r);
    }

    /**
     * Pings the browser every interval. Browsers answer pings by themselves, so silence for three intervals means
     * the peer is gone or has stopped reading (its pongs queue behind the data it does not read): cut it off rather
     * than hold a VM connection for it.
     */
    private void keepAlive(Session session, RfbRelay r) {
        long interval = config.limits().pingInterval().toMillis();
        if (interval <= 0) {
            return;
        }
        lastPong = System.nanoTime();
        java.util.concurrent.ScheduledFuture<?>[] task = new java.util.concurrent.ScheduledFuture<?>[1];
        task[0] = timer.scheduleAtFixedRate(() -> {
            if (r.isEnded() || !session.isOpen()) {
                task[0].cancel(false);
                return;
            }
            if (System.nanoTime() - lastPong > TimeUnit.MILLISECONDS.toNanos(3 * interval)) {
                task[0].cancel(false);
                r.close(new CloseStatus(CloseStatus.GOING_AWAY, "the browser stopped answering pings"),
                        "no pong for " + 3 * interval + " ms");
                return;
            }
            try {
                session.getAsyncRemote().sendPing(ByteBuffer.wrap(PING));
            } catch (IOException | RuntimeException e) {
                // The close path reports it.
            }
        }, interval, interval, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onClose(Session session, CloseReason closeReason) {
        RfbRelay r = relay;
        if (r != null) {
            r.onBrowserClosed(closeReason.getCloseCode().getCode(), closeReason.getReasonPhrase());
        }
    }

    @Override
    public void onError(Session session, Throwable error) {
        RfbRelay r = relay;
        if (r != null) {
            r.onBrowserClosed(CloseStatus.ABNORMAL, "WebSocket error: " + error.getClass().getSimpleName());
        }
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
            RfbRelay r = relay;
            return r == null ? 0 : r.bytesFromBrowser();
        }

        @Override
        public long bytesToBrowser() {
            RfbRelay r = relay;
            return r == null ? 0 : r.bytesToBrowser();
        }

        @Override
        public void close(CloseStatus status, String detail) {
            RfbRelay r = relay;
            if (r != null) {
                r.close(status, detail);
            }
        }
    }

    /** The Jakarta session as a {@link BrowserChannel}: async sends, and closes that cannot hang. */
    private final class WebSocketChannel implements BrowserChannel {
        private final Session session;
        private final AtomicBoolean closed = new AtomicBoolean();

        WebSocketChannel(Session session) {
            this.session = session;
        }

        @Override
        public void send(ByteBuffer data, Consumer<Throwable> done) {
            try {
                session.getAsyncRemote().sendBinary(data, result -> done.accept(result.isOK() ? null
                        : result.getException()));
            } catch (RuntimeException e) {
                done.accept(e);
            }
        }

        @Override
        public void close(CloseStatus status) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (session instanceof JakartaWebSocketSession jetty) {
                // Non-blocking close; a browser that stopped reading would never take the close frame, so the
                // connection is cut if it is still open a little later.
                jetty.getCoreSession().close(status.code(), status.reason(), Callback.NOOP);
                timer.schedule(() -> {
                    if (jetty.isOpen()) {
                        jetty.abort();
                    }
                }, ABORT_AFTER_MS, TimeUnit.MILLISECONDS);
            } else {
                Thread.ofVirtual().start(() -> {
                    try {
                        session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(status.code()),
                                status.reason()));
                    } catch (Exception ignored) {
                        // Already gone.
                    }
                });
            }
        }
    }
}
