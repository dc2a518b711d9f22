package tmc.messages;

import java.util.List;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/** Lets tests of other packages record outbox events the way {@link WebhookDispatcherTest} does. */
public final class WebhookDispatcherTestAccess {
    private WebhookDispatcherTestAccess() {}

    public static List<OutboxEvent> insert(Store store, EventBus bus, String id) {
        return WebhookDispatcherTest.insert(store, bus, id);
    }
}
