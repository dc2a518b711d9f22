package tmc.qmp;

/** QEMU answered a command with an error: {@code errorClass} is QMP's "class" (e.g. GenericError). */
public final class QmpException extends Exception {
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
