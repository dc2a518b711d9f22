package tmc.messages;

/**
 * A request the service refuses; {@code kind} decides the HTTP status, {@code detail} is a sentence for a
 * person. Thrown before anything is stored.
 */
public final class MessageException extends RuntimeException {
    public enum Kind { INVALID, NOT_FOUND, CONFLICT, UNAVAILABLE }

    private final Kind kind;
    private final String error;

    public MessageException(Kind kind, String error, String detail) {
        super(detail);
        this.kind = kind;
        this.error = error;
    }

    public Kind kind() {
        return kind;
    }

    /** A short machine-readable code, e.g. "unknown_vm". */
    public String error() {
        return error;
    }
}
