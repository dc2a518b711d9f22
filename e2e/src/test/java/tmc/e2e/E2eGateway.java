package tmc.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import tmc.api.MessagesExtension;
import tmc.gateway.ConfigLoader;
import tmc.gateway.GatewayConfig;
import tmc.gateway.GatewayServer;
import tmc.testkit.TestEnv;
import tmc.web.WebPages;
import tmc.web.WebSettings;

/**
 * The real gateway, in this JVM, wired like tmc.gateway.Main (message channel + web pages), on a port chosen
 * beforehand so that its own origin can be on the WebSocket allow-list (the pages are served by the gateway).
 */
final class E2eGateway implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "tmc-e2e-secret-0123456789abcdef0123456789abcdef";
    static final String ISSUER = "https://issuer.tmc.e2e";
    static final String AUDIENCE = "tmc-gateway";

    final GatewayServer server;
    final URI uri;
    /** The message channel, for tests that lay a message out the way the gateway did. */
    final MessagesExtension messages;

    private E2eGateway(GatewayServer server, URI uri, MessagesExtension messages) {
        this.server = server;
        this.messages = messages;
        this.uri = uri;
    }

    /** {@code vms} adds entries to the config's "vms" list: id, tenant, vnc, qmp. */
    static E2eGateway start(String name, Consumer<ArrayNode> vms) throws Exception {
        return start(name, List.of(), vms);
    }

    /** As {@link #start(String, Consumer)}, letting {@code frameAncestors} (portal origins) embed the console. */
    static E2eGateway start(String name, List<String> frameAncestors, Consumer<ArrayNode> vms) throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        String origin = "http://127.0.0.1:" + port;
        Path store = TestEnv.buildDir().resolve("e2e-store").resolve(name + "-" + System.nanoTime());
        Files.createDirectories(store);
        ObjectNode config = JSON.createObjectNode();
        config.putObject("listen").put("host", "127.0.0.1").put("port", port);
        config.putArray("allowedOrigins").add(origin);
        config.putObject("jwt").put("issuer", ISSUER).put("audience", AUDIENCE).put("hs256Secret", SECRET);
        config.putObject("store").put("path", store.resolve("tmc").toString());
        ArrayNode ancestors = config.putObject("web").putArray("frameAncestors");
        frameAncestors.forEach(ancestors::add);
        vms.accept(config.putArray("vms"));
        GatewayConfig parsed = new ConfigLoader(Map.of()).parse(config.toString());
        MessagesExtension messages = new MessagesExtension(Map.of());
        GatewayServer server = GatewayServer.builder(parsed)
                .extension(messages)
                .extension((gateway, context) -> {
                    WebPages.register(context, WebSettings.fromJson(parsed.section("web").orElse(null)));
                    return null;
                })
                .build()
                .start();
        return new E2eGateway(server, URI.create(origin), messages);
    }

    static ObjectNode vm(ArrayNode vms, String id, String tenant, int vncPort, Path qmp) {
        ObjectNode vm = vms.addObject().put("id", id).put("tenant", tenant).put("vnc", "tcp:127.0.0.1:" + vncPort);
        if (qmp != null) {
            vm.put("qmp", "unix:" + qmp);
        }
        return vm;
    }

    /** A port nothing listens on: what the gateway sees of a VM whose QEMU is not running. */
    static int closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    String url(String path) {
        return uri + path;
    }

    /** The console page of {@code vm} with {@code token} in its fragment, as a portal links to it. */
    String console(String vm, String token) {
        return url("/console/" + vm + "#token=" + token);
    }

    /**
     * Closes what a test class started, in the order given (the gateway before the VMs it serves), skipping what
     * never started; the first failure is thrown after all were closed.
     */
    static void closeAll(AutoCloseable... inOrder) throws Exception {
        Exception first = null;
        for (AutoCloseable c : inOrder) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Waits until the message's (first) delivery is in {@code state} (its wire name), checked now and after every
     * change the gateway publishes on its event bus.
     */
    void awaitDelivery(String messageId, String state, Duration timeout) throws Exception {
        if (untilPublished(() -> messages.service().deliveries(messageId).get(0).state().wire().equals(state)
                ? state : null, timeout) == null) {
            throw new AssertionError("message " + messageId + " never became " + state + " within "
                    + timeout.toSeconds() + " s");
        }
    }

    /**
     * The first non-null answer of {@code probe}, asked now and again after every change the gateway publishes on
     * its event bus (a delivery shown, answered, retracted: QEMU lists an overlay before its delivery is shown);
     * null when {@code timeout} runs out first.
     */
    <T> T untilPublished(Supplier<T> probe, Duration timeout) throws Exception {
        Semaphore changed = new Semaphore(0);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (AutoCloseable subscription = messages.service().bus().subscribe(e -> changed.release())) {
            while (true) {
                T answer = probe.get();
                long left = deadline - System.nanoTime();
                if (answer != null || left <= 0 || !changed.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    return answer;
                }
            }
        }
    }

    // ===== tokens =====

    static JWTClaimsSet.Builder claims(String subject, Instant expires) {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(List.of(AUDIENCE))
                .subject(subject)
                .issueTime(Date.from(Instant.now().minusSeconds(5)))
                .expirationTime(Date.from(expires));
    }

    static String tenantToken(String subject, String tenant) {
        return sign(claims(subject, Instant.now().plusSeconds(600)).claim("tenant", tenant));
    }

    static String adminToken() {
        // The admins' own audience (the gateway's default: the tenants' + "-admin").
        return sign(claims("admin@tmc", Instant.now().plusSeconds(3600)).audience(List.of(AUDIENCE + "-admin"))
                .claim("roles", List.of("tmc-admin")));
    }

    static String sign(JWTClaimsSet.Builder claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
            jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
