package tmc.testkit;

/** A QMP command answered with {@code {"error": {"class", "desc"}}}. */
public final class QmpException extends RuntimeException {
    private final String errorClass;
    private final String description;

    public QmpException(String errorClass, String description) {
        super(errorClass + ": " + description);
        this.errorClass = errorClass;
        this.description = description;
    }

    public String errorClass() {
        return errorClass;
    }

    public String description() {
        return description;
    }
}
