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
