package tmc.rfb;

import java.io.IOException;

/** A peer broke the RFB protocol or a limit; the message is a sentence a person can read and safe to log. */
public final class RfbProtocolException extends IOException {
    private final boolean tooBig;

    public RfbProtocolException(String message) {
        this(message, false);
    }

    public RfbProtocolException(String message, boolean tooBig) {
        super(message);
        this.tooBig = tooBig;
    }

    /** True when a size limit, not the protocol's grammar, was broken. */
    public boolean tooBig() {
        return tooBig;
    }
}
