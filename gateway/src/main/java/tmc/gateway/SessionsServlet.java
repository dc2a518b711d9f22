package tmc.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.auth.Authenticator;
import tmc.auth.Principal;
import tmc.auth.Revocations;
import tmc.auth.TokenClaims;
import tmc.rfb.CloseStatus;

/**
 * The admin's view of live sessions, and revocation that sticks.
 * <ul>
 *   <li>{@code GET /api/v1/sessions} lists them.
 *   <li>{@code DELETE /api/v1/sessions} with exactly one of
 *       {@code ?user=SUB&tenant=T} (optionally {@code &issuer=}), {@code ?session=ID}, {@code ?jti=J} (optionally
 *       {@code &issuer=}) or {@code ?vm=ID}: closes the matching live sessions at once (4403) and puts their tokens
 *       on the deny-list, so that the same token cannot reconnect. A user's revocation denies every token of that
 *       (issuer, tenant, subject) issued until now; the others deny the one token each session held. Entries are
 *       kept until the tokens expire (a user's: as long as a token may live, {@code jwt.maxTokenAgeSeconds}, 24 h
 *       without it). Answers {@code {"closed": n}}.
 * </ul>
 */
final class SessionsServlet extends HttpServlet {
    private static final Logger LOG = LoggerFactory.getLogger("tmc.gateway.admin");
    /** How long a user's revocation holds when tokens have no maximum age. */
    static final Duration DEFAULT_HOLD = Duration.ofHours(24);
    private static final Set<String> SELECTORS = Set.of("user", "session", "jti", "vm");
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "user", Set.of("user", "tenant", "issuer"),
            "session", Set.of("session"),
            "jti", Set.of("jti", "issuer"),
            "vm", Set.of("vm"));

    private final transient SessionRegistry registry;
    private final transient AdminAuth auth;
    private final transient Authenticator tenants;
    private final transient Clock clock;

    SessionsServlet(SessionRegistry registry, AdminAuth auth, Authenticator tenants, Clock clock) {
        this.registry = registry;
        this.auth = auth;
        this.tenants = tenants;
        this.clock = clock;
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
            o.put("expires", s.claims().expiresAt().toString());
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
        Set<String> given = request.getParameterMap().keySet();
        List<String> selectors = given.stream().filter(SELECTORS::contains).toList();
        if (selectors.size() != 1) {
            Json.error(response, 400, "bad_request", "give exactly one of the query parameters user (with tenant),"
                    + " session, jti and vm");
            return;
        }
        String selector = selectors.get(0);
        for (String p : given) {
            String value = request.getParameter(p);
            if (!ALLOWED.get(selector).contains(p) || value == null || value.isEmpty()) {
                Json.error(response, 400, "bad_request", "with " + selector + ", the query parameters are "
                        + ALLOWED.get(selector) + ", none empty; got " + VncEndpoint.safe(p));
                return;
            }
        }
        String value = request.getParameter(selector);
        String issuer = request.getParameter("issuer") != null ? request.getParameter("issuer")
                : tenants.settings().issuer();
        Revocations deny = tenants.revocations();
        Instant now = clock.instant();
        Duration skew = tenants.settings().clockSkew();
        CloseStatus status = new CloseStatus(CloseStatus.FORBIDDEN, SessionRegistry.REVOKED_REASON);
        String detail = "revoked by " + VncEndpoint.safe(admin.user());
        List<SessionRegistry.SessionInfo> closed;
        try {
            switch (selector) {
                case "user" -> {
                    String tenant = request.getParameter("tenant");
                    if (tenant == null) {
                        Json.error(response, 400, "bad_request", "give tenant with user: a user name is unique only"
                                + " within its tenant");
                        return;
                    }
                    Principal principal = new Principal(issuer, tenant, value);
                    Predicate<SessionRegistry.SessionInfo> match = s -> s.principal().equals(principal);
                    Instant until = now.plus(hold()).plus(skew);
                    for (SessionRegistry.Live live : registry.list()) {
                        if (match.test(live.info()) && live.info().claims().expiresAt().plus(skew).isAfter(until)) {
                            until = live.info().claims().expiresAt().plus(skew);
                        }
                    }
                    deny.revokePrincipal(principal, now, until);
                    closed = registry.close(match, status, detail);
                }
                case "jti" -> {
                    deny.revokeJti(issuer, value, now.plus(hold()).plus(skew));
                    closed = registry.close(s -> value.equals(s.claims().jti()) && issuer.equals(s.claims().issuer()),
                            status, detail);
                }
                case "session" -> {
                    SessionRegistry.SessionInfo info = registry.list().stream().map(SessionRegistry.Live::info)
                            .filter(s -> s.id().equals(value)).findFirst().orElse(null);
                    if (info == null) {
                        Json.error(response, 404, "not_found", "no live session " + VncEndpoint.safe(value));
                        return;
                    }
                    denyTokens(List.of(info), deny, skew);
                    closed = registry.close(s -> s.id().equals(value), status, detail);
                }
                default -> {
                    denyTokens(registry.list().stream().map(SessionRegistry.Live::info)
                            .filter(s -> s.vmId().equals(value)).toList(), deny, skew);
                    closed = registry.close(s -> s.vmId().equals(value), status, detail);
                }
            }
        } catch (IllegalStateException e) {
            Json.error(response, 503, "deny_list_full", e.getMessage());
            return;
        }
        LOG.info("event=revoke admin={} {}={} closed={}", VncEndpoint.safe(admin.user()), selector,
                VncEndpoint.safe(value), closed.size());
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("closed", closed.size());
        Json.write(response, 200, body);
    }

    private Duration hold() {
        Duration maxAge = tenants.settings().maxTokenAge();
        return maxAge != null ? maxAge : DEFAULT_HOLD;
    }

    private static void denyTokens(List<SessionRegistry.SessionInfo> sessions, Revocations deny, Duration skew) {
        for (SessionRegistry.SessionInfo s : sessions) {
            deny.revokeToken(s.tokenId(), s.claims().expiresAt().plus(skew));
        }
    }
}
