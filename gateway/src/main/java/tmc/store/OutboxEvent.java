package tmc.store;

/** One recorded state change; {@code payload} is the JSON sent to SSE listeners and webhooks. */
public record OutboxEvent(long seq, String messageId, String vm, DeliveryState state, long at, String payload) {
}
