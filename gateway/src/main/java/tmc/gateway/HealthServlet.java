package tmc.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * {@code GET /healthz}: 200 "ok" while the gateway serves. The counts of sessions and VMs go only to an admin token
 * (they tell an outsider how busy the gateway is and how many VMs it fronts).
 */
final class HealthServlet extends HttpServlet {
    private final transient SessionRegistry registry;
    private final transient GatewayConfig config;
    private final transient AdminAuth admins;

    HealthServlet(SessionRegistry registry, GatewayConfig config, AdminAuth admins) {
        this.registry = registry;
        this.config = config;
        this.admins = admins;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!admins.present(request)) {
            response.setStatus(200);
            response.setContentType("text/plain;charset=utf-8");
            response.setHeader("Cache-Control", "no-store");
            response.getWriter().print("ok\n");
            return;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("status", "ok");
        body.put("sessions", registry.size());
        body.put("vms", config.vms().size());
        Json.write(response, 200, body);
    }
}
