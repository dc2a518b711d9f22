package tmc.gateway;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Locale;
import tmc.auth.AuthException;
import tmc.auth.JwtVerifier;
import tmc.auth.ReplayGuard;
import tmc.auth.TokenClaims;
import tmc.rfb.CloseStatus;

/**
 * Decides, from the upgrade request alone, whether a browser may open a VM's desktop. Nothing here touches the
 * VM: a refused request never causes an upstream connection.
 *
 * <p>Checks, in order: Origin on the allow-list (4403), a valid token (4401), a known VM (4404; only after the
 * token, so that VM ids cannot be probed anonymously), the token's tenant owns the VM and its {@code vms} list
 * allows it (4403), a single-use {@code jti} not seen before (4401).
 */
public final class Admission {
    public static final String TOKEN_PARAMETER = "token";
    public static final String TOKEN_COOKIE = "tmc_token";

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
    private final JwtVerifier verifier;
    private final ReplayGuard replays;

    public Admission(GatewayConfig config, JwtVerifier verifier, ReplayGuard replays) {
        this(config, new VmDirectory(config.vms()), verifier, replays);
    }

    /** With a directory whose VMs may change while the gateway runs (libvirt). */
    public Admission(GatewayConfig config, VmDirectory directory, JwtVerifier verifier, ReplayGuard replays) {
        this.config = config;
        this.directory = directory;
        this.verifier = verifier;
        this.replays = replays;
    }

    public Decision decide(HttpServletRequest request, String vmId) {
        String origin = request.getHeader("Origin");
        if (origin == null) {
            if (!config.allowMissingOrigin()) {
                return Decision.refuse(CloseStatus.FORBIDDEN, "the request has no Origin header");
            }
        } else if (!config.allowedOrigins().contains(origin.toLowerCase(Locale.ROOT))) {
            return Decision.refuse(CloseStatus.FORBIDDEN, "origin not allowed");
        }
        TokenClaims claims;
        try {
            claims = verifier.verify(token(request));
        } catch (AuthException e) {
            return Decision.refuse(CloseStatus.UNAUTHORIZED, e.getMessage());
        }
        VmConfig vm = directory.find(vmId).orElse(null);
        if (vm == null) {
            return Decision.refuse(CloseStatus.NOT_FOUND, "unknown VM");
        }
        if (claims.tenant() == null) {
            return Decision.refuse(CloseStatus.FORBIDDEN, "the token names no tenant");
        }
        if (!claims.tenant().equals(vm.tenant())) {
            return Decision.refuse(CloseStatus.FORBIDDEN, "the VM belongs to another tenant");
        }
        List<String> vms = claims.vms();
        if (vms != null && !vms.contains(vm.id())) {
            return Decision.refuse(CloseStatus.FORBIDDEN, "the token does not allow this VM");
        }
        if (claims.jti() != null) {
            try {
                replays.use(claims.issuer(), claims.jti(), claims.expiresAt(), verifier.settings().clockSkew());
            } catch (AuthException e) {
                return Decision.refuse(CloseStatus.UNAUTHORIZED, e.getMessage());
            }
        }
        return new Decision(vm, claims, null, null);
    }

    /** The token from the {@code token} query parameter, else from the {@code tmc_token} cookie, else null. */
    static String token(HttpServletRequest request) {
        String token = request.getParameter(TOKEN_PARAMETER);
        if (token != null && !token.isEmpty()) {
            return token;
        }
        Cookie[] cookies = request.getCookies();
        if (cookies != null) {
            for (Cookie cookie : cookies) {
                if (TOKEN_COOKIE.equals(cookie.getName()) && !cookie.getValue().isEmpty()) {
                    return cookie.getValue();
                }
            }
        }
        return null;
    }
}
