package tmc.auth;

import java.net.URI;
import java.time.Duration;
import java.util.Set;

/**
 * How tokens of one trust domain (tenants, or admins) are checked. At least one of {@code hs256Secret} and
 * {@code jwksUrl} is set; with both, HS256 tokens are checked against the secret and the asymmetric ones against
 * the JWKS.
 *
 * @param jwksAlgorithms the asymmetric algorithms accepted from the JWKS (RS256, ES256, EdDSA)
 * @param clockSkew      tolerance on exp, nbf and iat
 * @param maxTokenBytes  longer tokens are refused before parsing
 * @param roleClaim      the claim holding roles; a dotted path reaches into objects (Keycloak: realm_access.roles)
 * @param jwksMinRefresh the least time between two JWKS fetches triggered by unknown key ids
 * @param maxTokenAge    when set, tokens need {@code iat} and are refused once older than this, whatever their
 *                       {@code exp}; null: no limit
 */
public record JwtSettings(String issuer, String audience, byte[] hs256Secret, URI jwksUrl, Set<String> jwksAlgorithms,
        Duration clockSkew, int maxTokenBytes, String roleClaim, String adminRole, Duration jwksCacheTtl,
        Duration jwksMinRefresh, Duration maxTokenAge) {

    public static final Set<String> ASYMMETRIC_ALGORITHMS = Set.of("RS256", "ES256", "EdDSA");
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    public JwtSettings {
        hs256Secret = hs256Secret == null ? null : hs256Secret.clone();
        jwksAlgorithms = Set.copyOf(jwksAlgorithms);
    }

    /** Settings without a maximum token age. */
    public JwtSettings(String issuer, String audience, byte[] hs256Secret, URI jwksUrl, Set<String> jwksAlgorithms,
            Duration clockSkew, int maxTokenBytes, String roleClaim, String adminRole, Duration jwksCacheTtl,
            Duration jwksMinRefresh) {
        this(issuer, audience, hs256Secret, jwksUrl, jwksAlgorithms, clockSkew, maxTokenBytes, roleClaim, adminRole,
                jwksCacheTtl, jwksMinRefresh, null);
    }

    /** The same checks for another trust domain: its own issuer, audience and keys. */
    public JwtSettings withTrust(String newIssuer, String newAudience, byte[] newSecret, URI newJwksUrl) {
        return new JwtSettings(newIssuer, newAudience, newSecret, newJwksUrl, jwksAlgorithms, clockSkew,
                maxTokenBytes, roleClaim, adminRole, jwksCacheTtl, jwksMinRefresh, maxTokenAge);
    }

    @Override
    public byte[] hs256Secret() {
        return hs256Secret == null ? null : hs256Secret.clone();
    }

    @Override
    public String toString() {
        return "JwtSettings{issuer=" + issuer + ", audience=" + audience + ", hs256=" + (hs256Secret != null)
                + ", jwksUrl=" + jwksUrl + ", jwksAlgorithms=" + jwksAlgorithms + ", clockSkew=" + clockSkew
                + ", maxTokenAge=" + maxTokenAge + "}";
    }
}
