package tmc.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import tmc.gateway.ConfigLoader;
import tmc.gateway.GatewayConfig;
import tmc.gateway.GatewayServer;
import tmc.messages.WebhookDispatcher;

/**
 * A real gateway (Jetty on a free port, the message extension, an H2 file store) for API tests, with admin and
 * tenant tokens, a local webhook receiver that checks signatures, and an SSE reader.
 */
final class ApiFixture implements AutoCloseable {
    static final String SECRET = "tmc-api-test-secret-0123456789abcdef0123";
    /** Standard Webhooks form: whsec_ and the base64 of the key (32 bytes here). */
    static final String WEBHOOK_SECRET = "whsec_" + java.util.Base64.getEncoder().encodeToString(
            "webhook-secret-0123456789abcdef".getBytes(StandardCharsets.UTF_8));
    static final String ISSUER = "https://issuer.tmc.test";
    static final String AUDIENCE = "tmc-gateway";
    static final String ADMIN_AUDIENCE = AUDIENCE + "-admin";
    static final ObjectMapper JSON = new ObjectMapper();
    /** Every (method, route template, status) any API test saw: OpenApiTest checks each is documented. */
    static final Set<String> OBSERVED = ConcurrentHashMap.newKeySet();

    final GatewayServer gateway;
    final MessagesExtension messages;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final WebhookReceiver webhook;

    /** One VM in the gateway's config: id, tenant, QMP address text (unix:/... or tcp:...). */
    record Vm(String id, String tenant, String qmp, String vnc) {
        Vm(String id, String tenant, String qmp) {
            this(id, tenant, qmp, "tcp:127.0.0.1:1");
        }
    }

    ApiFixture(List<Vm> vms, Path storeDir) throws Exception {
        this(vms, storeDir, null, null, java.time.Clock.systemUTC());
    }

    ApiFixture(List<Vm> vms, Path storeDir, java.time.Clock clock) throws Exception {
        this(vms, storeDir, null, null, clock);
    }

    ApiFixture(List<Vm> vms, Path storeDir, String extraSection,
               java.util.function.Function<MessagesExtension, GatewayServer.Extension> extra) throws Exception {
        this(vms, storeDir, extraSection, extra, java.time.Clock.systemUTC());
    }

    /**
     * With one more top-level configuration section ({@code "libvirt": {...}}, JSON without braces around it) and
     * an extension installed after the message extension, made from it.
     */
    ApiFixture(List<Vm> vms, Path storeDir, String extraSection,
               java.util.function.Function<MessagesExtension, GatewayServer.Extension> extra, java.time.Clock clock)
            throws Exception {
        webhook = new WebhookReceiver();
        String config = configJson(vms, storeDir, webhook.url());
        if (extraSection != null) {
            config = config.substring(0, config.length() - 1) + "," + extraSection + "}";
        }
        GatewayConfig cfg = new ConfigLoader(Map.of()).parse(config);
        messages = new MessagesExtension(Map.of());
        GatewayServer.Builder b = GatewayServer.builder(cfg).clock(clock).extension(messages);
        if (extra != null) {
            b.extension(extra.apply(messages));
        }
        gateway = b.build().start();
    }

    /** The gateway configuration (JSON) for these VMs, store directory and webhook. */
    static String configJson(List<Vm> vms, Path storeDir, String webhookUrl) {
        StringBuilder vmJson = new StringBuilder();
        for (Vm vm : vms) {
            vmJson.append(vmJson.isEmpty() ? "" : ",").append("{\"id\":\"").append(vm.id()).append("\",\"tenant\":\"")
                    .append(vm.tenant()).append("\"");
            if (vm.vnc() == null) {
                // A D-Bus display VM (stock QEMU): its QMP socket is the display's way in.
                vmJson.append(",\"display\":{\"dbus\":{\"qmp\":\"").append(vm.qmp()).append("\"}}}");
                continue;
            }
            vmJson.append(",\"vnc\":\"").append(vm.vnc()).append("\"")
                    .append(vm.qmp() != null ? ",\"qmp\":\"" + vm.qmp() + "\"" : "").append("}");
        }
        return "{\"listen\":{\"host\":\"127.0.0.1\",\"port\":0},\"allowedOrigins\":[\"http://localhost\"],"
                + "\"jwt\":{\"issuer\":\"" + ISSUER + "\",\"audience\":\"" + AUDIENCE + "\",\"hs256Secret\":\""
                + SECRET + "\"},\"vms\":[" + vmJson + "],"
                + "\"store\":{\"path\":\"" + storeDir.resolve("tmc") + "\"},"
                + "\"webhooks\":[{\"url\":\"" + webhookUrl + "\",\"secret\":\"" + WEBHOOK_SECRET
                + "\",\"allowHttp\":true}]}";
    }

    static Path tempStore() throws IOException {
        Path dir = Path.of(System.getProperty("tmc.build.dir", "target"), "api-test", UUID.randomUUID().toString());
        Files.createDirectories(dir);
        return dir;
    }

    URI uri(String path) {
        return gateway.uri().resolve("/api/v1" + path);
    }

