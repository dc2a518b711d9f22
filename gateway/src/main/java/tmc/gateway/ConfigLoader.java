package tmc.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tmc.auth.JwtSettings;
import tmc.rfb.ServerAddress;
import tmc.rfb.VncTls;

/**
 * Reads and validates the configuration. Every problem is reported with the path of the field
 * ({@code jwt.audience: required}); nothing is guessed. Secrets may come from the environment instead of the file:
 * <ul>
 *   <li>{@code TMC_JWT_HS256_SECRET} replaces {@code jwt.hs256Secret}, {@code TMC_JWT_ADMIN_HS256_SECRET}
 *       {@code jwt.admin.hs256Secret};
 *   <li>{@code TMC_VNC_PASSWORD_<VMID>} replaces {@code vms[].vncPassword} of that VM (id upper-cased, every
 *       character other than A-Z and 0-9 replaced by {@code _});
 *   <li>{@code TMC_LISTEN_PORT} replaces {@code listen.port}.
 * </ul>
 */
public final class ConfigLoader {
    /** Top-level sections owned by other parts of the gateway: kept as JSON, validated by their owners. */
    public static final Set<String> EXTENSION_SECTIONS =
            Set.of("store", "webhooks", "web", "messages", "render", "qmp", "api", "demo", "libvirt", "fleet");

    private static final Set<String> TOP_LEVEL =
            Set.of("listen", "allowedOrigins", "allowMissingOrigin", "jwt", "limits", "vms");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALGORITHM_NAMES = "RS256, ES256, EdDSA";

    private final Map<String, String> env;

