package tmc.auth;

import java.time.Instant;

/**
 * The deny-list: tokens an administrator revoked stay refused until they could no longer be used anyway, so a
 * revoked user cannot reconnect with the same token a second later.
 *
 * <p>Every entry carries the instant after which it may be forgotten ({@code until}: the token's expiry, or the
 * longest a token of that principal may live). An implementation must never forget an entry earlier, and refuses a
 * new entry ({@link IllegalStateException}) rather than drop an old one when it is full. The in-memory one serves a
 * single gateway; a fleet shares one backed by its database through this same interface.
 */
public interface Revocations {
    /**
     * Denies every token of {@code principal} issued at or before {@code at} (and every one without {@code iat})
     * until {@code until}. Tokens issued later pass: the portal signed the user in again.
     */
    void revokePrincipal(Principal principal, Instant at, Instant until);

    /** Denies one token, by {@link TokenClaims#tokenId()}, until {@code until}. */
    void revokeToken(String tokenId, Instant until);

    /** Denies the token with this {@code jti} from this issuer until {@code until}. */
    void revokeJti(String issuer, String jti, Instant until);

    /** Why the token is denied, in words safe to show, or null when it is not. */
    String denial(TokenClaims claims);
}
