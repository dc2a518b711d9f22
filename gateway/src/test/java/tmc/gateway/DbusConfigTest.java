package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code "display": {"dbus": {"qmp": ...}}}: a VM on stock QEMU whose screen the gateway serves itself. */
class DbusConfigTest {
    private static String config(String vm) {
        return "{\"listen\":{\"host\":\"127.0.0.1\",\"port\":0},\"allowedOrigins\":[\"http://x\"],"
                + "\"jwt\":{\"issuer\":\"i\",\"audience\":\"a\",\"hs256Secret\":\"0123456789abcdef0123456789abcdef\"},"
                + "\"vms\":[" + vm + "]}";
    }

    private static String refusal(String vm) {
        return assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).parse(config(vm))).getMessage();
    }

    @Test
    void aDbusDisplayVmNeedsNoVncServer() throws Exception {
        GatewayConfig c = new ConfigLoader(Map.of()).parse(config(
                "{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/run/tmc/vm1.qmp\"}}}"));
        VmConfig vm = c.vms().get(0);
        assertTrue(vm.dbusDisplay());
        assertEquals(Path.of("/run/tmc/vm1.qmp"), vm.dbusQmp());
        assertNull(vm.vnc());
    }

    @Test
    void nativeViewersGetAListenerBehindAPassword() throws Exception {
        String vm = "{\"id\":\"vm-1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\","
                + "\"vncListen\":\"tcp:127.0.0.1:0\",\"vncPassword\":\"secret1\"}}}";
        DbusDisplayConfig d = new ConfigLoader(Map.of()).parse(config(vm)).vms().get(0).dbus();
        assertEquals("127.0.0.1", d.vncListen().getHostString());
        assertEquals(0, d.vncListen().getPort());
        assertEquals("secret1", d.vncPassword());
        // The operator's environment wins over the file, as for a VNC server's password.
        assertEquals("fromenv", new ConfigLoader(Map.of("TMC_VNC_PASSWORD_VM_1", "fromenv")).parse(config(vm))
                .vms().get(0).dbus().vncPassword());
        assertNull(new ConfigLoader(Map.of()).parse(config(
                "{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\"}}}"))
                .vms().get(0).dbus().vncListen());
    }

    @Test
    void aListenerWithoutAPasswordIsRefused() {
        assertEquals("vms[0].display.dbus.vncListen: native viewers must authenticate: set "
                + "vms[0].display.dbus.vncPassword (or TMC_VNC_PASSWORD_VM1)",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\","
                        + "\"vncListen\":\"tcp:0.0.0.0:5901\"}}}"));
        assertEquals("vms[0].display.dbus.vncPassword: a password is for the native viewers' listener; set "
                + "vms[0].display.dbus.vncListen too",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\","
                        + "\"vncPassword\":\"pw\"}}}"));
        assertEquals("vms[0].display.dbus.vncPassword: a VNC password has 1-8 characters",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\","
                        + "\"vncListen\":\"tcp:127.0.0.1:5901\",\"vncPassword\":\"123456789\"}}}"));
        assertEquals("vms[0].display.dbus.vncListen: native viewers connect over TCP (tcp:HOST:PORT)",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\","
                        + "\"vncListen\":\"unix:/tmp/v\",\"vncPassword\":\"pw\"}}}"));
        assertEquals("vms[0].display.dbus.vncListen: expected a port 0-65535 in 'tcp:127.0.0.1:70000'",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\","
                        + "\"vncListen\":\"tcp:127.0.0.1:70000\",\"vncPassword\":\"pw\"}}}"));
        // The VM-level vncPassword is a VNC server's, which this VM has not.
        assertEquals("vms[0].display.dbus: the gateway serves this VM's screen itself; drop vnc, vncPassword, "
                + "vncTls and qmp",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"vncPassword\":\"pw\","
                        + "\"display\":{\"dbus\":{\"qmp\":\"unix:/q\"}}}"));
    }

    @Test
    void mistakesAreNamed() {
        assertEquals("vms[0].display.dbus: the gateway serves this VM's screen itself; drop vnc, vncPassword, vncTls and "
                + "qmp",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"vnc\":\"tcp:127.0.0.1:5900\","
                        + "\"display\":{\"dbus\":{\"qmp\":\"unix:/q\"}}}"));
        assertTrue(refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"tcp:127.0.0.1:4444\"}}}")
                .startsWith("vms[0].display.dbus.qmp: must be a unix socket"));
        assertEquals("vms[0].display.spice: unknown field",
                refusal("{\"id\":\"vm1\",\"tenant\":\"t\",\"display\":{\"dbus\":{\"qmp\":\"unix:/q\"},\"spice\":1}}"));
        assertEquals("vms[0].vnc: required, a non-empty string", refusal("{\"id\":\"vm1\",\"tenant\":\"t\"}"));
    }
}
