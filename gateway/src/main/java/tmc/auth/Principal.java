package tmc.auth;

import java.util.Objects;

/**
 * Whom a token speaks for. A subject is unique only within its issuer and tenant (two portals may both have an
 * "alice"), so connection caps and revocation key on all three: tenant A's alice can neither exhaust nor revoke
 * tenant B's alice.
 *
 * @param tenant the tenant claim, or null (admin tokens carry none)
 */
public record Principal(String issuer, String tenant, String subject) {
    public Principal {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(subject, "subject");
    }

    @Override
    public String toString() {
        return subject + "@" + (tenant == null ? "-" : tenant) + " (" + issuer + ")";
    }
}
