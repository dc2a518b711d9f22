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
    private final Clock clock;
    private final int capacity;
    // Guarded by this.
    private final Map<String, Instant> seen = new HashMap<>();
    private Instant nextPurge = Instant.MIN;

    public ReplayGuard(Clock clock, int capacity) {
        this.clock = clock;
        this.capacity = capacity;
    }

    /** Records the use of {@code jti}; throws if it was used before or no room is left. */
    public synchronized void use(String issuer, String jti, Instant expiresAt, java.time.Duration skew)
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
