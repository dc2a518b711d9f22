package tmc.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** {@code GET /healthz}: 200 while the gateway serves; the counts are for humans, not secrets. */
final class HealthServlet extends HttpServlet {
    private final transient SessionRegistry registry;
    private final transient GatewayConfig config;

    HealthServlet(SessionRegistry registry, GatewayConfig config) {
        this.registry = registry;
        this.config = config;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("status", "ok");
        body.put("sessions", registry.size());
        body.put("vms", config.vms().size());
        Json.write(response, 200, body);
    }
}
