package tmc.messages;

import tmc.store.Store;

/** {@link MessageServiceTest} on PostgreSQL (on {@link tmc.store.PgSetup#url()}). */
class PostgresMessageServiceTest extends MessageServiceTest {
    @Override
    Store openStore() throws Exception {
        String url = tmc.store.PgSetup.url();
        tmc.store.PgSetup.reset(url);
        return Store.open(url, null, null);
    }
}
