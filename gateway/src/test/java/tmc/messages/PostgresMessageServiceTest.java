package tmc.messages;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import tmc.store.Store;

/** {@link MessageServiceTest} on PostgreSQL (opt-in: -Dtmc.pg=auto or a JDBC URL, see tmc.store.PgSetup). */
class PostgresMessageServiceTest extends MessageServiceTest {
    @Override
    Store openStore() throws Exception {
        String url = tmc.store.PgSetup.url();
        assumeTrue(url != null && !url.isBlank(), "PostgreSQL not configured (set -Dtmc.pg=jdbc:postgresql://...)");
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String t : List.of("tmc_webhook_cursor", "tmc_outbox", "tmc_delivery", "tmc_message",
                    "tmc_schema_version")) {
                st.execute("drop table if exists " + t + " cascade");
            }
        }
        return Store.open(url, null, null);
    }
}
