package tmc.gateway;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Locale;
import tmc.auth.AuthException;
import tmc.auth.Authenticator;
import tmc.auth.ReplayGuard;
import tmc.auth.Tickets;
import tmc.auth.TokenClaims;
import tmc.rfb.CloseStatus;

/**
 * Decides, from the upgrade request alone, whether a client may open a VM's desktop. Nothing here touches the VM: a
 * refused request never causes an upstream connection.
 *
 * <p>The credential is a ticket ({@code ?ticket=}, what the console page uses: see {@link TicketServlet}) or the
 * token itself in {@code Authorization: Bearer} (tools; a browser cannot set that header on a WebSocket). A token
 * in the URL is refused: proxies log request lines.
 *
 * <p>Checks, in order: Origin on the allow-list (4403), a valid credential whose token is neither expired nor revoked
 * (4401), the token's tenant owns the VM and its {@code vms} list allows it (4403, the same words for a VM that does
 * not exist, so that VM ids cannot be probed), a single-use {@code jti} not seen before (4401).
 */
public final class Admission {
    public static final String TICKET_PARAMETER = "ticket";
    /** At most 123 bytes: a close reason's limit. */
    static final String TOKEN_IN_URL = "a token in the URL is refused (proxies log URLs): use a ticket"
            + " (POST /api/v1/tickets) or Authorization: Bearer";
    static final String TOKEN_COOKIE_REFUSED = "the tmc_token cookie is not accepted any more: exchange the token"
            + " for a ticket (POST /api/v1/tickets)";
    static final String NOT_ALLOWED = "the token does not allow this VM";

    /** The outcome: either {@code vm} and {@code claims}, or a {@code refusal}. */
    public record Decision(VmConfig vm, TokenClaims claims, CloseStatus refusal, String detail) {
        static Decision refuse(int code, String reason) {
            return new Decision(null, null, new CloseStatus(code, reason), reason);
        }

        public boolean admitted() {
            return refusal == null;
        }
    }

    private final GatewayConfig config;
    private final VmDirectory directory;
    private final Authenticator tenants;
    private final ReplayGuard replays;
    private final Tickets tickets;

    /** {@code directory}: the VMs, which may change while the gateway runs (libvirt). */
    public Admission(GatewayConfig config, VmDirectory directory, Authenticator tenants, ReplayGuard replays,
            Tickets tickets) {
        this.config = config;
        this.directory = directory;
        this.tenants = tenants;
        this.replays = replays;
        this.tickets = tickets;
    }

    public Decision decide(HttpServletRequest request, String vmId) {
        String origin = request.getHeader("Origin");
        String originRefusal = checkOrigin(origin);
        if (originRefusal != null) {
            return Decision.refuse(CloseStatus.FORBIDDEN, originRefusal);
        }
        if (request.getParameter("token") != null) {
            return Decision.refuse(CloseStatus.UNAUTHORIZED, TOKEN_IN_URL);
        }
        String ticket = request.getParameter(TICKET_PARAMETER);
        String bearer = bearer(request);
        TokenClaims claims;
        try {
            if (ticket != null) {
                claims = tickets.redeem(ticket, Tickets.Purpose.console(vmId),
                        origin == null ? null : origin.toLowerCase(Locale.ROOT));
                tenants.recheck(claims); // revoked or expired since the ticket was issued
            } else if (bearer != null) {
                claims = tenants.authenticate(bearer);
            } else if (hasTokenCookie(request)) {
                return Decision.refuse(CloseStatus.UNAUTHORIZED, TOKEN_COOKIE_REFUSED);
            } else {
                return Decision.refuse(CloseStatus.UNAUTHORIZED, "no ticket or token");
            }
        } catch (AuthException e) {
            return Decision.refuse(CloseStatus.UNAUTHORIZED, e.getMessage());
        }
        String refusal = authorize(claims, vmId);
        if (refusal != null) {
            return Decision.refuse(CloseStatus.FORBIDDEN, refusal);
        }
        if (ticket == null) { // a ticket's jti was spent when it was issued
            try {
                useJti(claims);
            } catch (AuthException e) {
                return Decision.refuse(CloseStatus.UNAUTHORIZED, e.getMessage());
            }
        }
        VmConfig vm = directory.find(vmId).orElse(null);
        if (vm == null) { // removed between the check and now (libvirt)
            return Decision.refuse(CloseStatus.FORBIDDEN, NOT_ALLOWED);
        }
        return new Decision(vm, claims, null, null);
    }

    /** Null when the origin may open consoles, else why not. */
    String checkOrigin(String origin) {
        if (origin == null) {
            return config.allowMissingOrigin() ? null : "the request has no Origin header";
        }
        return config.allowedOrigins().contains(origin.toLowerCase(Locale.ROOT)) ? null : "origin not allowed";
    }

    /**
     * Null when the token may open the VM, else why not. A VM that does not exist and another tenant's VM get the
     * same answer, so that a token cannot be used to find out which VM ids exist.
     */
    String authorize(TokenClaims claims, String vmId) {
        if (claims.tenant() == null) {
            return "the token names no tenant";
        }
        VmConfig vm = directory.find(vmId).orElse(null);
        if (vm == null || !claims.tenant().equals(vm.tenant())) {
            return NOT_ALLOWED;
        }
        List<String> vms = claims.vms();
        if (vms != null && !vms.contains(vm.id())) {
            return NOT_ALLOWED;
        }
        return null;
    }

    /** Spends a single-use token's {@code jti}: it opens one session (or buys one ticket). */
    void useJti(TokenClaims claims) throws AuthException {
        if (claims.jti() != null) {
            replays.use(claims.issuer(), claims.jti(), claims.expiresAt(), tenants.settings().clockSkew());
        }
    }

    /** The token of {@code Authorization: Bearer}, or null when there is no such header. */
    static String bearer(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }

    private static boolean hasTokenCookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies != null) {
            for (Cookie cookie : cookies) {
                if ("tmc_token".equals(cookie.getName())) {
                    return true;
                }
            }
        }
        return false;
    }
}
