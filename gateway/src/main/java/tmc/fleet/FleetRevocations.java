package tmc.fleet;

import java.time.Clock;
import java.time.Instant;
import tmc.auth.InMemoryRevocations;
import tmc.auth.Principal;
import tmc.auth.Revocations;
import tmc.auth.TokenClaims;
import tmc.store.DenyList;

/**
 * The deny-list of a fleet: checked in memory (every session is re-checked every second), written through to
 * PostgreSQL ({@link DenyList}) and reloaded when any gateway adds an entry (NOTIFY {@link DenyList#CHANNEL}), so a
 * revocation on one gateway denies the token on all of them, and ends their sessions at once.
 *
 * <p>It starts local (nothing can be revoked before the gateway serves) and becomes shared when the store opens
 * ({@link #attach}); with H2 it stays local.
 */
public final class FleetRevocations implements Revocations {
    private static final char SEP = '\u001f'; // PostgreSQL text holds no NUL
    private static final String NO_TENANT = "\u0001";

    private final Clock clock;
    private final InMemoryRevocations local;
    private volatile DenyList shared;

    public FleetRevocations(Clock clock, int capacity) {
        this.clock = clock;
        this.local = new InMemoryRevocations(clock, capacity);
    }

    /** From now on entries are shared through {@code list}; loads what the fleet has revoked so far. */
    public void attach(DenyList list) {
        this.shared = list;
        refresh();
    }

    /** Loads every entry in force from the database (after a NOTIFY, or a reconnect of the listener). */
    public void refresh() {
        DenyList list = shared;
        if (list == null) {
            return;
        }
        for (DenyList.Entry e : list.live(clock.millis())) {
            apply(e);
        }
    }

    @Override
    public void revokePrincipal(Principal principal, Instant at, Instant until) {
        local.revokePrincipal(principal, at, until);
        share("p" + SEP + principal.issuer() + SEP + (principal.tenant() == null ? NO_TENANT : principal.tenant())
                + SEP + principal.subject(), at, until);
    }

    @Override
    public void revokeToken(String tokenId, Instant until) {
        local.revokeToken(tokenId, until);
        share("t" + SEP + tokenId, until, until);
    }

    @Override
    public void revokeJti(String issuer, String jti, Instant until) {
        local.revokeJti(issuer, jti, until);
        share("j" + SEP + issuer + SEP + jti, until, until);
    }

    @Override
    public String denial(TokenClaims claims) {
        return local.denial(claims);
    }

    private void share(String key, Instant at, Instant until) {
        DenyList list = shared;
        if (list != null) {
            list.put(new DenyList.Entry(key, at.toEpochMilli(), until.toEpochMilli()));
        }
    }

    private void apply(DenyList.Entry e) {
        String[] p = e.key().split(String.valueOf(SEP), -1);
        Instant until = Instant.ofEpochMilli(e.until());
        switch (p[0]) {
            case "p" -> local.revokePrincipal(new Principal(p[1], p[2].equals(NO_TENANT) ? null : p[2], p[3]),
                    Instant.ofEpochMilli(e.at()), until);
            case "t" -> local.revokeToken(p[1], until);
            case "j" -> local.revokeJti(p[1], p[2], until);
            default -> { } // written by a newer gateway: not ours to read
        }
    }
}
