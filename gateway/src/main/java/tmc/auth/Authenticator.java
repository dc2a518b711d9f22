package tmc.auth;

import java.time.Clock;

/**
 * One trust domain's door: a token is verified ({@link JwtVerifier}) and then checked against the deny-list. The
 * gateway has two, tenants and admins, each with its own issuer, audience and keys, so that a token minted for a
 * console can never call the admin API. {@link #recheck} is what long-lived connections ask while they run.
 *
 * <p>Thread safe.
 */
public final class Authenticator {
    private final JwtVerifier verifier;
    private final Revocations revocations;
    private final Clock clock;

    public Authenticator(JwtVerifier verifier, Revocations revocations, Clock clock) {
        this.verifier = verifier;
        this.revocations = revocations;
        this.clock = clock;
    }

    public JwtSettings settings() {
        return verifier.settings();
    }

    public Revocations revocations() {
        return revocations;
    }

    /** The claims of a valid token that is not revoked; every refusal says why without quoting the token. */
    public TokenClaims authenticate(String token) throws AuthException {
        TokenClaims claims = verifier.verify(token);
        String denial = revocations.denial(claims);
        if (denial != null) {
            throw new AuthException(denial);
        }
        return claims;
    }

    /** Whether the token has expired since it was accepted (with the verifier's clock skew). */
    public boolean expired(TokenClaims claims) {
        return clock.instant().isAfter(claims.expiresAt().plus(settings().clockSkew()));
    }

    /**
     * Throws when a token accepted earlier has since expired or been revoked. Expiry allows the same clock skew as
     * the verifier, so a token is never accepted and then refused at once.
     */
    public void recheck(TokenClaims claims) throws AuthException {
        if (expired(claims)) {
            throw new AuthException("token expired");
        }
        String denial = revocations.denial(claims);
        if (denial != null) {
            throw new AuthException(denial);
        }
    }
}
