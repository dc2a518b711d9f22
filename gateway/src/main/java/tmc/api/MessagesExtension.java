package tmc.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import tmc.gateway.ConfigException;
import tmc.gateway.GatewayConfig;
import tmc.gateway.GatewayServer;
import tmc.gateway.VmConfig;
import tmc.fleet.FleetRevocations;
import tmc.fleet.FleetSettings;
import tmc.fleet.LeaseKeeper;
import tmc.messages.EventBus;
import tmc.messages.MessageService;
import tmc.messages.VmTarget;
import tmc.messages.WebhookDispatcher;
import tmc.qmp.QmpAddress;
import tmc.rfb.ServerAddress;
import tmc.store.Database;
import tmc.store.DenyList;
import tmc.store.JtiLog;
import tmc.store.SessionTable;
import tmc.store.TicketTable;
import tmc.store.Leases;
import tmc.store.Notifications;
import tmc.store.Store;

/**
 * Plugs the message channel into the gateway: opens the store, connects to every VM's QMP, starts the webhook
 * dispatcher and mounts the admin API at {@code /api/v1/*}.
 *
 * <p>Configuration (all optional):
 * <pre>
 * "store":    {"url": "jdbc:postgresql://db/tmc", "user": "tmc", "password": "..."}   (default: H2 file
 *             "path": ".tmc/data/tmc")   env TMC_STORE_URL, TMC_STORE_USER, TMC_STORE_PASSWORD override
 * "webhooks": [{"url": "https://hooks.example/tmc", "secret": "whsec_...", "name": "crm", "allowHttp": false}]
 *             env TMC_WEBHOOK_SECRET is the default secret; plain http only with allowHttp
 * "fleet":    {"node": "gw-a", "leaseMillis": 4000}   (see {@link FleetSettings}; env TMC_NODE)
 * </pre>
 *
 * <p>With a PostgreSQL store the gateway is one of a fleet (docs/fleet.md): VMs and webhooks are leased, the outbox
 * is read by every gateway, woken by NOTIFY.
 */
public final class MessagesExtension implements GatewayServer.Extension {
    private final Map<String, String> env;
    private final FleetRevocations revocations;
    private volatile MessageService service;

    public MessagesExtension() {
        this(System.getenv());
    }

    public MessagesExtension(Map<String, String> env) {
        this(env, null);
    }

    /** @param revocations the gateway's deny-list, to share with the fleet when the store is PostgreSQL (or null) */
    public MessagesExtension(Map<String, String> env, FleetRevocations revocations) {
        this.env = env;
        this.revocations = revocations;
    }

    /** The running service (after install), for tests and the demo. */
    public MessageService service() {
        return service;
    }

