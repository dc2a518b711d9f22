package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which X-Forwarded-For the gateway believes (listen.trustedProxies); HAProxy end to end: LoadBalancerTest. */
class TrustedProxiesTest {
    private static final TrustedProxies LB = TrustedProxies.parse(List.of("10.0.0.0/8", "192.0.2.7", "fd00::/8"));

    private static InetAddress ip(String s) {
        return TrustedProxies.literal(s);
    }

    private static String client(String peer, String... header) {
        return LB.client(ip(peer), List.of(header)).getHostAddress();
    }

    @Test
    void blocksAndSingleAddresses() {
        assertTrue(LB.trusts(ip("10.200.3.4")));
        assertTrue(LB.trusts(ip("192.0.2.7")));
        assertFalse(LB.trusts(ip("192.0.2.8")));
        assertFalse(LB.trusts(ip("11.0.0.1")));
        assertTrue(LB.trusts(ip("fd12::1")));
        assertFalse(LB.trusts(ip("fe80::1")));
        assertTrue(TrustedProxies.parse(List.of("0.0.0.0/0")).trusts(ip("198.51.100.1")));
        assertTrue(TrustedProxies.NONE.isEmpty());
        assertFalse(TrustedProxies.NONE.trusts(ip("127.0.0.1")));
    }

    @Test
    void anUntrustedPeerIsTheClientWhateverItsHeaderSays() {
        assertEquals("198.51.100.1", client("198.51.100.1", "203.0.113.9"));
        assertEquals("198.51.100.1", client("198.51.100.1"));
    }

    @Test
    void fromATrustedProxyTheRightmostUntrustedHopIsTheClient() {
        assertEquals("203.0.113.9", client("10.0.0.5", "203.0.113.9"));
        // The client forged an entry; the proxy appended what it saw, to the right: the forgery is never reached.
        assertEquals("198.51.100.1", client("10.0.0.5", "203.0.113.9, 198.51.100.1"));
        // Two proxies of ours in a row, and the header split over two lines (in the order received).
        assertEquals("198.51.100.1", client("10.0.0.5", "203.0.113.9", "198.51.100.1, 192.0.2.7"));
        // Only proxies of ours: the leftmost is as far as anyone can tell.
        assertEquals("10.1.1.1", client("10.0.0.5", "10.1.1.1, 10.2.2.2"));
        assertEquals("2001:db8:0:0:0:0:0:1", client("fd00::2", "2001:db8::1"));
        // A trusted proxy without the header, or with garbage in it: the last address that could be read.
        assertEquals("10.0.0.5", client("10.0.0.5"));
        assertEquals("10.0.0.5", client("10.0.0.5", "unknown"));
        assertEquals("192.0.2.7", client("10.0.0.5", "example.com, 192.0.2.7"));
        assertEquals("10.0.0.5", client("10.0.0.5", "300.1.1.1"));
    }

    @Test
    void onlyIpLiteralsAreRead() {
        assertEquals(null, TrustedProxies.literal("localhost"));
        assertEquals(null, TrustedProxies.literal("1.2.3"));
        assertEquals(null, TrustedProxies.literal("1.2.3.256"));
        assertEquals(null, TrustedProxies.literal("::g"));
        assertEquals("127.0.0.2", TrustedProxies.literal("127.0.0.2").getHostAddress());
    }

    @Test
    void theConfigurationFieldIsChecked() throws Exception {
        ObjectNode root = GatewayFixture.config();
        ((ObjectNode) root.get("listen")).putArray("trustedProxies").add("10.0.0.0/8").add("::1");
        GatewayConfig config = new ConfigLoader(Map.of()).parse(root.toString());
        assertTrue(config.trustedProxies().trusts(ip("10.9.9.9")));
        assertTrue(config.trustedProxies().trusts(ip("::1")));
        assertFalse(config.trustedProxies().trusts(ip("127.0.0.1")));
        assertTrue(new ConfigLoader(Map.of()).parse(GatewayFixture.config().toString()).trustedProxies().isEmpty());
        assertEquals("listen.trustedProxies[1]: expected an IP address or a CIDR block (10.0.0.0/8), got 'lb.example'",
                error(root, "10.0.0.1", "lb.example"));
        assertEquals("listen.trustedProxies[0]: the prefix of '10.0.0.0/33' must be 0-32", error(root, "10.0.0.0/33"));
        ((ObjectNode) root.get("listen")).put("trustedProxies", "10.0.0.1");
        assertEquals("listen.trustedProxies: expected a list of IP addresses or CIDR blocks",
                assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).parse(root.toString()))
                        .getMessage());
    }

    private static String error(ObjectNode root, String... entries) {
        var list = ((ObjectNode) root.get("listen")).putArray("trustedProxies");
        for (String e : entries) {
            list.add(e);
        }
        return assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).parse(root.toString()))
                .getMessage();
    }
}
