package tmc.api;

/** An HTTP error answered as JSON {@code {error, detail}}; thrown before anything is changed. */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String error;

    public ApiError(int status, String error, String detail) {
        super(detail);
        this.status = status;
        this.error = error;
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }

    public String detail() {
        return getMessage();
    }
}
