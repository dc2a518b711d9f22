package tmc.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The database behind the store's repositories: a HikariCP pool of connections, one transaction per unit of work,
 * and the schema brought up to date by Flyway when it opens. The same SQL runs on H2 2.x (the embedded default, a
 * file database) and PostgreSQL 15.
 *
 * <p>Several gateways may open one PostgreSQL database at the same moment, the very first time included: the
 * migration runs under a session-level advisory lock ({@link #MIGRATION_LOCK}), so one gateway migrates and the
 * others wait, then find nothing left to do. Flyway takes a lock of its own around the migrations; ours also covers
 * its first step, the creation of its history table, which two gateways racing on an empty database would both try.
 */
public final class Database implements AutoCloseable {
    /** The advisory lock key of migrations ("tmc-migr" as ASCII). */
    static final long MIGRATION_LOCK = 0x746d632d6d696772L;

    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException, IOException;
    }

    private final HikariDataSource pool;
    private final boolean postgres;
    private final String url;
    private final String user;
    private final String password;

    private Database(HikariDataSource pool, String url, String user, String password) {
        this.pool = pool;
        this.url = url;
        this.user = user;
        this.password = password;
        this.postgres = url.startsWith("jdbc:postgresql:");
    }

    /**
     * Opens a pool on {@code url} (at most {@code poolSize} connections) and migrates the schema. For H2 file
     * databases, {@link Store#h2FileUrl} gives a URL with durable commits.
     */
    public static Database open(String url, String user, String password, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        if (user != null) {
            config.setUsername(user);
            config.setPassword(password);
        }
        config.setPoolName("tmc-store");
        config.setMaximumPoolSize(Math.max(4, poolSize)); // migrating: one holds the lock, Flyway takes two
        config.setMinimumIdle(1);
        config.setAutoCommit(false);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setConnectionTimeout(10_000);
        // Start even when the database is not there yet: the first transaction says what is wrong.
        config.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(config);
        Database db = new Database(pool, url, user, password);
        try {
            db.migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return db;
    }

    /** Whether this is PostgreSQL (fleet features: advisory locks, LISTEN/NOTIFY). */
    public boolean postgres() {
        return postgres;
    }

    /** The schema version Flyway has applied (2 and up; version 1 was the hand-written runner's). */
    public int schemaVersion() {
        return tx(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "select \"version\" from \"flyway_schema_history\" where \"success\" and \"version\" is not null")) {
                int max = 0;
                while (rs.next()) {
                    max = Math.max(max, Integer.parseInt(rs.getString(1)));
                }
                return max;
            }
        });
    }

    /**
     * A connection of its own, outside the pool, in auto-commit mode (LISTEN needs one that stays open and is
     * never handed to another caller). The caller closes it.
     */
    public Connection dedicatedConnection() throws SQLException {
        Connection c = user == null ? DriverManager.getConnection(url) : DriverManager.getConnection(url, user, password);
        c.setAutoCommit(true);
        return c;
    }

    @Override
    public void close() {
        pool.close();
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    <T> T tx(Work<T> work) {
        if (pool.isClosed()) {
            throw new IllegalStateException("store closed");
        }
        try (Connection c = pool.getConnection()) {
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | IOException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; the pool drops it
                }
                if (e instanceof SQLException s && lostConnection(s)) {
                    // The server restarted or cut us off: the other idle connections are most likely dead too.
                    // Drop them now, so that the next call opens a fresh one instead of failing on each in turn.
                    pool.getHikariPoolMXBean().softEvictConnections();
                }
                if (e instanceof RuntimeException re) {
                    throw re;
                }
                throw new StoreException(e.getMessage(), e);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot reach " + redact(url) + ": " + e.getMessage(), e);
        }
    }

    /** Connection exceptions (08xxx) and the server's "terminating connection" (57P01..57P03). */
    private static boolean lostConnection(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("57P"));
    }

    private void migrate() {
        try (Connection lock = pool.getConnection()) {
            lock.setAutoCommit(true);
            if (postgres) {
                try (Statement st = lock.createStatement()) {
                    st.execute("select pg_advisory_lock(" + MIGRATION_LOCK + ")");
                }
            }
            try {
                // A database the hand-written runner set up (version 1) is taken over at version 1.
                boolean legacy = tableExists(lock, "tmc_schema_version") && !tableExists(lock, "flyway_schema_history");
                Flyway.configure()
                        .dataSource(pool)
                        .locations("classpath:db/migration")
                        .baselineOnMigrate(legacy)
                        .baselineVersion("1")
                        .load()
                        .migrate();
            } finally {
                if (postgres) {
                    try (Statement st = lock.createStatement()) {
                        st.execute("select pg_advisory_unlock(" + MIGRATION_LOCK + ")");
                    }
                }
            }
        } catch (SQLException | FlywayException e) {
            throw new StoreException("cannot migrate " + redact(url) + ": " + e.getMessage(), e);
        }
    }

    private static boolean tableExists(Connection c, String name) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        for (String n : new String[] {name, name.toUpperCase(java.util.Locale.ROOT)}) {
            try (ResultSet rs = md.getTables(null, null, n, new String[] {"TABLE"})) {
                if (rs.next()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Drops a password=... parameter from a JDBC URL before it goes into an error message. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^;&]*", "$1***");
    }
}
