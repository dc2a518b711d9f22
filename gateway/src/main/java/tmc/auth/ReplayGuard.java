package tmc.auth;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Remembers the {@code jti} of used tokens until they expire, so each can open one session only. Bounded: when full
 * of unexpired entries it refuses new ones rather than forgetting old ones, which would let them be replayed.
 */
public final class ReplayGuard {
    /** Where several gateways record the uses they all must see (a fleet's database). */
    public interface Shared {
        /** Records the use of {@code key}, kept until {@code until}; false when it was used before. */
        boolean firstUse(String key, Instant until);
    }

    private final Clock clock;
    private volatile Shared shared;
    private final int capacity;
    // Guarded by this.
    private final Map<String, Instant> seen = new HashMap<>();
    private Instant nextPurge = Instant.MIN;

    public ReplayGuard(Clock clock, int capacity) {
        this.clock = clock;
        this.capacity = capacity;
    }

    /** From now on uses are also recorded in {@code shared}: a jti spent on one gateway is spent on all. */
    public void share(Shared shared) {
        this.shared = shared;
    }

    /** Records the use of {@code jti}; throws if it was used before (here or, shared, anywhere) or no room is left. */
    public void use(String issuer, String jti, Instant expiresAt, java.time.Duration skew) throws AuthException {
        useHere(issuer, jti, expiresAt, skew);
        Shared s = shared;
        if (s != null && !s.firstUse(issuer + "\u0000" + jti, expiresAt.plus(skew))) {
            throw new AuthException("token already used (jti is single-use)");
        }
    }

    private synchronized void useHere(String issuer, String jti, Instant expiresAt, java.time.Duration skew)
            throws AuthException {
        Instant now = clock.instant();
        if (now.isAfter(nextPurge) || seen.size() >= capacity) {
            seen.values().removeIf(until -> until.isBefore(now));
            nextPurge = now.plusSeconds(60);
        }
        String key = issuer + "\u0000" + jti;
        if (seen.containsKey(key)) {
            throw new AuthException("token already used (jti is single-use)");
        }
        if (seen.size() >= capacity) {
            throw new AuthException("too many single-use tokens in flight; try again later");
        }
        seen.put(key, expiresAt.plus(skew));
    }

    public synchronized int size() {
        return seen.size();
    }
}
