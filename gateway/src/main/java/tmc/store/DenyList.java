package tmc.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/**
 * The revocation deny-list's rows (table {@code tmc_revocation}), shared by a fleet: each entry is written with a
 * NOTIFY on {@link #CHANNEL} in the same transaction, so every gateway reloads and ends the sessions it denies.
 * Keys are opaque here (tmc.fleet.FleetRevocations encodes them); a second entry for a key keeps the later cut-off
 * and the longer hold.
 */
public final class DenyList {
    public static final String CHANNEL = "tmc_revoke";

    /** One entry: tokens matching {@code key} (issued at or before {@code at}) are denied until {@code until}. */
    public record Entry(String key, long at, long until) {
    }

    private final Database db;

    private DenyList(Database db) {
        this.db = db;
    }

    public static DenyList on(Database db) {
        return new DenyList(db);
    }

    /** Records an entry (merged with an existing one) and tells the fleet. */
    public void put(Entry e) {
        try {
            write(e);
        } catch (StoreException ex) {
            if (ex.getCause() instanceof java.sql.SQLException s && "23505".equals(s.getSQLState())) {
                write(e); // another gateway inserted the same key first: merge into it
            } else {
                throw ex;
            }
        }
    }

    /** The entries still in force at {@code now}. */
    public List<Entry> live(long now) {
        return db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select rkey, at, until from tmc_revocation where until >= ?")) {
                ps.setLong(1, now);
                List<Entry> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Entry(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                    }
                }
                return out;
            }
        });
    }

    private void write(Entry e) {
        db.tx(c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement("update tmc_revocation set at = greatest(at, ?),"
                    + " until = greatest(until, ?) where rkey = ?")) {
                ps.setLong(1, e.at());
                ps.setLong(2, e.until());
                ps.setString(3, e.key());
                n = ps.executeUpdate();
            }
            if (n == 0) {
                try (PreparedStatement ps = c.prepareStatement(
                        "insert into tmc_revocation (rkey, at, until) values (?, ?, ?)")) {
                    ps.setString(1, e.key());
                    ps.setLong(2, e.at());
                    ps.setLong(3, e.until());
                    ps.executeUpdate();
                }
            }
            if (db.postgres()) {
                Notifications.notify(c, CHANNEL, "");
            }
            return null;
        });
    }
}