    @Override
    public AutoCloseable install(GatewayServer gateway, ServletContextHandler context) throws Exception {
        GatewayConfig config = gateway.config();
        FleetSettings fleet;
        try {
            fleet = FleetSettings.fromJson(config.section("fleet").orElse(null), env);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        List<WebhookDispatcher.Target> hooks = webhooks(config.section("webhooks").orElse(null));
        Database db = openStore(config.section("store").orElse(null));
        Store store = Store.on(db);
        List<VmTarget> targets = new ArrayList<>();
        for (VmConfig vm : config.vms()) {
            if (vm.dbusDisplay()) {
                // The gateway draws this VM's messages itself; its "monitor" is the overlay contract in-process.
                targets.add(new VmTarget(vm.id(), vm.tenant(), null, gateway.dbusVms().get(vm.id()).transport()));
            } else {
                targets.add(new VmTarget(vm.id(), vm.tenant(), vm.qmp() == null ? null : qmpAddress(vm.qmp())));
            }
        }
        EventBus bus = new EventBus();
        LeaseKeeper keeper = db.postgres()
                ? new LeaseKeeper(Leases.on(db), gateway.clock(), fleet.node(), fleet.lease()) : null;
        MessageService svc = new MessageService(store, gateway.clock(), bus, targets, keeper).start();
        WebhookDispatcher webhooks = new WebhookDispatcher(store, bus, hooks, gateway.clock(),
                java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(60), keeper).start();
        FleetRevocations deny = db.postgres() ? revocations : null;
        if (deny != null) {
            deny.attach(DenyList.on(db));
        }
        if (db.postgres()) { // a single-use jti spent on any gateway of the fleet is spent on all
            JtiLog jtis = JtiLog.on(db);
            gateway.replays().share((key, until) -> jtis.firstUse(key, until.toEpochMilli(), gateway.clock().millis()));
            // A ticket issued by one gateway is redeemed by whichever the load balancer picks, once.
            gateway.tickets().share(TicketTable.on(db));
            gateway.sessions().share(fleetSessions(SessionTable.on(db, fleet.node()), gateway.clock()));
        }
        Runnable reread = () -> {
            svc.outboxNotified();
            if (deny != null) {
                deny.refresh();
                gateway.sessions().sweep(); // a revocation on another gateway ends our sessions now
            }
        };
        Notifications listen = db.postgres() ? new Notifications(db, List.of(Store.OUTBOX_CHANNEL, DenyList.CHANNEL),
                (channel, payload) -> {
                    if (channel.equals(DenyList.CHANNEL)) {
                        reread.run();
                    } else {
                        svc.outboxNotified();
                    }
                }, reread).start() : null;
        if (keeper != null) {
            keeper.start();
        }
        AdminApiServlet api = new AdminApiServlet(svc, AdminAuth.of(gateway.admins(), gateway.tickets()));
        ServletHolder holder = new ServletHolder("admin-api", api);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/api/v1/*");
        this.service = svc;
        return () -> {
            api.closeStreams(); // before Jetty stops: open event streams would hold its graceful stop
            webhooks.close();
            if (keeper != null) {
                keeper.close(); // releases the leases: the other gateways take the VMs over at once
            }
            svc.close();
            if (listen != null) {
                listen.close();
            }
            db.close();
        };
    }

    static QmpAddress qmpAddress(ServerAddress a) {
        return a.isUnix() ? new QmpAddress.Unix(a.path()) : new QmpAddress.Tcp(a.host(), a.port());
    }

    private Database openStore(JsonNode section) throws Exception {
        checkFields(section, "store", Set.of("url", "user", "password", "path", "poolSize"));
        int poolSize = 8;
        if (section != null && section.has("poolSize")) {
            if (!section.get("poolSize").isInt() || section.get("poolSize").asInt() < 4
                    || section.get("poolSize").asInt() > 200) {
                throw new ConfigException("store.poolSize: expected an integer from 4 to 200");
            }
            poolSize = section.get("poolSize").asInt();
        }
        String url = env.getOrDefault("TMC_STORE_URL", text(section, "url"));
        String user = env.getOrDefault("TMC_STORE_USER", text(section, "user"));
        String password = env.getOrDefault("TMC_STORE_PASSWORD", text(section, "password"));
        if (url == null) {
            String path = text(section, "path");
            Path p = Path.of(path != null ? path : ".tmc/data/tmc").toAbsolutePath();
            Files.createDirectories(p.getParent());
            url = Store.h2FileUrl(p.toString());
            if (user == null) {
                user = "sa";
                password = password == null ? "" : password;
            }
        } else if (!url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:postgresql:")) {
            throw new ConfigException("store.url: expected jdbc:h2:... or jdbc:postgresql:...");
        }
        return Database.open(url, user, password, poolSize);
    }

    List<WebhookDispatcher.Target> webhooks(JsonNode section) throws ConfigException {
        List<WebhookDispatcher.Target> out = new ArrayList<>();
        if (section == null) {
            return out;
        }
        if (!section.isArray()) {
            throw new ConfigException("webhooks: expected a list of {url, secret}");
        }
        for (int i = 0; i < section.size(); i++) {
            JsonNode w = section.get(i);
            String path = "webhooks[" + i + "]";
            checkFields(w, path, Set.of("url", "secret", "name", "allowHttp"));
            String url = text(w, "url");
            String secret = w.hasNonNull("secret") ? w.get("secret").asText() : env.get("TMC_WEBHOOK_SECRET");
            String name = text(w, "name");
            if (url == null) {
                throw new ConfigException(path + ".url: required");
            }
            URI uri;
            try {
                uri = new URI(url);
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(path + ".url: not a URL");
            }
            if (uri.getHost() == null || !("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))) {
                throw new ConfigException(path + ".url: expected an https URL");
            }
            if (w.has("allowHttp") && !w.get("allowHttp").isBoolean()) {
                throw new ConfigException(path + ".allowHttp: expected true or false");
            }
            if ("http".equals(uri.getScheme()) && !w.path("allowHttp").asBoolean(false)) {
                throw new ConfigException(path + ".url: plain http is refused (events and their signatures would"
                        + " travel in clear); use https, or set allowHttp: true for a receiver on a trusted network");
            }
            byte[] key;
            try {
                key = WebhookDispatcher.secretKey(secret);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(path + ".secret" + (secret == null ? " (or TMC_WEBHOOK_SECRET)" : "") + ": "
                        + (secret == null ? "required; " : "") + e.getMessage());
            }
            if (name != null && !name.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new ConfigException(path + ".name: 1-64 characters of A-Z a-z 0-9 . _ -");
            }
            out.add(new WebhookDispatcher.Target(uri, key, name != null ? name : path));
        }
        return out;
    }

    private static void checkFields(JsonNode n, String path, Set<String> allowed) throws ConfigException {
        if (n == null) {
            return;
        }
        if (!n.isObject()) {
            throw new ConfigException(path + ": expected an object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new ConfigException(path + "." + f + ": unknown field");
            }
        }
    }

    private static String text(JsonNode n, String field) throws ConfigException {
        if (n == null || !n.hasNonNull(field)) {
            return null;
        }
        if (!n.get(field).isTextual()) {
            throw new ConfigException(field + ": expected a string");
        }
        return n.get(field).asText();
    }

    /** The caps counted over the fleet's sessions (tmc_session): a session on any gateway counts on all. */
    private static tmc.gateway.SessionRegistry.Shared fleetSessions(SessionTable table, java.time.Clock clock) {
        return new tmc.gateway.SessionRegistry.Shared() {
            @Override
            public String add(tmc.gateway.SessionRegistry.SessionInfo s, tmc.gateway.Limits limits) {
                tmc.auth.Principal p = s.principal();
                SessionTable.Cap cap = table.add(s.id(), s.vmId(), p.issuer() + "\u0000" + p.tenant() + "\u0000"
                        + p.subject(), s.tokenId(), limits.perToken(), limits.perUser(), limits.perVm(),
                        clock.millis());
                return cap == null ? null : cap.name().toLowerCase(java.util.Locale.ROOT);
            }

            @Override
            public void remove(String sessionId) {
                table.remove(sessionId);
            }
        };
    }
}
