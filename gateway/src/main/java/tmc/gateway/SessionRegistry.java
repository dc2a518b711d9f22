package tmc.gateway;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import tmc.auth.Authenticator;
import tmc.auth.Principal;
import tmc.auth.TokenClaims;
import tmc.rfb.CloseStatus;

/**
 * The live browser sessions: enforces the connection caps when a session registers, closes sessions on an
 * administrator's request, and ends those whose token has expired or been revoked since ({@link #sweep}).
 *
 * <p>Thread safe; closing runs outside the lock.
 */
public final class SessionRegistry {
    static final String EXPIRED_REASON = "the token expired";
    static final String REVOKED_REASON = "session revoked by an administrator";

    /** A live session as the registry sees it. */
    public interface Live {
        SessionInfo info();

        long bytesFromBrowser();

        long bytesToBrowser();

        void close(CloseStatus status, String detail);
    }

    /** Who holds a session, and with which token. */
    public record SessionInfo(String id, String vmId, TokenClaims claims, String remote, Instant started) {
        public String tenant() {
            return claims.tenant();
        }

        public String user() {
            return claims.user();
        }

        public Principal principal() {
            return claims.principal();
        }

        public String tokenId() {
            return claims.tokenId();
        }

        public boolean viewOnly() {
            return claims.viewOnly();
        }
    }

    /** Where the gateways of a fleet count their sessions, so that the caps hold across all of them. */
    public interface Shared {
        /**
         * Records the session unless it would exceed a cap counted fleet-wide; which cap ({@code "token"},
         * {@code "user"}, {@code "vm"}), or null when recorded.
         */
        String add(SessionInfo session, Limits limits);

        /** Forgets the session (idempotent). */
        void remove(String sessionId);
    }

    private final Limits limits;
    private final Authenticator tenants;
    private volatile Shared shared;
    // Guarded by this.
    private final List<Live> sessions = new ArrayList<>();

    public SessionRegistry(Limits limits, Authenticator tenants) {
        this.limits = limits;
        this.tenants = tenants;
    }

    /** From now on the per-token, per-user and per-VM caps are counted in {@code shared}, over the fleet. */
    public void share(Shared shared) {
        this.shared = shared;
    }

    /**
     * Adds the session unless a cap is reached; returns the refusal, or null when registered. The gateway's own
     * count comes first (cheap, and the only one for {@code total}); in a fleet the shared count decides.
     */
    public CloseStatus register(Live session) {
        SessionInfo s = session.info();
        synchronized (this) {
            if (sessions.size() >= limits.total()) {
                return new CloseStatus(CloseStatus.TOO_MANY, "the gateway is at its connection limit");
            }
            int token = 0;
            int user = 0;
            int vm = 0;
            for (Live live : sessions) {
                SessionInfo o = live.info();
                token += o.tokenId().equals(s.tokenId()) ? 1 : 0;
                user += o.principal().equals(s.principal()) ? 1 : 0;
                vm += o.vmId().equals(s.vmId()) ? 1 : 0;
            }
            String cap = token >= limits.perToken() ? "token" : user >= limits.perUser() ? "user"
                    : vm >= limits.perVm() ? "vm" : null;
            if (cap != null) {
                return capReached(cap);
            }
        }
        Shared fleet = shared;
        if (fleet != null) {
            String cap;
            try {
                cap = fleet.add(s, limits);
            } catch (RuntimeException e) { // the database is unreachable: no session it cannot count
                return new CloseStatus(CloseStatus.TOO_MANY, "the gateway cannot count sessions now; try again");
            }
            if (cap != null) {
                return capReached(cap);
            }
        }
        synchronized (this) {
            sessions.add(session);
        }
        return null;
    }

    private CloseStatus capReached(String cap) {
        return switch (cap) {
            case "token" -> new CloseStatus(CloseStatus.TOO_MANY, "too many sessions with this token (limit "
                    + limits.perToken() + ")");
            case "user" -> new CloseStatus(CloseStatus.TOO_MANY, "too many sessions for this user (limit "
                    + limits.perUser() + ")");
            default -> new CloseStatus(CloseStatus.TOO_MANY, "too many sessions on this VM (limit "
                    + limits.perVm() + ")");
        };
    }

    public void unregister(Live session) {
        synchronized (this) {
            sessions.remove(session);
        }
        forget(session.info());
    }

    /** Off the caller's thread: a session ends on the relay's selector, which must not wait for the database. */
    private void forget(SessionInfo info) {
        Shared fleet = shared;
        if (fleet != null) {
            Thread.ofVirtual().name("tmc-session-forget").start(() -> {
                try {
                    fleet.remove(info.id());
                } catch (RuntimeException e) {
                    // the row stays until this gateway restarts: it counts against the caps until then
                }
            });
        }
    }

    public synchronized List<Live> list() {
        return List.copyOf(sessions);
    }

    public synchronized int size() {
        return sessions.size();
    }

    /** Closes every live session that matches; returns what each held, for the deny-list. */
    public List<SessionInfo> close(Predicate<SessionInfo> which, CloseStatus status, String detail) {
        List<Live> doomed;
        synchronized (this) {
            doomed = sessions.stream().filter(s -> which.test(s.info())).toList();
            sessions.removeAll(doomed);
        }
        for (Live live : doomed) {
            live.close(status, detail);
            forget(live.info());
        }
        return doomed.stream().map(Live::info).toList();
    }

    /** Closes every live session of the VM; returns how many. */
    public int closeVm(String vmId, CloseStatus status, String detail) {
        return close(s -> s.vmId().equals(vmId), status, detail).size();
    }

    public int closeAll(CloseStatus status, String detail) {
        return close(s -> true, status, detail).size();
    }

    /**
     * Ends the sessions whose token has expired (4401) or was revoked, here or by another gateway sharing the
     * deny-list (4403). The gateway calls it every second; it returns how many it closed.
     */
    public int sweep() {
        int closed = 0;
        for (Live live : list()) {
            SessionInfo info = live.info();
            String denial = tenants.revocations().denial(info.claims());
            CloseStatus status = tenants.expired(info.claims())
                    ? new CloseStatus(CloseStatus.UNAUTHORIZED, EXPIRED_REASON)
                    : denial != null ? new CloseStatus(CloseStatus.FORBIDDEN, REVOKED_REASON) : null;
            if (status != null) {
                closed += close(s -> s == info, status, denial != null ? denial : EXPIRED_REASON).size();
            }
        }
        return closed;
    }
}
