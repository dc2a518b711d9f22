package tmc.display;

import java.nio.file.Path;

/** The ways to a QEMU's D-Bus display that this package provides. */
public final class DisplayLinks {
    private DisplayLinks() {}

    /** Through the VM's QMP socket, which the gateway holds for as long as it shows the VM. */
    public static DisplayLink.Opener qmp(Path qmpSocket) {
        return timeout -> QmpLink.open(qmpSocket, timeout);
    }
}
