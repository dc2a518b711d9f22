package tmc.gateway;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import tmc.rfb.CloseStatus;

/**
 * The live browser sessions: enforces the connection caps when a session registers and closes sessions on an
 * administrator's request (revocation must not wait for tokens to expire).
 *
 * <p>Thread safe; closing runs outside the lock.
 */
public final class SessionRegistry {
    /** A live session as the registry sees it. */
    public interface Live {
        SessionInfo info();

        long bytesFromBrowser();

        long bytesToBrowser();

        void close(CloseStatus status, String detail);
    }

    /** Who holds a session. */
    public record SessionInfo(String id, String vmId, String tenant, String user, String tokenId, boolean viewOnly,
            String remote, Instant started) {}

    private final Limits limits;
    // Guarded by this.
    private final List<Live> sessions = new ArrayList<>();

    public SessionRegistry(Limits limits) {
        this.limits = limits;
    }

    /** Adds the session unless a cap is reached; returns the refusal, or null when registered. */
    public synchronized CloseStatus register(Live session) {
        SessionInfo s = session.info();
        if (sessions.size() >= limits.total()) {
            return new CloseStatus(CloseStatus.TOO_MANY, "the gateway is at its connection limit");
        }
        int token = 0;
        int user = 0;
        int vm = 0;
        for (Live live : sessions) {
            SessionInfo o = live.info();
            token += o.tokenId().equals(s.tokenId()) ? 1 : 0;
            user += o.user().equals(s.user()) ? 1 : 0;
            vm += o.vmId().equals(s.vmId()) ? 1 : 0;
        }
        if (token >= limits.perToken()) {
            return new CloseStatus(CloseStatus.TOO_MANY, "too many sessions with this token (limit "
                    + limits.perToken() + ")");
        }
        if (user >= limits.perUser()) {
            return new CloseStatus(CloseStatus.TOO_MANY, "too many sessions for this user (limit "
                    + limits.perUser() + ")");
        }
        if (vm >= limits.perVm()) {
            return new CloseStatus(CloseStatus.TOO_MANY, "too many sessions on this VM (limit "
                    + limits.perVm() + ")");
        }
        sessions.add(session);
        return null;
    }

    public synchronized void unregister(Live session) {
        sessions.remove(session);
    }

    public synchronized List<Live> list() {
        return List.copyOf(sessions);
    }

    public synchronized int size() {
        return sessions.size();
    }

    /** Closes every live session of the VM; returns how many. */
    public int closeVm(String vmId, CloseStatus status, String detail) {
        return closeWhere(s -> s.vmId().equals(vmId), status, detail);
    }

    /** Closes every live session of the user ({@code sub}); returns how many. */
    public int closeUser(String user, CloseStatus status, String detail) {
        return closeWhere(s -> s.user().equals(user), status, detail);
    }

    public int closeAll(CloseStatus status, String detail) {
        return closeWhere(s -> true, status, detail);
    }

    private int closeWhere(Predicate<SessionInfo> which, CloseStatus status, String detail) {
        List<Live> doomed;
        synchronized (this) {
            doomed = sessions.stream().filter(s -> which.test(s.info())).toList();
            sessions.removeAll(doomed);
        }
        for (Live live : doomed) {
            live.close(status, detail);
        }
        return doomed.size();
    }
}
