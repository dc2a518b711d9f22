package tmc.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.auth.TokenClaims;
import tmc.rfb.CloseStatus;

/**
 * The admin's view of live sessions, and revocation.
 * <ul>
 *   <li>{@code GET /api/v1/sessions} lists them.
 *   <li>{@code DELETE /api/v1/sessions?vm=ID} or {@code ?user=SUB} closes every live session of that VM or user at
 *       once (close code 4403), whatever their tokens' expiry; answers {@code {"closed": n}}.
 * </ul>
 */
final class SessionsServlet extends HttpServlet {
    private static final Logger LOG = LoggerFactory.getLogger("tmc.gateway.admin");
    static final String REVOKED_REASON = "session revoked by an administrator";

    private final transient SessionRegistry registry;
    private final transient AdminAuth auth;

    SessionsServlet(SessionRegistry registry, AdminAuth auth) {
        this.registry = registry;
        this.auth = auth;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (auth.require(request, response) == null) {
            return;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode list = body.putArray("sessions");
        for (SessionRegistry.Live live : registry.list()) {
            SessionRegistry.SessionInfo s = live.info();
            ObjectNode o = list.addObject();
            o.put("id", s.id());
            o.put("vm", s.vmId());
            o.put("tenant", s.tenant());
            o.put("user", s.user());
            o.put("viewOnly", s.viewOnly());
            o.put("remote", s.remote());
            o.put("started", s.started().toString());
            o.put("bytesFromBrowser", live.bytesFromBrowser());
            o.put("bytesToBrowser", live.bytesToBrowser());
        }
        Json.write(response, 200, body);
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        TokenClaims admin = auth.require(request, response);
        if (admin == null) {
            return;
        }
        String vm = request.getParameter("vm");
        String user = request.getParameter("user");
        if ((vm == null) == (user == null) || (vm != null && vm.isEmpty()) || (user != null && user.isEmpty())) {
            Json.error(response, 400, "bad_request", "give exactly one of the query parameters vm and user");
            return;
        }
        CloseStatus status = new CloseStatus(CloseStatus.FORBIDDEN, REVOKED_REASON);
        String detail = "revoked by " + VncEndpoint.safe(admin.user());
        int closed = vm != null ? registry.closeVm(vm, status, detail) : registry.closeUser(user, status, detail);
        LOG.info("event=revoke admin={} vm={} user={} closed={}", VncEndpoint.safe(admin.user()),
                VncEndpoint.safe(vm), VncEndpoint.safe(user), closed);
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("closed", closed);
        Json.write(response, 200, body);
    }
}
