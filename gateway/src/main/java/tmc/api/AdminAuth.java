package tmc.api;

/**
 * Decides whether a bearer token belongs to an admin. The gateway wires it to tmc.auth's JWT verifier and the
 * configured admin role ({@link #jwt}).
 */
@FunctionalInterface
public interface AdminAuth {
    /**
     * Returns the admin's subject, or throws {@link ApiError} 401 (no or bad token) or 403 (valid token without
     * the admin role).
     */
    String authenticate(String token);

    /** Checks tokens with tmc.auth's verifier and requires its configured admin role. */
    static AdminAuth jwt(tmc.auth.JwtVerifier verifier) {
        return token -> {
            if (token == null || token.isEmpty()) {
                throw new ApiError(401, "unauthorized", "an admin bearer token is required");
            }
            tmc.auth.TokenClaims claims;
            try {
                claims = verifier.verify(token);
            } catch (tmc.auth.AuthException e) {
                throw new ApiError(401, "unauthorized", e.getMessage());
            }
            String role = verifier.settings().adminRole();
            if (role == null || !claims.hasRole(role)) {
                throw new ApiError(403, "forbidden", "the token lacks the admin role " + role);
            }
            return claims.subject();
        };
    }
}
