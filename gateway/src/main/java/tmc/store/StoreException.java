package tmc.store;

/** The database failed; the operation changed nothing (its transaction was rolled back). */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
