package tmc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import tmc.auth.AuthException;
import tmc.auth.Authenticator;
import tmc.auth.Tickets;
import tmc.auth.TokenClaims;

/**
 * {@code POST /api/v1/tickets}: exchanges a token sent as {@code Authorization: Bearer} for a ticket, so that no
 * token ever travels in a URL.
 * <ul>
 *   <li>{@code {"purpose": "console", "vm": ID}} with a tenant token: a ticket for {@code /vnc/ID?ticket=...}. Every
 *       check of a console connection runs here first (origin, token, revocation, the VM, a single-use jti), so the
 *       page learns a refusal as an HTTP status with words rather than a closed socket.
 *   <li>{@code {"purpose": "events"}} with an admin token: a ticket for {@code /api/v1/events?ticket=...}.
 * </ul>
 * Answers {@code 200 {"ticket", "expiresIn"}}; the ticket is bound to the request's Origin and spent by its first use.
 *
 * <p>Tickets rather than a cookie: the console lives in portals' iframes, where a cookie is a third-party one that
 * browsers drop (and a SameSite=Strict one is never sent), and a plain-http demo cannot set a Secure cookie.
 */
final class TicketServlet extends HttpServlet {
    static final int MAX_BODY = 4096;

    private final transient Admission admission;
    private final transient Authenticator tenants;
    private final transient Authenticator admins;
    private final transient Tickets tickets;
    private final transient Clock clock;

    TicketServlet(Admission admission, Authenticator tenants, Authenticator admins, Tickets tickets, Clock clock) {
        this.admission = admission;
        this.tenants = tenants;
        this.admins = admins;
        this.tickets = tickets;
        this.clock = clock;
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String bearer = Admission.bearer(request);
        if (bearer == null) {
            response.setHeader("WWW-Authenticate", "Bearer");
            Json.error(response, 401, "unauthorized", "an Authorization: Bearer token is required");
            return;
        }
        JsonNode body = body(request, response);
        if (body == null) {
            return;
        }
        String purpose = body.path("purpose").asText("");
        String origin = request.getHeader("Origin");
        origin = origin == null ? null : origin.toLowerCase(Locale.ROOT);
        TokenClaims claims;
        Tickets.Purpose bound;
        try {
            switch (purpose) {
                case "console" -> {
                    if (!known(body, Set.of("purpose", "vm")) || !body.path("vm").isTextual()) {
                        Json.error(response, 400, "bad_request", "a console ticket needs {\"purpose\": \"console\","
                                + " \"vm\": ID} and nothing else");
                        return;
                    }
                    String vm = body.get("vm").asText();
                    String originRefusal = admission.checkOrigin(origin);
                    if (originRefusal != null) {
                        Json.error(response, 403, "forbidden", originRefusal);
                        return;
                    }
                    claims = tenants.authenticate(bearer);
                    String refusal = admission.authorize(claims, vm);
                    if (refusal != null) {
                        Json.error(response, 403, "forbidden", refusal);
                        return;
                    }
                    admission.useJti(claims);
                    bound = Tickets.Purpose.console(vm);
                }
                case "events" -> {
                    if (!known(body, Set.of("purpose"))) {
                        Json.error(response, 400, "bad_request", "an events ticket needs {\"purpose\": \"events\"}"
                                + " and nothing else");
                        return;
                    }
                    claims = admins.authenticate(bearer);
                    String role = admins.settings().adminRole();
                    if (!claims.hasRole(role)) {
                        Json.error(response, 403, "forbidden", "the token lacks the " + role + " role");
                        return;
                    }
                    bound = Tickets.Purpose.events();
                }
                default -> {
                    Json.error(response, 400, "bad_request", "purpose must be \"console\" or \"events\"");
                    return;
                }
            }
        } catch (AuthException e) {
            response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            Json.error(response, 401, "unauthorized", e.getMessage());
            return;
        }
        Tickets.Issued issued;
        try {
            issued = tickets.issue(claims, bound, origin);
        } catch (AuthException e) {
            response.setHeader("Retry-After", Long.toString(tickets.ttl().toSeconds()));
            Json.error(response, 429, "too_many_tickets", e.getMessage());
            return;
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("ticket", issued.ticket());
        out.put("expiresIn", Math.max(0, Duration.between(clock.instant(), issued.expiresAt()).toSeconds()));
        Json.write(response, 200, out);
    }

    /** The JSON object of the body, or null after writing the error. */
    private static JsonNode body(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            Json.error(response, 415, "unsupported_media_type", "send the body as application/json");
            return null;
        }
        byte[] bytes = request.getInputStream().readNBytes(MAX_BODY + 1);
        if (bytes.length > MAX_BODY) {
            Json.error(response, 413, "too_large", "the body is larger than " + MAX_BODY + " bytes");
            return null;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            Json.error(response, 400, "bad_json", "the body must be a JSON object");
            return null;
        }
        return node;
    }

    private static boolean known(JsonNode body, Set<String> fields) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            if (!fields.contains(it.next())) {
                return false;
            }
        }
        return true;
    }
}
