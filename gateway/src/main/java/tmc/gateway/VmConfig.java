package tmc.gateway;

import tmc.rfb.ServerAddress;
import tmc.rfb.VncTls;

/**
 * One VM the gateway serves.
 *
 * @param id          the id in {@code /vnc/{id}} and in tokens' {@code vms} claims
 * @param tenant      the tenant that owns it; a token's {@code tenant} claim must match
 * @param name        a display name for people
 * @param vnc         the VM's VNC server
 * @param vncPassword the VNC password, or null for security type None; never sent to browsers
 * @param qmp         the QMP monitor reserved for the gateway, or null
 * @param vncTls      VeNCrypt x509 TLS to the VNC server (pinned CA), or null for a plain connection
 * @param dbus        for a VM on stock QEMU with {@code -display dbus,p2p=yes} ({@code "display": {"dbus": ...}}):
 *                    its QMP socket and the optional listener for native viewers; then {@code vnc} and {@code qmp}
 *                    are null and the gateway serves the screen itself (docs/dbus-display.md)
 */
public record VmConfig(String id, String tenant, String name, ServerAddress vnc, String vncPassword,
        ServerAddress qmp, VncTls vncTls, DbusDisplayConfig dbus) {
    /** A VM with a VNC server, maybe over TLS. */
    public VmConfig(String id, String tenant, String name, ServerAddress vnc, String vncPassword, ServerAddress qmp,
            VncTls vncTls) {
        this(id, tenant, name, vnc, vncPassword, qmp, vncTls, null);
    }

    /** A VM with a VNC server (the patched QEMU's, or any). */
    public VmConfig(String id, String tenant, String name, ServerAddress vnc, String vncPassword, ServerAddress qmp) {
        this(id, tenant, name, vnc, vncPassword, qmp, null, null);
    }

    /** Whether the gateway serves this VM's screen from QEMU's D-Bus display. */
    public boolean dbusDisplay() {
        return dbus != null;
    }

    /** The QMP socket of a D-Bus display VM, or null. */
    public java.nio.file.Path dbusQmp() {
        return dbus == null ? null : dbus.qmp();
    }

    @Override
    public String toString() {
        return "VmConfig{id=" + id + ", tenant=" + tenant + ", vnc=" + vnc + ", password="
                + (vncPassword != null) + ", qmp=" + qmp + ", tls=" + (vncTls != null)
                + (dbus != null ? ", " + dbus : "") + "}";
    }
}
