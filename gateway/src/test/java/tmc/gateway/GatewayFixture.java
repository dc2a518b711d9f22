package tmc.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

    URI vncUri(String vmId, String token) {
        String query = token == null ? "" : "?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
        return URI.create("ws://127.0.0.1:" + server.port() + "/vnc/" + vmId + query);
    }

    /** Opens a WebSocket like noVNC does (allowed Origin, no subprotocol). */
    WebSocketTransport open(String vmId, String token) throws IOException {
        return WebSocketTransport.connect(vncUri(vmId, token), Map.of("Origin", ORIGIN), List.of());
    }

    WebSocketTransport open(String vmId, String token, Map<String, String> headers, List<String> subprotocols)
            throws IOException {
        return WebSocketTransport.connect(vncUri(vmId, token), headers, new ArrayList<>(subprotocols));
    }

    @Override
    public void close() {
        server.close();
    }
}
