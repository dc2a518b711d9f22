package tmc.gateway;

import jakarta.servlet.http.HttpServlet;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.ee11.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.auth.Authenticator;
import tmc.auth.InMemoryRevocations;
import tmc.auth.JwtVerifier;
import tmc.auth.ReplayGuard;
import tmc.auth.Revocations;
import tmc.auth.Tickets;
import tmc.rfb.CloseStatus;
import tmc.rfb.VmSockets;
import tmc.vmscreen.DbusVms;

/**
 * The running gateway: Jetty with {@code /vnc/*} (browser sessions), {@code /healthz}, {@code /api/v1/sessions}
 * (admin: list and revoke), {@code /api/v1/tickets} (a token exchanged for a ticket), plus whatever {@link Extension}s add. Other parts of the gateway (message API, store,
 * QMP, web pages) plug in as extensions, so adding them changes no line here.
 *
 * <pre>
 *   GatewayServer gw = GatewayServer.builder(config).extension(new MessagesExtension()).build();
 *   gw.start();  ...  gw.close();
 * </pre>
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);

    /** Adds servlets, filters or background services to the gateway before it starts. */
    public interface Extension {
        /**
         * Called once, before Jetty starts. Register servlets on {@code context}; return something to close when
         * the gateway stops (or null).
         */
        AutoCloseable install(GatewayServer gateway, ServletContextHandler context) throws Exception;
    }

    private final GatewayConfig config;
    private final Clock clock;
    private final JwtVerifier verifier;
    private final Revocations revocations;
    private final Authenticator tenants;
    private final Authenticator admins;
    private final Tickets tickets;
    private final ReplayGuard replays;
    private final SessionRegistry sessions;
    private final AdminAuth adminAuth;
    private final VmDirectory directory;
    /** VMs on stock QEMU whose screen the gateway serves itself (D-Bus display). */
    private final DbusVms dbusVms;
    private final ScheduledExecutorService timer;
    private final List<Extension> extensions;
    private final Map<String, HttpServlet> servlets;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<VncTlsBridge> tlsBridges = new ArrayList<>();
    private Server server;
    private ServerConnector connector;
    private VmSockets vmSockets;

    private GatewayServer(Builder builder) {
        this.config = builder.config;
        this.clock = builder.clock;
        this.verifier = new JwtVerifier(config.jwt(), clock);
        this.revocations = builder.revocations != null ? builder.revocations : new InMemoryRevocations(clock, 100_000);
        this.tenants = new Authenticator(verifier, revocations, clock);
        this.admins = new Authenticator(new JwtVerifier(config.adminJwt(), clock), revocations, clock);
        // A user may hold about as many unspent tickets as sessions; all of them together stay bounded.
        int ticketCapacity = Math.max(10_000, config.limits().total());
        this.tickets = new Tickets(clock, config.ticketTtl(), ticketCapacity,
                Math.min(ticketCapacity, config.limits().perUser() + 8));
        this.replays = new ReplayGuard(clock, 100_000);
        this.sessions = new SessionRegistry(config.limits(), tenants);
        this.adminAuth = new AdminAuth(admins);
        this.directory = new VmDirectory(config.vms());
        this.dbusVms = new DbusVms();
        for (VmConfig vm : config.vms()) {
            if (vm.dbusDisplay() && vm.dbus().vncListen() != null) {
                dbusVms.add(vm.id(), vm.dbusQmp(), vm.dbus().vncListen(), vm.dbus().vncPassword());
            } else if (vm.dbusDisplay()) {
                dbusVms.add(vm.id(), vm.dbusQmp());
            }
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tmc-timer");
            t.setDaemon(true);
            return t;
        });
        this.extensions = List.copyOf(builder.extensions);
        this.servlets = new LinkedHashMap<>(builder.servlets);
    }

    public static Builder builder(GatewayConfig config) {
        return new Builder(config);
    }

    public GatewayConfig config() {
        return config;
    }

    public Clock clock() {
        return clock;
    }

    /** The tenants' token verifier (console tokens). */
    public JwtVerifier verifier() {
        return verifier;
    }

    /** Tenant tokens: verified, then checked against the deny-list. */
    public Authenticator tenants() {
        return tenants;
    }

    /** Admin tokens: their own trust domain (audience, optionally issuer and keys), the same deny-list. */
    public Authenticator admins() {
        return admins;
    }

    public Tickets tickets() {
        return tickets;
    }

    public Revocations revocations() {
        return revocations;
    }

    /** Single-use jti: in memory, shared through the database by a fleet ({@link ReplayGuard#share}). */
    public ReplayGuard replays() {
        return replays;
    }

    public AdminAuth adminAuth() {
        return adminAuth;
    }

    /** The D-Bus display VMs, kept attached while the gateway runs. */
    public DbusVms dbusVms() {
        return dbusVms;
    }

    /** The VMs browsers may open: the configured ones, plus those extensions (libvirt) add at run time. */
    public VmDirectory vms() {
        return directory;
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    public ScheduledExecutorService timer() {
        return timer;
    }

    public synchronized GatewayServer start() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("tmc-http");
        // No virtual threads for Jetty's tasks: the relay never blocks a Jetty thread (VncEndpoint, VmSockets), and
        // with a virtual-thread executor Jetty hands every browser frame from its selector to a new virtual thread
        // (a hand-off per input event, milliseconds at p99 on a busy machine). Platform threads let the selector
        // thread run the frame itself while a reserved thread takes over selecting.
        // Buffers: pooled up to 1 MiB, so that the relay's reads (limits.chunkBytes) come from the pool.
        server = new Server(threads, null, new ArrayByteBufferPool(0, 0, 1 << 20));
        vmSockets = new VmSockets(threads, server.getScheduler(), server.getByteBufferPool(),
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
        server.addBean(vmSockets);
        HttpConfiguration http = new HttpConfiguration();
        // Room for a token of maxTokenBytes in the query or a cookie, so that it is refused with a readable 4401
        // rather than an HTTP 414/431 the browser's script cannot see.
        http.setRequestHeaderSize(16 * 1024 + 2 * config.jwt().maxTokenBytes());
        http.setSendServerVersion(false);
        if (!config.trustedProxies().isEmpty()) { // the client's address from a load balancer's X-Forwarded-For
            http.addCustomizer(new ForwardedFor(config.trustedProxies()));
        }
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.host());
        connector.setPort(config.port());
        server.addConnector(connector);

        // VMs reached over VeNCrypt TLS: the relay connects to a bridge that opens the TLS session.
        for (VmConfig vm : config.vms()) {
            if (vm.vncTls() != null) {
                VncTlsBridge bridge = new VncTlsBridge(vm, config.limits().handshakeTimeout());
                tlsBridges.add(bridge);
                directory.put(bridge.relayed());
            }
        }

        ServletContextHandler context = new ServletContextHandler("/");
        context.setAttribute(VmSockets.class.getName(), vmSockets);
        context.setAttribute(DbusVms.class.getName(), dbusVms.start());
        closeables.add(dbusVms);
        JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) -> {
            container.setDefaultMaxBinaryMessageBufferSize(64 * 1024);
            container.setDefaultMaxTextMessageBufferSize(1024);
        });
        Admission admission = new Admission(config, directory, tenants, replays, tickets);
        context.addServlet(new ServletHolder("vnc", new VncUpgradeServlet(config, admission, sessions, timer)),
                "/vnc/*");
        context.addServlet(new ServletHolder("healthz", new HealthServlet(sessions, config, adminAuth)), "/healthz");
        context.addServlet(new ServletHolder("sessions", new SessionsServlet(sessions, adminAuth, tenants, clock)),
                "/api/v1/sessions");
        context.addServlet(new ServletHolder("tickets", new TicketServlet(admission, tenants, admins, tickets, clock)),
                "/api/v1/tickets");
        for (Map.Entry<String, HttpServlet> e : servlets.entrySet()) {
            context.addServlet(new ServletHolder(e.getValue()), e.getKey());
        }
        for (Extension extension : extensions) {
            AutoCloseable closeable = extension.install(this, context);
            if (closeable != null) {
                closeables.add(closeable);
            }
        }
        server.setHandler(context);
        server.setStopTimeout(3000);
        server.start();
        // Sessions end when their token expires or is revoked (also by another gateway sharing the deny-list).
        timer.scheduleWithFixedDelay(() -> {
            try {
                sessions.sweep();
            } catch (RuntimeException e) {
                LOG.warn("event=sweep-failed error=\"{}\"", e.toString());
            }
        }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        LOG.info("event=started listen={}:{} vms={}", config.host(), port(), config.vms().size());
        return this;
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://host:port} of the gateway. */
    public URI uri() {
        String host = config.host().equals("0.0.0.0") || config.host().equals("::") ? "127.0.0.1" : config.host();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    /** Closes live sessions (1001), the extensions' resources, then Jetty. */
    @Override
    public synchronized void close() {
        sessions.closeAll(new CloseStatus(CloseStatus.GOING_AWAY, "the gateway is shutting down"), "shutdown");
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                LOG.warn("event=extension-close-failed error=\"{}\"", e.toString());
            }
        }
        try {
            if (server != null) {
                server.stop();
            }
        } catch (Exception e) {
            LOG.warn("event=stop-failed error=\"{}\"", e.toString());
        } finally {
            timer.shutdownNow();
            tlsBridges.forEach(VncTlsBridge::close);
        }
    }

    public static final class Builder {
        private final GatewayConfig config;
        private Clock clock = Clock.systemUTC();
        private Revocations revocations;
        private final List<Extension> extensions = new ArrayList<>();
        private final Map<String, HttpServlet> servlets = new LinkedHashMap<>();

        private Builder(GatewayConfig config) {
            this.config = config;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** The deny-list; by default one in memory (a fleet passes one its gateways share). */
        public Builder revocations(Revocations revocations) {
            this.revocations = revocations;
            return this;
        }

        public Builder extension(Extension extension) {
            extensions.add(extension);
            return this;
        }

        /** Adds a servlet at a servlet path spec ({@code /api/v1/messages/*}). */
        public Builder servlet(String pathSpec, HttpServlet servlet) {
            servlets.put(pathSpec, servlet);
            return this;
        }

        public GatewayServer build() {
            return new GatewayServer(this);
        }
    }
}
