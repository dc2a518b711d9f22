package tmc.messages;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import tmc.store.OutboxEvent;

/**
 * Fans committed state changes out to live listeners (SSE streams, the webhook dispatcher's wake-up). Listeners
 * are called on the thread that committed the change and must not block; the outbox in the store is the durable
 * record, this is only the fast path.
 */
public final class EventBus {
    private static final Logger LOG = Logger.getLogger(EventBus.class.getName());
    private final List<Consumer<OutboxEvent>> listeners = new CopyOnWriteArrayList<>();

    public AutoCloseable subscribe(Consumer<OutboxEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    public void publish(OutboxEvent e) {
        for (Consumer<OutboxEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "event listener failed", ex);
            }
        }
    }
}
