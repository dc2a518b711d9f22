package tmc.store;

/**
 * Where the PostgreSQL store tests run: {@code -Dtmc.pg=jdbc:postgresql://...} (or env TMC_PG). `make test` starts a
 * private server with scripts/postgres.sh and passes its URL. Like the tests that need QEMU, these fail (never skip)
 * when PostgreSQL is missing: CI must run the store on both databases.
 */
public final class PgSetup {
    private PgSetup() {
    }

    /** The JDBC URL to test against; throws when none was given. */
    public static String url() {
        String v = System.getProperty("tmc.pg");
        if (v == null || v.isBlank()) {
            v = System.getenv("TMC_PG");
        }
        if (v == null || v.isBlank()) {
            throw new IllegalStateException("PostgreSQL not configured: set -Dtmc.pg=jdbc:postgresql://... "
                    + "(make test starts one with scripts/postgres.sh)");
        }
        return v;
    }
}
