package tmc.auth;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link Revocations} for one gateway, in memory: lost on restart, which is acceptable only because a restart also
 * ends every session (a fleet backs the interface with its database instead). Expired entries are purged as new ones
 * arrive. Thread safe.
 */
public final class InMemoryRevocations implements Revocations {
    static final String REVOKED = "the token was revoked by an administrator";

    /** A principal's revocation: tokens issued at or before {@code at} are denied until {@code until}. */
    private record Cutoff(Instant at, Instant until) {}

    private final Clock clock;
    private final int capacity;
    // Guarded by this.
    private final Map<Principal, Cutoff> principals = new HashMap<>();
    private final Map<String, Instant> tokens = new HashMap<>();

    public InMemoryRevocations(Clock clock, int capacity) {
        this.clock = clock;
        this.capacity = capacity;
    }

    @Override
    public synchronized void revokePrincipal(Principal principal, Instant at, Instant until) {
        Cutoff old = principals.get(principal);
        if (old == null) {
            makeRoom();
        }
        // A second revocation moves the cut-off forward and never shortens how long it holds.
        Cutoff cutoff = old == null ? new Cutoff(at, until)
                : new Cutoff(max(old.at(), at), max(old.until(), until));
        principals.put(principal, cutoff);
    }

    @Override
    public synchronized void revokeToken(String tokenId, Instant until) {
        put("token " + tokenId, until);
    }

    @Override
    public synchronized void revokeJti(String issuer, String jti, Instant until) {
        put("jti " + issuer + "\u0000" + jti, until);
    }

    @Override
    public synchronized String denial(TokenClaims claims) {
        Instant now = clock.instant();
        if (live(tokens.get("token " + claims.tokenId()), now)) {
            return REVOKED;
        }
        if (claims.jti() != null && live(tokens.get("jti " + claims.issuer() + "\u0000" + claims.jti()), now)) {
            return REVOKED;
        }
        Cutoff cutoff = principals.get(claims.principal());
        if (cutoff != null && live(cutoff.until(), now)
                && (claims.issuedAt() == null || !claims.issuedAt().isAfter(cutoff.at()))) {
            return "the user's tokens were revoked by an administrator";
        }
        return null;
    }

    /** Entries held, expired ones included until the next purge (for tests). */
    public synchronized int size() {
        return principals.size() + tokens.size();
    }

    private void put(String key, Instant until) {
        Instant old = tokens.get(key);
        if (old == null) {
            makeRoom();
        }
        tokens.put(key, old == null ? until : max(old, until));
    }

    private void makeRoom() {
        if (principals.size() + tokens.size() < capacity) {
            return;
        }
        Instant now = clock.instant();
        tokens.values().removeIf(until -> !live(until, now));
        principals.values().removeIf(c -> !live(c.until(), now));
        if (principals.size() + tokens.size() >= capacity) {
            throw new IllegalStateException("the deny-list is full (" + capacity + " unexpired entries)");
        }
    }

    private static boolean live(Instant until, Instant now) {
        return until != null && !now.isAfter(until);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
