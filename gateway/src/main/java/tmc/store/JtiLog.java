package tmc.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;

/** Spent single-use token ids (table {@code tmc_jti}), shared by a fleet: the first gateway to insert one wins. */
public final class JtiLog {
    private final Database db;

    private JtiLog(Database db) {
        this.db = db;
    }

    public static JtiLog on(Database db) {
        return new JtiLog(db);
    }

    /** Records {@code key} until {@code until}; false when it is recorded already and not expired at {@code now}. */
    public boolean firstUse(String key, long until, long now) {
        String k = key.replace('\u0000', '\u001f');
        try {
            db.tx(c -> {
                try (PreparedStatement ps = c.prepareStatement("delete from tmc_jti where jkey = ? and until < ?")) {
                    ps.setString(1, k);
                    ps.setLong(2, now);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("insert into tmc_jti (jkey, until) values (?, ?)")) {
                    ps.setString(1, k);
                    ps.setLong(2, until);
                    ps.executeUpdate();
                }
                return null;
            });
            return true;
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException s && "23505".equals(s.getSQLState())) {
                return false;
            }
            throw e;
        }
    }
}
