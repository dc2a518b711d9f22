package tmc.store;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Where one message stands on one VM. Terminal states never change again. */
public enum DeliveryState {
    QUEUED, SHOWN, ANSWERED, EXPIRED, RETRACTED, FAILED;

    /** States a delivery can still leave. */
    public static final Set<DeliveryState> OPEN = EnumSet.of(QUEUED, SHOWN);

    public boolean isTerminal() {
        return !OPEN.contains(this);
    }

    /** The lower-case name used in JSON, SQL and URLs. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a wire name; null when it is not one. */
    public static DeliveryState fromWire(String s) {
        if (s == null) {
            return null;
        }
        for (DeliveryState st : values()) {
            if (st.wire().equals(s)) {
                return st;
            }
        }
        return null;
    }
}
