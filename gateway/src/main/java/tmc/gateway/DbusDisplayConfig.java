package tmc.gateway;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * {@code vms[].display.dbus}: a VM on stock QEMU with {@code -display dbus,p2p=yes} whose screen the gateway serves
 * itself (docs/dbus-display.md).
 *
 * @param qmp         the VM's QMP socket (unix), through which the gateway attaches to the D-Bus display; null for
 *                    a libvirt domain's, which the gateway attaches to through libvirt
 * @param vncListen   where the gateway listens for native VNC viewers of this VM (port 0: any free port), or null
 *                    for no listener: browsers only
 * @param vncPassword the VNC Authentication password those viewers must give (1-8 characters); set exactly when
 *                    {@code vncListen} is
 */
public record DbusDisplayConfig(Path qmp, InetSocketAddress vncListen, String vncPassword) {
    public DbusDisplayConfig {
        if ((vncListen == null) != (vncPassword == null)) {
            throw new IllegalArgumentException("a VNC listener needs a password, and a password a listener");
        }
    }

    public DbusDisplayConfig(Path qmp) {
        this(qmp, null, null);
    }

    /** A libvirt domain's D-Bus display ({@code <graphics type='dbus' p2p='yes'/>}), reached through libvirt. */
    public static DbusDisplayConfig throughLibvirt() {
        return new DbusDisplayConfig(null, null, null);
    }

    @Override
    public String toString() {
        return "dbus{" + (qmp != null ? "qmp=" + qmp : "libvirt")
                + (vncListen != null ? ", vncListen=" + vncListen : "") + "}";
    }
}
