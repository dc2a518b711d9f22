package tmc.gateway;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@code GET /vnc/{vmId}}: takes the admission decision from the HTTP request, then upgrades to a WebSocket whose
 * endpoint already carries it. Refusals travel as WebSocket close codes (4401/4403/4404/4429) rather than HTTP
 * statuses, because a browser script can read a close code and reason but never an upgrade's HTTP status.
 */
final class VncUpgradeServlet extends HttpServlet {
    static final String SUBPROTOCOL = "binary";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final transient GatewayConfig config;
    private final transient Admission admission;
    private final transient SessionRegistry registry;
    private final transient ScheduledExecutorService timer;

    VncUpgradeServlet(GatewayConfig config, Admission admission, SessionRegistry registry,
            ScheduledExecutorService timer) {
        this.config = config;
        this.admission = admission;
        this.registry = registry;
        this.timer = timer;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo();
        String vmId = path == null || path.length() < 2 ? "" : path.substring(1);
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            response.setStatus(HttpServletResponse.SC_UPGRADE_REQUIRED);
            response.setHeader("Upgrade", "websocket");
            response.setContentType("text/plain;charset=utf-8");
            response.getWriter().println("/vnc/{vmId} is a WebSocket endpoint (RFB 3.8)");
            return;
        }
        String id = sessionId();
        Admission.Decision decision = admission.decide(request, vmId);
        String remote = ForwardedFor.describe(request);
        VncEndpoint endpoint = new VncEndpoint(id, vmId, decision, remote, config, registry, timer);
        VncEndpoint.upgrade(request, response, endpoint);
    }

    private static String sessionId() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
