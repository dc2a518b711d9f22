package tmc.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import tmc.gateway.ConfigException;
import tmc.gateway.ConfigLoader;
import tmc.gateway.GatewayConfig;

class LibvirtSettingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static LibvirtSettings parse(String json) throws Exception {
        return LibvirtSettings.fromJson(JSON.readTree(json));
    }

    private static String refusal(String json) {
        return assertThrows(ConfigException.class, () -> parse(json)).getMessage();
    }

    @Test
    void accepted() throws Exception {
        assertEquals(new LibvirtSettings("qemu:///system", null), parse("{\"uri\": \"qemu:///system\"}"));
        assertEquals(new LibvirtSettings("qemu+unix:///system?socket=/tmp/x/libvirt-sock", "10.0.0.5"),
                parse("{\"uri\": \"qemu+unix:///system?socket=/tmp/x/libvirt-sock\", \"vncHost\": \"10.0.0.5\"}"));
        assertEquals("qemu+ssh://root@kvm1/system", parse("{\"uri\": \"qemu+ssh://root@kvm1/system\"}").uri());
    }

    @Test
    void refusedWithTheField() {
        assertEquals("libvirt.uri: required, a libvirt URI such as \"qemu:///system\"", refusal("{}"));
        assertEquals("libvirt.uri: required, a libvirt URI such as \"qemu:///system\"", refusal("{\"uri\": 5}"));
        assertEquals("libvirt.uri: the QEMU driver is needed (qemu:// or qemu+TRANSPORT://), got 'xen:///system'",
                refusal("{\"uri\": \"xen:///system\"}"));
        assertEquals("libvirt.url: unknown field (known: uri, vncHost)", refusal("{\"url\": \"qemu:///system\"}"));
        assertEquals("libvirt.vncHost: expected a host name or address, got \"a b\"",
                refusal("{\"uri\": \"qemu:///system\", \"vncHost\": \"a b\"}"));
        assertEquals("libvirt: expected an object like {\"uri\": \"qemu:///system\"}", refusal("\"qemu:///system\""));
        assertEquals("libvirt.uri: not a URI: Illegal character in authority at index 8: qemu://a b",
                refusal("{\"uri\": \"qemu://a b\"}"));
    }

    @Test
    void theGatewayConfigurationCarriesTheSection() throws Exception {
        GatewayConfig c = new ConfigLoader(java.util.Map.of()).parse("""
                {"allowedOrigins": [], "jwt": {"issuer": "i", "audience": "a",
                 "hs256Secret": "0123456789abcdef0123456789abcdef"}, "vms": [],
                 "libvirt": {"uri": "qemu:///system"}}""");
        LibvirtExtension.validate(c);
        ConfigException e = assertThrows(ConfigException.class, () -> LibvirtExtension.validate(
                new ConfigLoader(java.util.Map.of()).parse("""
                        {"allowedOrigins": [], "jwt": {"issuer": "i", "audience": "a",
                         "hs256Secret": "0123456789abcdef0123456789abcdef"}, "vms": [], "libvirt": {}}""")));
        assertEquals("libvirt.uri: required, a libvirt URI such as \"qemu:///system\"", e.getMessage());
    }
}
