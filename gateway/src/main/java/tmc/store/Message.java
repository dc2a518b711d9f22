package tmc.store;

import java.util.List;

/**
 * A message as accepted by the API. Immutable; stored once and never updated.
 *
 * @param target       the request's target as given ({"vms": [...]} or {"tenant": "..."}), JSON text
 * @param requestHash  SHA-256 of the canonical request, to tell an Idempotency-Key replay from a conflict
 */
public record Message(
        String id,
        long createdAt,
        long expiresAt,
        String title,
        String body,
        String severity,
        List<Button> buttons,
        boolean modal,
        String position,
        long ttlSeconds,
        String target,
        String idempotencyKey,
        String requestHash) {

    public Message {
        buttons = List.copyOf(buttons);
    }

    /** Critical messages jump the per-VM queue. */
    public int priority() {
        return switch (severity) {
            case "critical" -> 2;
            case "warning" -> 1;
            default -> 0;
        };
    }
}
