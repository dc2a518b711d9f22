package tmc.store;

/**
 * {@link StoreTest} on PostgreSQL. Runs against {@link PgSetup#url()}
 * ({@code -Dtmc.pg=jdbc:postgresql://...}, which `make test` passes). Each test starts from empty
 * tables.
 */
class PostgresStoreTest extends StoreTest {
    static String pgUrl() throws Exception {
        return PgSetup.url();
    }

    @Override
    Store openStore() throws Exception {
        String url = pgUrl();
        dropAll(url, null, null);
        return Store.open(url, null, null);
    }

    @Override
    @org.junit.jupiter.api.Test
    void migrationsRunOnceAndSurviveReopen() throws Exception {
        String url = pgUrl();
        try (Store s = Store.open(url, null, null)) {
            org.junit.jupiter.api.Assertions.assertEquals(Migrations.LATEST, s.schemaVersion());
        }
    }

    /** PostgreSQL restarted or the connection was cut: at most the call in flight fails, the next one reconnects. */
    @org.junit.jupiter.api.Test
    void reconnectsAfterTheServerDropsTheConnection() throws Exception {
        Message m = message("m1", "info", null);
        store.insert(m, java.util.List.of(queued(m, "vm1", 1)));
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pgUrl());
             java.sql.Statement st = c.createStatement()) {
            st.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database()"
                    + " and pid <> pg_backend_pid()");
        }
        try {
            store.messageCount();
        } catch (StoreException expected) {
            // the call that found the connection dead
        }
        org.junit.jupiter.api.Assertions.assertEquals(1, store.messageCount());
    }
}