    public ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    public GatewayConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text);
    }

    public GatewayConfig parse(String json) throws ConfigException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException("not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException("(root): expected a JSON object");
        }
        Map<String, JsonNode> sections = new LinkedHashMap<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (EXTENSION_SECTIONS.contains(name)) {
                sections.put(name, root.get(name));
            } else if (!TOP_LEVEL.contains(name)) {
                throw new ConfigException(name + ": unknown field");
            }
        }

        Obj listen = Obj.optional(root, "listen");
        String host = listen.string("host", "127.0.0.1");
        int port = listen.integer("port", 8080, 0, 65535);
        String envPort = env.get("TMC_LISTEN_PORT");
        if (envPort != null) {
            try {
                port = Integer.parseInt(envPort);
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 0 || port > 65535) {
                throw new ConfigException("TMC_LISTEN_PORT: expected 0-65535");
            }
        }
        TrustedProxies trustedProxies = trustedProxies(listen);
        listen.noOthers();

        List<String> origins = new ArrayList<>();
        JsonNode originsNode = root.get("allowedOrigins");
        if (originsNode == null || !originsNode.isArray()) {
            throw new ConfigException("allowedOrigins: required, a list of origins like \"https://desk.example\"");
        }
        for (int i = 0; i < originsNode.size(); i++) {
            JsonNode o = originsNode.get(i);
            String field = "allowedOrigins[" + i + "]";
            if (!o.isTextual() || !o.asText().matches("https?://[^/\\s]+")) {
                throw new ConfigException(field + ": expected scheme://host[:port] with no path, got " + o);
            }
            origins.add(o.asText().toLowerCase(Locale.ROOT));
        }
        JsonNode missingOrigin = root.get("allowMissingOrigin");
        if (missingOrigin != null && !missingOrigin.isBoolean()) {
            throw new ConfigException("allowMissingOrigin: expected true or false");
        }
        boolean allowMissingOrigin = missingOrigin != null && missingOrigin.asBoolean();

        Obj jwtObj = Obj.required(root, "jwt");
        JwtSettings jwt = jwt(jwtObj);
        JwtSettings adminJwt = adminJwt(jwtObj, jwt);
        Duration ticketTtl = ticketTtl(jwtObj);
        Limits limits = limits(Obj.optional(root, "limits"));
        List<VmConfig> vms = vms(root.get("vms"));
        return new GatewayConfig(host, port, origins, allowMissingOrigin, jwt, limits, vms, sections, adminJwt,
                ticketTtl, trustedProxies);
    }

    /** {@code listen.trustedProxies}: addresses or CIDR blocks of the load balancers in front (X-Forwarded-For). */
    private static TrustedProxies trustedProxies(Obj listen) throws ConfigException {
        JsonNode n = listen.node.get("trustedProxies");
        if (n == null) {
            return TrustedProxies.NONE;
        }
        listen.seen.add("trustedProxies");
        if (!n.isArray()) {
            throw new ConfigException("listen.trustedProxies: expected a list of IP addresses or CIDR blocks");
        }
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String field = "listen.trustedProxies[" + i + "]";
            if (!n.get(i).isTextual()) {
                throw new ConfigException(field + ": expected an IP address or a CIDR block, got " + n.get(i));
            }
            try {
                TrustedProxies.parse(List.of(n.get(i).asText()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(field + ": " + e.getMessage());
            }
            entries.add(n.get(i).asText());
        }
        return TrustedProxies.parse(entries);
    }

    private JwtSettings jwt(Obj o) throws ConfigException {
        String issuer = o.requiredString("issuer");
        String audience = o.requiredString("audience");
        byte[] secret = secret(o, "TMC_JWT_HS256_SECRET");
        URI jwksUrl = jwksUrl(o);
        if (secret == null && jwksUrl == null) {
            throw new ConfigException("jwt: set hs256Secret (or TMC_JWT_HS256_SECRET) or jwksUrl");
        }
        Set<String> algorithms = new HashSet<>(JwtSettings.ASYMMETRIC_ALGORITHMS);
        JsonNode algs = o.node.get("jwksAlgorithms");
        if (algs != null) {
            o.seen.add("jwksAlgorithms");
            if (!algs.isArray() || algs.isEmpty()) {
                throw new ConfigException("jwt.jwksAlgorithms: expected a non-empty list out of "
                        + ALGORITHM_NAMES);
            }
            algorithms.clear();
            for (int i = 0; i < algs.size(); i++) {
                String alg = algs.get(i).asText();
                if (!JwtSettings.ASYMMETRIC_ALGORITHMS.contains(alg)) {
                    throw new ConfigException("jwt.jwksAlgorithms[" + i + "]: '" + alg + "' is not one of "
                            + ALGORITHM_NAMES);
                }
                algorithms.add(alg);
            }
        }
        int skew = o.integer("clockSkewSeconds", 30, 0, (int) JwtSettings.MAX_CLOCK_SKEW.toSeconds());
        int maxTokenBytes = o.integer("maxTokenBytes", 8192, 256, 65536);
        String roleClaim = o.string("roleClaim", "roles");
        String adminRole = o.string("adminRole", "tmc-admin");
        int cacheTtl = o.integer("jwksCacheTtlSeconds", 300, 1, 86400);
        int minRefresh = o.integer("jwksMinRefreshSeconds", 30, 0, 3600);
        int maxAge = o.integer("maxTokenAgeSeconds", 0, 0, 30 * 86400);
        o.seen.add("admin");
        o.seen.add("ticketTtlSeconds");
        o.noOthers();
        return new JwtSettings(issuer, audience, secret, jwksUrl, algorithms, Duration.ofSeconds(skew),
                maxTokenBytes, roleClaim, adminRole, Duration.ofSeconds(cacheTtl), Duration.ofSeconds(minRefresh),
                maxAge == 0 ? null : Duration.ofSeconds(maxAge));
    }

    /**
     * The admin trust domain ({@code jwt.admin}): its own audience (default: the tenants' audience + "-admin"), and
     * optionally its own issuer and keys. Without keys of its own it shares the tenants' secret/JWKS: then the
     * audience keeps a console token from calling the admin API, but whoever mints tenant tokens can mint admin
     * ones too; give admins their own key to separate them fully.
     */
    private JwtSettings adminJwt(Obj jwt, JwtSettings tenant) throws ConfigException {
        Obj o = Obj.optional(jwt.node, "admin");
        String path = "jwt.admin";
        o = new Obj(o.node, path);
        String issuer = o.string("issuer", tenant.issuer());
        String audience = o.string("audience", tenant.audience() + "-admin");
        if (issuer.isBlank() || audience.isBlank()) {
            throw new ConfigException(path + ": issuer and audience must not be empty");
        }
        if (audience.equals(tenant.audience())) {
            throw new ConfigException(path + ".audience: must differ from jwt.audience (admins are a trust domain"
                    + " of their own)");
        }
        byte[] secret = secret(o, "TMC_JWT_ADMIN_HS256_SECRET");
        URI jwksUrl = jwksUrl(o);
        o.noOthers();
        if (secret == null && jwksUrl == null) {
            secret = tenant.hs256Secret();
            jwksUrl = tenant.jwksUrl();
        }
        return tenant.withTrust(issuer, audience, secret, jwksUrl);
    }

    private static Duration ticketTtl(Obj jwt) throws ConfigException {
        return Duration.ofSeconds(jwt.integer("ticketTtlSeconds", 20, 1, 30));
    }

    private byte[] secret(Obj o, String envName) throws ConfigException {
        String secretText = env.getOrDefault(envName, o.string("hs256Secret", null));
        if (secretText == null) {
            return null;
        }
        String field = env.containsKey(envName) ? envName : o.field("hs256Secret");
        byte[] secret;
        if (secretText.startsWith("base64:")) {
            try {
                secret = Base64.getDecoder().decode(secretText.substring(7));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(field + ": not valid base64 after 'base64:'");
            }
        } else {
            secret = secretText.getBytes(StandardCharsets.UTF_8);
        }
        if (secret.length < 32) {
            throw new ConfigException(field + ": an HS256 secret needs at least 32 bytes (256 bits), got "
                    + secret.length);
        }
        return secret;
    }

    /**
     * The JWKS URL: https only, since whoever can change the keys in transit can mint any token; plain http is
     * allowed to a loopback address (tests, a sidecar).
     */
    private static URI jwksUrl(Obj o) throws ConfigException {
        String jwksText = o.string("jwksUrl", null);
        if (jwksText == null) {
            return null;
        }
        URI jwksUrl;
        try {
            jwksUrl = new URI(jwksText);
        } catch (URISyntaxException e) {
            jwksUrl = null;
        }
        if (jwksUrl == null || jwksUrl.getScheme() == null
                || !Set.of("http", "https").contains(jwksUrl.getScheme()) || jwksUrl.getHost() == null) {
            throw new ConfigException(o.field("jwksUrl") + ": expected an https URL, got '" + jwksText + "'");
        }
        if (jwksUrl.getScheme().equals("http") && !isLoopback(jwksUrl.getHost())) {
            throw new ConfigException(o.field("jwksUrl") + ": must be https (plain http is allowed only to a"
                    + " loopback address), got '" + jwksText + "'");
        }
        return jwksUrl;
    }

    private static boolean isLoopback(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    private static Limits limits(Obj o) throws ConfigException {
        Limits d = Limits.DEFAULTS;
        Limits limits = new Limits(
                o.integer("perToken", d.perToken(), 1, 100_000),
                o.integer("perUser", d.perUser(), 1, 100_000),
                o.integer("perVm", d.perVm(), 1, 100_000),
                o.integer("total", d.total(), 1, 1_000_000),
                Duration.ofMillis(o.integer("handshakeTimeoutMs", (int) d.handshakeTimeout().toMillis(), 100,
                        600_000)),
                o.integer("maxCutTextBytes", d.maxCutTextBytes(), 0, 1 << 20),
                o.integer("chunkBytes", d.chunkBytes(), 1024, 1 << 20),
                o.integer("maxInFlightBytes", d.maxInFlightBytes(), 1024, 64 << 20),
                Duration.ofSeconds(o.integer("idleTimeoutSeconds", (int) d.idleTimeout().toSeconds(), 1,
                        7 * 86400)),
                Duration.ofSeconds(o.integer("pingIntervalSeconds", (int) d.pingInterval().toSeconds(), 0, 3600)),
                o.bool("viewOnlyGuestClipboard", d.viewOnlyGuestClipboard()));
        if (limits.maxInFlightBytes() < limits.chunkBytes()) {
            throw new ConfigException("limits.maxInFlightBytes: must be at least limits.chunkBytes ("
                    + limits.chunkBytes() + ")");
        }
        o.noOthers();
        return limits;
    }

    private List<VmConfig> vms(JsonNode node) throws ConfigException {
        if (node == null || !node.isArray()) {
            throw new ConfigException("vms: required, a list of VMs");
        }
        List<VmConfig> vms = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String path = "vms[" + i + "]";
            if (!node.get(i).isObject()) {
                throw new ConfigException(path + ": expected an object");
            }
            Obj o = new Obj(node.get(i), path);
            String id = o.requiredString("id");
            if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new ConfigException(path + ".id: 1-64 characters of A-Z a-z 0-9 . _ -, got '" + id + "'");
            }
            if (!ids.add(id)) {
                throw new ConfigException(path + ".id: duplicate id '" + id + "'");
            }
            String tenant = o.requiredString("tenant");
            String name = o.string("name", id);
            String passwordEnv = "TMC_VNC_PASSWORD_" + id.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
            DbusDisplayConfig dbus = dbusDisplay(o, passwordEnv);
            ServerAddress vnc = o.address("vnc", dbus == null);
            String password = o.string("vncPassword", null);
            if (dbus == null) {
                password = vncPassword(env.getOrDefault(passwordEnv, password),
                        env.containsKey(passwordEnv) ? passwordEnv : path + ".vncPassword");
            }
            ServerAddress qmp = o.address("qmp", false);
            VncTls tls = vncTls(node.get(i).get("vncTls"), path + ".vncTls", vnc);
            o.seen.add("vncTls");
            o.noOthers();
            if (dbus != null && (vnc != null || password != null || qmp != null || tls != null)) {
                throw new ConfigException(path + ".display.dbus: the gateway serves this VM's screen itself; drop "
                        + "vnc, vncPassword, vncTls and qmp");
            }
            vms.add(new VmConfig(id, tenant, name, vnc, password, qmp, tls, dbus));
        }
        return vms;
    }

    /**
     * {@code vms[].vncTls}: VeNCrypt x509 TLS to a VNC server on TCP, {@code {"ca": PEM, "serverName"?,
     * "clientCert"?, "clientKey"?}}. The files are read now, so that a bad one stops the start.
     */
    private static VncTls vncTls(JsonNode node, String path, ServerAddress vnc) throws ConfigException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new ConfigException(path + ": expected an object {ca, serverName, clientCert, clientKey}");
        }
        if (vnc == null) {
            throw new ConfigException(path + ": TLS is for a VNC server; this VM has none (display.dbus)");
        }
        if (vnc.isUnix()) {
            throw new ConfigException(path + ": TLS is for a VNC server on TCP; a unix socket needs none");
        }
        Obj o = new Obj(node, path);
        String ca = o.requiredString("ca");
        String serverName = o.string("serverName", null);
        String cert = o.string("clientCert", null);
        String key = o.string("clientKey", null);
        o.noOthers();
        VncTls tls;
        try {
            tls = new VncTls(Path.of(ca), serverName, cert == null ? null : Path.of(cert),
                    key == null ? null : Path.of(key));
            tls.context();
        } catch (IllegalArgumentException | IOException e) {
            throw new ConfigException(path + ": " + e.getMessage());
        }
        return tls;
    }

    /** A VNC password, or null; the field (or variable) it came from names the mistake. */
    private String vncPassword(String password, String field) throws ConfigException {
        if (password != null && (password.isEmpty() || password.length() > 8)) {
            // VNC Authentication keys DES with the first 8 bytes; QEMU refuses longer passwords.
            throw new ConfigException(field + ": a VNC password has 1-8 characters");
        }
        return password;
    }

    /**
     * {@code "display": {"dbus": {"qmp": "unix:/run/tmc/vm1.qmp", "vncListen"?: "tcp:HOST:PORT", "vncPassword"?}}}:
     * stock QEMU with {@code -display dbus,p2p=yes}, reached through this QMP socket (a unix socket: file
     * descriptors are passed over it), and optionally a plain RFB listener for native viewers behind VNC
     * Authentication (the password may come from {@code passwordEnv} instead). Null when absent.
     */
    private DbusDisplayConfig dbusDisplay(Obj vm, String passwordEnv) throws ConfigException {
        vm.seen.add("display");
        JsonNode display = vm.node.get("display");
        if (display == null || display.isNull()) {
            return null;
        }
        if (!display.isObject()) {
            throw new ConfigException(vm.field("display") + ": expected an object");
        }
        Obj d = new Obj(display, vm.field("display"));
        JsonNode dbusNode = display.get("dbus");
        d.seen.add("dbus");
        d.noOthers();
        if (dbusNode == null || !dbusNode.isObject()) {
            throw new ConfigException(d.field("dbus") + ": required, an object");
        }
        Obj dbus = new Obj(dbusNode, d.field("dbus"));
        ServerAddress qmp = dbus.address("qmp", true);
        String listenText = dbus.string("vncListen", null);
        String password = vncPassword(env.getOrDefault(passwordEnv, dbus.string("vncPassword", null)),
                env.containsKey(passwordEnv) ? passwordEnv : dbus.field("vncPassword"));
        dbus.noOthers();
        if (!qmp.isUnix()) {
            throw new ConfigException(dbus.field("qmp") + ": must be a unix socket (unix:/path): QEMU takes the "
                    + "D-Bus connection as a file descriptor passed over it");
        }
        InetSocketAddress listen = null;
        if (listenText != null) {
            ServerAddress a;
            try {
                a = ServerAddress.parseListen(listenText);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(dbus.field("vncListen") + ": " + e.getMessage());
            }
            if (a.isUnix()) {
                throw new ConfigException(dbus.field("vncListen") + ": native viewers connect over TCP (tcp:HOST:PORT)");
            }
            if (password == null) {
                throw new ConfigException(dbus.field("vncListen") + ": native viewers must authenticate: set "
                        + dbus.field("vncPassword") + " (or " + passwordEnv + ")");
            }
            listen = new InetSocketAddress(a.host(), a.port());
            if (listen.isUnresolved()) {
                throw new ConfigException(dbus.field("vncListen") + ": cannot resolve " + a.host());
            }
        } else if (password != null) {
            throw new ConfigException((env.containsKey(passwordEnv) ? passwordEnv : dbus.field("vncPassword"))
                    + ": a password is for the native viewers' listener; set " + dbus.field("vncListen") + " too");
        }
        return new DbusDisplayConfig(qmp.path(), listen, password);
    }

    /** A JSON object being read: tracks which fields were used so that unknown ones are reported. */
    private static final class Obj {
        final JsonNode node;
        final String path;
        final Set<String> seen = new HashSet<>();

        Obj(JsonNode node, String path) {
            this.node = node;
            this.path = path;
        }

        static Obj required(JsonNode parent, String name) throws ConfigException {
            JsonNode n = parent.get(name);
            if (n == null || !n.isObject()) {
                throw new ConfigException(name + ": required, an object");
            }
            return new Obj(n, name);
        }

        static Obj optional(JsonNode parent, String name) throws ConfigException {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) {
                return new Obj(new ObjectNode(JSON.getNodeFactory()), name);
            }
            if (!n.isObject()) {
                throw new ConfigException(name + ": expected an object");
            }
            return new Obj(n, name);
        }

        String field(String name) {
            return path + "." + name;
        }

        String requiredString(String name) throws ConfigException {
            String s = string(name, null);
            if (s == null || s.isBlank()) {
                throw new ConfigException(field(name) + ": required, a non-empty string");
            }
            return s;
        }

        String string(String name, String fallback) throws ConfigException {
            seen.add(name);
            JsonNode n = node.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isTextual()) {
                throw new ConfigException(field(name) + ": expected a string, got " + n.getNodeType());
            }
            return n.asText();
        }

        int integer(String name, int fallback, int min, int max) throws ConfigException {
            seen.add(name);
            JsonNode n = node.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
                throw new ConfigException(field(name) + ": expected an integer " + min + "-" + max + ", got " + n);
            }
            return n.asInt();
        }

        boolean bool(String name, boolean fallback) throws ConfigException {
            seen.add(name);
            JsonNode n = node.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isBoolean()) {
                throw new ConfigException(field(name) + ": expected true or false, got " + n);
            }
            return n.asBoolean();
        }

        ServerAddress address(String name, boolean required) throws ConfigException {
            String text = required ? requiredString(name) : string(name, null);
            if (text == null) {
                return null;
            }
            try {
                return ServerAddress.parse(text);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(field(name) + ": " + e.getMessage());
            }
        }

        void noOthers() throws ConfigException {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!seen.contains(name)) {
                    throw new ConfigException(field(name) + ": unknown field");
                }
            }
        }
    }
}
