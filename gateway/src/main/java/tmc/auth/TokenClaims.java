package tmc.auth;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What a verified token says about its bearer.
 *
 * @param tokenId  identifies the token for per-token connection caps: its {@code jti}, or a hash of the token
 * @param tenant   the tenant claim, or null (admin tokens need none)
 * @param vms      the VM ids the token is limited to, or null for all of the tenant's VMs
 * @param jti      the {@code jti} claim, or null
 * @param roles    the values of the configured role claim
 */
public record TokenClaims(String issuer, String subject, String tenant, List<String> vms, boolean viewOnly,
        String jti, Set<String> roles, Instant expiresAt, String tokenId) {

    public TokenClaims {
        vms = vms == null ? null : List.copyOf(vms);
        roles = Set.copyOf(roles);
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /** The user for per-user caps, revocation ({@code ?user=}) and logs: the {@code sub} claim. */
    public String user() {
        return subject;
    }
}
