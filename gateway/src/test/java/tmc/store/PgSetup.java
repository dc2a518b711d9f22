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

    /** Empties the database at {@code url}: drops and recreates its public schema (every table, Flyway's too). */
    public static void reset(String url) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
             java.sql.Statement st = c.createStatement()) {
            st.execute("drop schema if exists public cascade");
            st.execute("create schema public");
        }
    }

    /**
     * A database of its own for one test class, named after the configured one plus {@code suffix} (so engineers and
     * CI sharing a server never meet), dropped and created empty; returns its URL.
     */
    public static String freshDatabase(String suffix) throws java.sql.SQLException {
        String base = url();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(jdbc:postgresql://[^/]+/)([A-Za-z0-9_]+)(.*)")
                .matcher(base);
        if (!m.matches()) {
            throw new IllegalStateException("cannot derive a database name from " + base);
        }
        String name = m.group(2) + "_" + suffix;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(base);
             java.sql.Statement st = c.createStatement()) {
            st.execute("drop database if exists " + name + " with (force)");
            st.execute("create database " + name);
        }
        return m.group(1) + name + m.group(3);
    }
}
