package tmc.messages;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import tmc.store.Store;

/** {@link MessageServiceTest} on PostgreSQL (on {@link tmc.store.PgSetup#url()}). */
class PostgresMessageServiceTest extends MessageServiceTest {
    @Override
    Store openStore() throws Exception {
        String url = tmc.store.PgSetup.url();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String t : List.of("tmc_webhook_cursor", "tmc_outbox", "tmc_delivery", "tmc_message",
                    "tmc_schema_version")) {
                st.execute("drop table if exists " + t + " cascade");
            }
        }
        return Store.open(url, null, null);
    }
}
