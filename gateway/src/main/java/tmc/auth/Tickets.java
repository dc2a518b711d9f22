package tmc.auth;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Short-lived, single-use tickets that stand in for a bearer token where a browser can only put a credential into
 * a URL (a WebSocket's or an EventSource's). A page exchanges its token for a ticket with {@code Authorization:
 * Bearer}; the ticket is worth one connection, for one purpose, from one Origin, for at most {@link #MAX_TTL}. A
 * proxy that logs the URL logs a ticket that is spent or about to expire, never the token.
 *
 * <p>A ticket is removed on its first redemption, whether that succeeds or not: a ticket presented for the wrong
 * purpose or from the wrong origin is burnt, not left for a second guess. Bounded: at most {@code capacity}
 * outstanding in all and {@code perPrincipal} for one principal. Kept in memory, or in a fleet's database once
 * {@link #share shared}. Thread safe.
 */
public final class Tickets {
    public static final Duration MAX_TTL = Duration.ofSeconds(30);
    /**
     * The origin to pass for a request a browser marked {@code Sec-Fetch-Site: same-origin} without an Origin header
     * (an EventSource on the page's own origin): it can only come from a page the gateway serves, so it matches the
     * origin the ticket was issued to.
     */
    public static final String SAME_ORIGIN = "\u0000same-origin";
    static final String PREFIX = "tkt_";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a ticket may be used for: one VM's console, or the admin event stream. */
    public record Purpose(String kind, String vm) {
        public static Purpose console(String vm) {
            return new Purpose("console", Objects.requireNonNull(vm));
        }

        public static Purpose events() {
            return new Purpose("events", null);
        }

        @Override
        public String toString() {
            return vm == null ? kind : kind + " of " + vm;
        }
    }

    /** A ticket as handed out. */
    public record Issued(String ticket, Instant expiresAt) {}

    /** An issued, unspent ticket: what it was issued for, to whom, until when. */
    public record Outstanding(TokenClaims claims, Purpose purpose, String origin, Instant expiresAt) {}

    /**
     * Where the gateways of a fleet keep their tickets (a fleet's database), so that a WebSocket a load balancer
     * sends to another gateway than the one that issued its ticket is admitted there, once. Keys are a hash of the
     * ticket: whoever reads the table cannot present them.
     */
    public interface Shared {
        /**
         * Stores {@code ticket} under {@code key}, unless its principal already holds {@code perPrincipal} unexpired
         * tickets or the fleet {@code capacity}: false then.
         */
        boolean put(String key, Outstanding ticket, int perPrincipal, int capacity, Instant now);

        /** Removes the ticket and returns it; null when there is none (unknown, or spent anywhere already). */
        Outstanding take(String key);
    }

    private final Clock clock;
    private final Duration ttl;
    private final int capacity;
    private final int perPrincipal;
    private volatile Shared shared;
    // Guarded by this; unused once shared.
    private final Map<String, Outstanding> outstanding = new HashMap<>();

    public Tickets(Clock clock, Duration ttl, int capacity, int perPrincipal) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("a ticket lives 1 to " + MAX_TTL.toSeconds() + " s, not " + ttl);
        }
        this.clock = clock;
        this.ttl = ttl;
        this.capacity = capacity;
        this.perPrincipal = perPrincipal;
    }

    public Duration ttl() {
        return ttl;
    }

    /** From now on tickets live in {@code shared}: issued by any gateway of the fleet, redeemed by any, once. */
    public void share(Shared shared) {
        this.shared = shared;
    }

    /**
     * A new ticket for the holder of {@code claims}, for {@code purpose}, usable from {@code origin} only (null: from
     * a client that sends no Origin). It never outlives the token.
     */
    public Issued issue(TokenClaims claims, Purpose purpose, String origin) throws AuthException {
        Instant now = clock.instant();
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String ticket = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Instant expiresAt = now.plus(ttl);
        if (claims.expiresAt().isBefore(expiresAt)) {
            expiresAt = claims.expiresAt();
        }
        Outstanding entry = new Outstanding(claims, purpose, origin, expiresAt);
        Shared s = shared;
        if (s != null) {
            if (!s.put(key(ticket), entry, perPrincipal, capacity, now)) {
                throw new AuthException("too many tickets outstanding for this user or in all; use or let expire"
                        + " the others");
            }
        } else {
            issueHere(ticket, entry, now);
        }
        return new Issued(ticket, expiresAt);
    }

    private synchronized void issueHere(String ticket, Outstanding entry, Instant now) throws AuthException {
        outstanding.values().removeIf(e -> !now.isBefore(e.expiresAt()));
        if (outstanding.size() >= capacity) {
            throw new AuthException("too many tickets outstanding; try again in a few seconds");
        }
        Principal principal = entry.claims().principal();
        long mine = outstanding.values().stream().filter(e -> e.claims().principal().equals(principal)).count();
        if (mine >= perPrincipal) {
            throw new AuthException("too many tickets outstanding for this user; use or let expire the others");
        }
        outstanding.put(ticket, entry);
    }

    /** Spends the ticket and returns the claims of the token it was issued for, or says why not. */
    public TokenClaims redeem(String ticket, Purpose purpose, String origin) throws AuthException {
        if (ticket == null || ticket.isEmpty()) {
            throw new AuthException("no ticket");
        }
        Shared s = shared;
        Outstanding entry;
        if (s != null) {
            entry = ticket.startsWith(PREFIX) && ticket.length() < 100 ? s.take(key(ticket)) : null;
        } else {
            synchronized (this) {
                entry = outstanding.remove(ticket);
            }
        }
        if (entry == null) {
            throw new AuthException("unknown, used or expired ticket");
        }
        if (!clock.instant().isBefore(entry.expiresAt())) {
            throw new AuthException("unknown, used or expired ticket");
        }
        if (!entry.purpose().equals(purpose)) {
            throw new AuthException("the ticket was issued for another purpose");
        }
        if (!(SAME_ORIGIN.equals(origin) && entry.origin() != null) && !Objects.equals(entry.origin(), origin)) {
            throw new AuthException("the ticket was issued to another origin");
        }
        return entry.claims();
    }

    /** The key a shared ticket is kept under: its SHA-256, hex. */
    static String key(String ticket) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(ticket.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tickets kept in this gateway's memory (none once shared). */
    public synchronized int outstanding() {
        return outstanding.size();
    }
}