    /** A tenant token ({@code roles} null), or an admin one (the admins' audience). */
    static String token(String subject, String tenant, List<String> roles) {
        try {
            JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(ISSUER)
                    .audience(roles == null || roles.isEmpty() ? AUDIENCE : ADMIN_AUDIENCE).subject(subject)
                    .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(600)));
            if (tenant != null) {
                b.claim("tenant", tenant);
            }
            if (roles != null) {
                b.claim("roles", roles);
            }
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), b.build());
            jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A browser session to {@code vm} through the gateway, as noVNC opens it. */
    tmc.testkit.WebSocketTransport openVnc(String vm, String token) throws IOException {
        URI ws = URI.create("ws://127.0.0.1:" + gateway.port() + "/vnc/" + vm);
        return tmc.testkit.WebSocketTransport.connect(ws, Map.of("Origin", "http://localhost",
                "Authorization", "Bearer " + token), List.of("binary"));
    }

    static String admin() {
        return token("alice", null, List.of("tmc-admin"));
    }

    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + new String(body, StandardCharsets.UTF_8));
            }
        }

        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return status + " " + new String(body, StandardCharsets.UTF_8);
        }
    }

    Response call(String method, String path, String token, String contentType, byte[] body,
                  Map<String, String> headers) throws Exception {
        return call(http, method, path, token, contentType, body, headers);
    }

    /**
     * The same on a connection of its own: after refusing a request early (e.g. a body over the limit) the server
     * closes that connection, and a pooled client that reused it would fail the next request with no response.
     */
    Response callOnNewConnection(String method, String path, String token, String contentType, byte[] body,
                                 Map<String, String> headers) throws Exception {
        try (HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
            return call(fresh, method, path, token, contentType, body, headers);
        }
    }

    private Response call(HttpClient client, String method, String path, String token, String contentType,
                          byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        headers.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        OBSERVED.add(method + " " + template(path) + " " + r.statusCode());
        return new Response(r.statusCode(), r.headers().map(), r.body());
    }

    Response post(String path, String json) throws Exception {
        return call("POST", path, admin(), "application/json", json.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    Response get(String path) throws Exception {
        return call("GET", path, admin(), null, null, Map.of());
    }

    static String template(String path) {
        String p = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        return p.matches("/messages/[^/]+") ? "/messages/{id}" : p;
    }

    /** Reads an SSE stream on its own thread; events land in {@link #events} as parsed JSON. */
    final class SseReader implements AutoCloseable {
        final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        final List<String> ids = new CopyOnWriteArrayList<>();
        final InputStream in;
        final int status;

        SseReader(String lastEventId) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri("/events")).header("Authorization", "Bearer " + admin());
            if (lastEventId != null) {
                b.header("Last-Event-ID", lastEventId);
            }
            HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            status = r.statusCode();
            OBSERVED.add("GET /events " + status);
            in = r.body();
            Thread.ofVirtual().start(this::read);
        }

        private void read() {
            try (BufferedReader br = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = br.readLine()) != null) {
                    if (line.startsWith("id: ")) {
                        ids.add(line.substring(4));
                    } else if (line.startsWith("data: ")) {
                        events.add(JSON.readTree(line.substring(6)));
                    }
                }
            } catch (IOException e) {
                // closed
            }
        }

        JsonNode next() throws InterruptedException {
            JsonNode n = events.poll(20, TimeUnit.SECONDS);
            if (n == null) {
                throw new AssertionError("no SSE event within 20 s");
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** A local webhook endpoint: checks each signature, can fail the first N deliveries. */
    static final class WebhookReceiver implements AutoCloseable {
        final HttpServer server;
        final List<JsonNode> received = new CopyOnWriteArrayList<>();
        final List<String> badSignatures = new CopyOnWriteArrayList<>();
        final AtomicInteger failNext = new AtomicInteger();
        final AtomicInteger attempts = new AtomicInteger();

        WebhookReceiver() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/hook", ex -> {
                byte[] body = ex.getRequestBody().readAllBytes();
                attempts.incrementAndGet();
                String sig = ex.getRequestHeaders().getFirst(WebhookDispatcher.SIGNATURE_HEADER);
                String expected = standardWebhookSignature(ex.getRequestHeaders().getFirst("webhook-id"),
                        ex.getRequestHeaders().getFirst("webhook-timestamp"), body);
                int status;
                if (!expected.equals(sig)) {
                    badSignatures.add(sig);
                    status = 401;
                } else if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    status = 503;
                } else {
                    received.add(JSON.readTree(body));
                    status = 204;
                }
                ex.sendResponseHeaders(status, -1);
                ex.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        /**
         * What a Standard Webhooks receiver computes, written from the specification rather than with the
         * gateway's code: v1, then base64(HMAC-SHA256(base64-decoded secret, id.timestamp.body)); a timestamp more
         * than five minutes off is refused (replays).
         */
        static String standardWebhookSignature(String id, String timestamp, byte[] body) {
            try {
                if (id == null || timestamp == null
                        || Math.abs(Long.parseLong(timestamp) - Instant.now().getEpochSecond()) > 300) {
                    return "refused";
                }
                javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
                mac.init(new javax.crypto.spec.SecretKeySpec(java.util.Base64.getDecoder().decode(
                        WEBHOOK_SECRET.substring("whsec_".length())), "HmacSHA256"));
                mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
                return "v1," + java.util.Base64.getEncoder().encodeToString(mac.doFinal(body));
            } catch (java.security.GeneralSecurityException | NumberFormatException e) {
                return "refused";
            }
        }

        List<String> states(String messageId, String vm) {
            List<String> out = new ArrayList<>();
            for (JsonNode n : received) {
                if (n.path("message").asText().equals(messageId) && n.path("vm").asText().equals(vm)) {
                    out.add(n.path("state").asText());
                }
            }
            return out;
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            gateway.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            webhook.close();
        }
    }
}
