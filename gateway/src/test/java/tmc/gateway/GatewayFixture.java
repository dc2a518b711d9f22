package tmc.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import tmc.testkit.WebSocketTransport;

/** A real gateway on a free port, configured from JSON as in production, for tests. */
final class GatewayFixture implements AutoCloseable {
    static final String ORIGIN = "http://desk.tmc.test";

    final GatewayServer server;

    private GatewayFixture(GatewayServer server) {
        this.server = server;
    }

    /** A config with the test issuer, audience and secret; {@code customize} adds VMs, limits, jwksUrl... */
    static ObjectNode config() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("listen").put("host", "127.0.0.1").put("port", 0);
        root.putArray("allowedOrigins").add(ORIGIN);
        root.putObject("jwt").put("issuer", Tokens.ISSUER).put("audience", Tokens.AUDIENCE)
                .put("hs256Secret", Tokens.SECRET);
        root.putArray("vms");
        return root;
    }

    static void addVm(ObjectNode config, String id, String tenant, String vnc, String password) {
        ObjectNode vm = ((ArrayNode) config.get("vms")).addObject().put("id", id).put("tenant", tenant)
                .put("vnc", vnc);
        if (password != null) {
            vm.put("vncPassword", password);
        }
    }

    static GatewayFixture start(ObjectNode config) throws Exception {
        return start(config, b -> {});
    }

    static GatewayFixture start(ObjectNode config, Consumer<GatewayServer.Builder> customize) throws Exception {
        GatewayConfig parsed = new ConfigLoader(Map.of()).parse(config.toString());
        GatewayServer.Builder builder = GatewayServer.builder(parsed);
        customize.accept(builder);
        return new GatewayFixture(builder.build().start());
    }

    URI vncUri(String vmId) {
        return URI.create("ws://127.0.0.1:" + server.port() + "/vnc/" + vmId);
    }

    /**
     * The URL a browser opens for {@code vmId}: {@code ?ticket=}, bought with {@code token} from this fixture's
     * Origin (the gateway refuses tokens in URLs).
     */
    URI vncUri(String vmId, String token) throws IOException, InterruptedException {
        return URI.create(vncUri(vmId) + "?ticket=" + URLEncoder.encode(ticket(vmId, token), StandardCharsets.UTF_8));
    }

    /** Opens a WebSocket as a tool does: the token in Authorization: Bearer, the allowed Origin, no subprotocol. */
    WebSocketTransport open(String vmId, String token) throws IOException {
        return open(vmId, token, Map.of("Origin", ORIGIN), List.of());
    }

    WebSocketTransport open(String vmId, String token, Map<String, String> headers, List<String> subprotocols)
            throws IOException {
        Map<String, String> all = new LinkedHashMap<>(headers);
        if (token != null) {
            all.put("Authorization", "Bearer " + token);
        }
        return WebSocketTransport.connect(vncUri(vmId), all, new ArrayList<>(subprotocols));
    }

    /** Buys a console ticket as the console page does ({@code POST /api/v1/tickets}, allowed Origin). */
    String ticket(String vmId, String token) throws IOException, InterruptedException {
        HttpResponse<String> r = postTicket("{\"purpose\":\"console\",\"vm\":\"" + vmId + "\"}", token, ORIGIN);
        if (r.statusCode() != 200) {
            throw new IOException("ticket refused: " + r.statusCode() + " " + r.body());
        }
        return Json.MAPPER.readTree(r.body()).get("ticket").asText();
    }

    HttpResponse<String> postTicket(String json, String token, String origin) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve("/api/v1/tickets"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Opens a WebSocket as the console page does: {@code ?ticket=}, with {@code headers} (Origin). */
    WebSocketTransport openWithTicket(String vmId, String ticket, Map<String, String> headers) throws IOException {
        URI uri = URI.create(vncUri(vmId) + "?ticket=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8));
        return WebSocketTransport.connect(uri, headers, new ArrayList<>());
    }

    @Override
    public void close() {
        server.close();
    }
}
