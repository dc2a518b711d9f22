package tmc.api;

import tmc.auth.AuthException;
import tmc.auth.Authenticator;
import tmc.auth.Tickets;
import tmc.auth.TokenClaims;

/**
 * Decides whether a request comes from an admin: a bearer token of the admins' trust domain holding the admin role,
 * or, for the event stream (EventSource cannot set headers), a ticket bought with such a token.
 */
public interface AdminAuth {
    /** The admin's claims, or {@link ApiError} 401 (no or bad token) or 403 (valid token without the role). */
    TokenClaims authenticate(String token);

    /**
     * Spends an events ticket and returns the claims of the admin token it was bought with, or {@link ApiError} 401.
     * {@code origin}: the request's Origin, {@link Tickets#SAME_ORIGIN}, or null.
     */
    TokenClaims redeem(String ticket, String origin);

    /** Null while a token accepted earlier still holds, else why not (expired, revoked). */
    String recheck(TokenClaims claims);

    /** Checks tokens with the gateway's admin authenticator and its configured admin role. */
    static AdminAuth of(Authenticator admins, Tickets tickets) {
        return new AdminAuth() {
            @Override
            public TokenClaims authenticate(String token) {
                if (token == null || token.isEmpty()) {
                    throw new ApiError(401, "unauthorized", "an admin bearer token is required");
                }
                TokenClaims claims;
                try {
                    claims = admins.authenticate(token);
                } catch (AuthException e) {
                    throw new ApiError(401, "unauthorized", e.getMessage());
                }
                String role = admins.settings().adminRole();
                if (role == null || !claims.hasRole(role)) {
                    throw new ApiError(403, "forbidden", "the token lacks the admin role " + role);
                }
                return claims;
            }

            @Override
            public TokenClaims redeem(String ticket, String origin) {
                try {
                    TokenClaims claims = tickets.redeem(ticket, Tickets.Purpose.events(), origin);
                    admins.recheck(claims);
                    return claims;
                } catch (AuthException e) {
                    throw new ApiError(401, "unauthorized", e.getMessage());
                }
            }

            @Override
            public String recheck(TokenClaims claims) {
                try {
                    admins.recheck(claims);
                    return null;
                } catch (AuthException e) {
                    return e.getMessage();
                }
            }
        };
    }
}
