package tmc.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;

/**
 * The live browser sessions of a fleet (table {@code tmc_session}), counted for the per-token, per-user and per-VM
 * caps across gateways. Adding is serialised fleet-wide by a transaction-scoped advisory lock: count, then insert,
 * with nobody counting in between; admissions are rare next to relayed bytes, so one lock for all of them costs
 * little. A session of a gateway whose node lease has expired (killed, paused) is not counted. PostgreSQL only.
 */
public final class SessionTable {
    /** The cap a session would exceed. */
    public enum Cap { TOKEN, USER, VM }

    private static final long LOCK = 0x746d632d73657373L; // "tmc-sess"
    private final Database db;
    private final String node;

    private SessionTable(Database db, String node) {
        this.db = db;
        this.node = node;
    }

    /** The sessions of gateway {@code node}; a restarted gateway's rows from before are dropped now. */
    public static SessionTable on(Database db, String node) {
        SessionTable t = new SessionTable(db, node);
        db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from tmc_session where node = ?")) {
                ps.setString(1, node);
                ps.executeUpdate();
            }
            return null;
        });
        return t;
    }

    /** Records the session unless it would exceed a cap counted over the live gateways; the cap, or null. */
    public Cap add(String id, String vm, String principal, String tokenId, int perToken, int perUser, int perVm,
            long now) {
        String p = principal.replace('\u0000', '\u001f');
        return db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("select pg_advisory_xact_lock(?)")) {
                ps.setLong(1, LOCK);
                ps.executeQuery().close();
            }
            try (PreparedStatement ps = c.prepareStatement("select"
                    + " count(*) filter (where s.token_id = ?), count(*) filter (where s.principal = ?),"
                    + " count(*) filter (where s.vm_id = ?)"
                    + " from tmc_session s left join tmc_lease l on l.name = 'node:' || s.node and l.owner = s.node"
                    + " where s.node = ? or l.expires_at > ?")) {
                ps.setString(1, tokenId);
                ps.setString(2, p);
                ps.setString(3, vm);
                ps.setString(4, node);
                ps.setLong(5, now);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) >= perToken) {
                        return Cap.TOKEN;
                    }
                    if (rs.getLong(2) >= perUser) {
                        return Cap.USER;
                    }
                    if (rs.getLong(3) >= perVm) {
                        return Cap.VM;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into tmc_session (id, node, vm_id, principal,"
                    + " token_id, started) values (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, node);
                ps.setString(3, vm);
                ps.setString(4, p);
                ps.setString(5, tokenId);
                ps.setLong(6, now);
                ps.executeUpdate();
            }
            return null;
        });
    }

    public void remove(String id) {
        db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from tmc_session where id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            return null;
        });
    }
}
