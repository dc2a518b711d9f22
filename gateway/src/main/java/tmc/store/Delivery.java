package tmc.store;

/**
 * One message on one VM. {@code replyClient} is the QMP VncClientInfo of whoever answered, as JSON text.
 * Times are epoch milliseconds; absent ones are null.
 */
public record Delivery(
        String messageId,
        String vm,
        long seq,
        int priority,
        DeliveryState state,
        long queuedAt,
        Long shownAt,
        Long finishedAt,
        String replyButton,
        String replyClient,
        String error,
        int attempts) {
}
