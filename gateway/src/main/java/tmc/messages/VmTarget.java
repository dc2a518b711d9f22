package tmc.messages;

import tmc.qmp.QmpAddress;
import tmc.qmp.QmpTransport;

/**
 * A VM messages can be sent to: its id, its tenant, and how to reach its QMP monitor: a socket address
 * ({@code qmp}), or a transport of its own ({@code transport}, e.g. libvirt's monitor pass-through); both null =
 * none (its messages fail).
 */
public record VmTarget(String id, String tenant, QmpAddress qmp, QmpTransport.Factory transport) {
    public VmTarget(String id, String tenant, QmpAddress qmp) {
        this(id, tenant, qmp, null);
    }

    /** Whether messages can be shown at all. */
    public boolean hasMonitor() {
        return qmp != null || transport != null;
    }
}
