package tmc.gateway;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import tmc.auth.AuthException;
import tmc.auth.Authenticator;
import tmc.auth.TokenClaims;

/**
 * Checks {@code Authorization: Bearer <JWT>} against the admins' trust domain (their own audience, optionally their
 * own issuer and key) for the admin role (the configured role claim holding {@code tmc-admin} by default).
 */
public final class AdminAuth {
    private final Authenticator admins;

    public AdminAuth(Authenticator admins) {
        this.admins = admins;
    }

    /**
     * Returns the admin's claims, or writes a 401/403 JSON error and returns null; the caller then returns at once.
     */
    public TokenClaims require(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String token = Admission.bearer(request);
        if (token == null) {
            response.setHeader("WWW-Authenticate", "Bearer");
            Json.error(response, 401, "unauthorized", "an Authorization: Bearer token is required");
            return null;
        }
        TokenClaims claims;
        try {
            claims = admins.authenticate(token);
        } catch (AuthException e) {
            response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            Json.error(response, 401, "unauthorized", e.getMessage());
            return null;
        }
        String role = admins.settings().adminRole();
        if (!claims.hasRole(role)) {
            Json.error(response, 403, "forbidden", "the token lacks the " + role + " role");
            return null;
        }
        return claims;
    }

    /** Whether the request carries a valid admin token; writes nothing. */
    public boolean present(HttpServletRequest request) {
        String token = Admission.bearer(request);
        if (token == null) {
            return false;
        }
        try {
            return admins.authenticate(token).hasRole(admins.settings().adminRole());
        } catch (AuthException e) {
            return false;
        }
    }
}
