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
 */
public record VmConfig(String id, String tenant, String name, ServerAddress vnc, String vncPassword,
        ServerAddress qmp, VncTls vncTls) {

    /** A VM reached without TLS. */
    public VmConfig(String id, String tenant, String name, ServerAddress vnc, String vncPassword, ServerAddress qmp) {
        this(id, tenant, name, vnc, vncPassword, qmp, null);
    }

    @Override
    public String toString() {
        return "VmConfig{id=" + id + ", tenant=" + tenant + ", vnc=" + vnc + ", password="
                + (vncPassword != null) + ", qmp=" + qmp + ", tls=" + (vncTls != null) + "}";
    }
}
