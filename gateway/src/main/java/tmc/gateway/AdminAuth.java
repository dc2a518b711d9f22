package tmc.gateway;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import tmc.auth.AuthException;
import tmc.auth.JwtVerifier;
import tmc.auth.TokenClaims;

/**
 * Checks {@code Authorization: Bearer <JWT>} for the admin role (the configured role claim holding the configured
 * role, {@code tmc-admin} by default). For every admin endpoint, this one and the message API alike.
 */
public final class AdminAuth {
    private final JwtVerifier verifier;

    public AdminAuth(JwtVerifier verifier) {
        this.verifier = verifier;
    }

    /**
     * Returns the admin's claims, or writes a 401/403 JSON error and returns null; the caller then returns at once.
     */
    public TokenClaims require(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            response.setHeader("WWW-Authenticate", "Bearer");
            Json.error(response, 401, "unauthorized", "an Authorization: Bearer token is required");
            return null;
        }
        TokenClaims claims;
        try {
            claims = verifier.verify(header.substring(7).trim());
        } catch (AuthException e) {
            response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            Json.error(response, 401, "unauthorized", e.getMessage());
            return null;
        }
        String role = verifier.settings().adminRole();
        if (!claims.hasRole(role)) {
            Json.error(response, 403, "forbidden", "the token lacks the " + role + " role");
            return null;
        }
        return claims;
    }
}
