package tmc.auth;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What a verified token says about its bearer.
 *
 * @param tokenId  identifies the token for per-token caps and revocation: a hash of its header and payload, so that
 *                 the different base64 spellings of one signature count as one token
 * @param tenant   the tenant claim, or null (admin tokens need none)
 * @param vms      the VM ids the token is limited to, or null for all of the tenant's VMs
 * @param jti      the {@code jti} claim, or null
 * @param roles    the values of the configured role claim
 * @param issuedAt the {@code iat} claim, or null
 */
public record TokenClaims(String issuer, String subject, String tenant, List<String> vms, boolean viewOnly,
        String jti, Set<String> roles, Instant expiresAt, String tokenId, Instant issuedAt) {

    public TokenClaims {
        vms = vms == null ? null : List.copyOf(vms);
        roles = Set.copyOf(roles);
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /** The user for logs and the {@code ?user=} of revocation: the {@code sub} claim. */
    public String user() {
        return subject;
    }

    /** The key for per-user caps and revocation: (issuer, tenant, subject). */
    public Principal principal() {
        return new Principal(issuer, tenant, subject);
    }
}
