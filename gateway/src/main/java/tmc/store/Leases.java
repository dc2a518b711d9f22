package tmc.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Lease rows (table {@code tmc_lease}): one owner per name at a time, taken over only once the lease has expired,
 * with an epoch that grows on every acquisition: the fencing token ({@link Fence}). Times are epoch milliseconds
 * passed in by the caller (its injectable clock), so the gateways of a fleet must keep their clocks within a small
 * fraction of the lease time of each other (NTP does; docs/fleet.md).
 */
public final class Leases {
    /** A lease as stored. */
    public record Lease(String name, String owner, long epoch, long expiresAt) {
    }

    private final Database db;

    private Leases(Database db) {
        this.db = db;
    }

    public static Leases on(Database db) {
        return new Leases(db);
    }

    /**
     * Takes {@code name} for {@code owner} until {@code now + ttlMillis} if it is free, expired, or held by this same
     * owner (a restarted gateway takes its leases back at once: the new epoch fences its previous life). Returns the
     * new epoch, or empty while another owner's lease runs.
     */
    public OptionalLong acquire(String name, String owner, long now, long ttlMillis) {
        try {
            return db.tx(c -> take(c, name, owner, now, ttlMillis));
        } catch (StoreException e) {
            if (isDuplicateKey(e)) {
                return db.tx(c -> take(c, name, owner, now, ttlMillis)); // another owner inserted it first
            }
            throw e;
        }
    }

    /** Extends a held lease; false when it has moved on (another owner, or another epoch of ours). */
    public boolean renew(Fence fence, long now, long ttlMillis) {
        return db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "update tmc_lease set expires_at = ? where name = ? and owner = ? and epoch = ?")) {
                ps.setLong(1, now + ttlMillis);
                ps.setString(2, fence.lease());
                ps.setString(3, fence.node());
                ps.setLong(4, fence.epoch());
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Gives a held lease up at once (a gateway stopping in order), so that another may take it without waiting. */
    public void release(Fence fence) {
        db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "update tmc_lease set expires_at = 0 where name = ? and owner = ? and epoch = ?")) {
                ps.setString(1, fence.lease());
                ps.setString(2, fence.node());
                ps.setLong(3, fence.epoch());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The leases whose name starts with {@code prefix}, by name. */
    public List<Lease> list(String prefix) {
        return db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select name, owner, epoch, expires_at from tmc_lease where name like ? order by name")) {
                ps.setString(1, prefix.replace("%", "\\%").replace("_", "\\_") + "%");
                List<Lease> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Lease(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Checks {@code fence} inside the caller's transaction and keeps the lease row locked until it ends; throws
     * {@link Fence.LostException} (rolling the transaction back) when the lease has moved on.
     */
    static void hold(Connection c, Fence fence) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "update tmc_lease set expires_at = expires_at where name = ? and owner = ? and epoch = ?")) {
            ps.setString(1, fence.lease());
            ps.setString(2, fence.node());
            ps.setLong(3, fence.epoch());
            if (ps.executeUpdate() != 1) {
                throw new Fence.LostException(fence);
            }
        }
    }

    private static OptionalLong take(Connection c, String name, String owner, long now, long ttl) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "select owner, epoch, expires_at from tmc_lease where name = ? for update")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    try (PreparedStatement ins = c.prepareStatement(
                            "insert into tmc_lease (name, owner, epoch, expires_at) values (?, ?, 1, ?)")) {
                        ins.setString(1, name);
                        ins.setString(2, owner);
                        ins.setLong(3, now + ttl);
                        ins.executeUpdate();
                    }
                    return OptionalLong.of(1);
                }
                String holder = rs.getString(1);
                long epoch = rs.getLong(2);
                long expiresAt = rs.getLong(3);
                if (!holder.equals(owner) && expiresAt > now) {
                    return OptionalLong.empty();
                }
                try (PreparedStatement up = c.prepareStatement(
                        "update tmc_lease set owner = ?, epoch = ?, expires_at = ? where name = ? and epoch = ?")) {
                    up.setString(1, owner);
                    up.setLong(2, epoch + 1);
                    up.setLong(3, now + ttl);
                    up.setString(4, name);
                    up.setLong(5, epoch);
                    return up.executeUpdate() == 1 ? OptionalLong.of(epoch + 1) : OptionalLong.empty();
                }
            }
        }
    }

    private static boolean isDuplicateKey(StoreException e) {
        return e.getCause() instanceof SQLException s && "23505".equals(s.getSQLState());
    }
}
