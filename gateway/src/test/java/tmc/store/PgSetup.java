package tmc.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where the PostgreSQL store tests run: {@code -Dtmc.pg=jdbc:postgresql://...} (or env TMC_PG) uses that server;
 * {@code auto} starts Debian's cluster ({@code pg_ctlcluster 15 main start}; the package comes from
 * scripts/install-deps.sh) and creates the role and database {@code tmc} when missing, then uses them. Unset: the
 * PostgreSQL tests are skipped (H2 runs them always). Once asked for, a PostgreSQL that cannot be reached fails.
 */
public final class PgSetup {
    public static final String AUTO_URL = "jdbc:postgresql://127.0.0.1:5432/tmc?user=tmc&password=tmc";
    private static String resolved;

    private PgSetup() {
    }

    /** The JDBC URL to test against, or null when PostgreSQL was not asked for. */
    public static synchronized String url() throws IOException, InterruptedException {
        String v = System.getProperty("tmc.pg");
        if (v == null || v.isBlank()) {
            v = System.getenv("TMC_PG");
        }
        if (v == null || v.isBlank()) {
            return null;
        }
        if (!v.equals("auto")) {
            return v;
        }
        if (resolved == null) {
            run(List.of("pg_ctlcluster", "15", "main", "start"), true);
            psql("do $$ begin if not exists (select from pg_roles where rolname = 'tmc') then "
                    + "create role tmc login password 'tmc'; end if; end $$;");
            String has = psql("select count(*) from pg_database where datname = 'tmc'").strip();
            if (has.equals("0")) {
                psql("create database tmc owner tmc");
            }
            resolved = AUTO_URL;
        }
        return resolved;
    }

    private static String psql(String sql) throws IOException, InterruptedException {
        return run(List.of("su", "postgres", "-c", "psql -v ON_ERROR_STOP=1 -tAq -c \"" + sql.replace("\"", "\\\"")
                .replace("$", "\\$") + "\""), false);
    }

    private static String run(List<String> cmd, boolean mayFail) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(cmd + " timed out");
        }
        // pg_ctlcluster start fails when the cluster already runs; psql must not fail.
        if (p.exitValue() != 0 && !(mayFail && out.contains("already running"))) {
            throw new IOException(cmd + " failed (" + p.exitValue() + "): " + out);
        }
        return out;
    }
}
