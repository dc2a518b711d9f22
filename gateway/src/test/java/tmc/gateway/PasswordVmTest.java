package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;

/**
 * Proof 2: a VM whose VNC server requires a password. The gateway authenticates with the configured password; the
 * browser is offered security type None only and never learns it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PasswordVmTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String PASSWORD = "s3cret";

    private TestVm vm;
    private GatewayFixture gateway;

    @BeforeAll
    void start() throws Exception {
        vm = TestVm.builder().name("gw-password").vncPassword(PASSWORD).start();
        String vnc = "tcp:127.0.0.1:" + vm.vncPort();
        ObjectNode config = GatewayFixture.config();
        GatewayFixture.addVm(config, "vm1", "acme", vnc, PASSWORD);
        GatewayFixture.addVm(config, "wrong-password", "acme", vnc, "nope");
        GatewayFixture.addVm(config, "no-password", "acme", vnc, null);
        gateway = GatewayFixture.start(config);
    }

    @AfterAll
    void stop() {
        RealVm.close(gateway, vm);
    }

    private static String token() {
        return Tokens.hs256(Tokens.claims("alice", "acme"));
    }

    @Test
    void gatewayAuthenticatesAndTheBrowserSeesTheSamePicture() throws Exception {
        vm.serial().command("say proof-two behind a password", WAIT);
        try (RfbClient direct = RfbClient.connect("127.0.0.1", vm.vncPort(), PASSWORD);
                WebSocketTransport ws = gateway.open("vm1", token());
                RfbClient proxied = RfbClient.connect(ws, null)) {
            RealVm.awaitNonBlank(direct);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline && !Arrays.equals(direct.pixels(), proxied.pixels())) {
                Thread.sleep(100);
            }
            assertEquals(direct.serverName(), proxied.serverName());
            assertArrayEquals(direct.pixels(), proxied.pixels());
        }
    }

    @Test
    void theBrowserIsOfferedSecurityTypeNoneOnly() throws Exception {
        try (WebSocketTransport ws = gateway.open("vm1", token())) {
            DataInputStream in = new DataInputStream(ws.in());
            byte[] version = new byte[12];
            in.readFully(version);
            assertEquals("RFB 003.008\n", new String(version, StandardCharsets.US_ASCII));
            ws.out().write(version);
            ws.out().flush();
            byte[] types = new byte[in.readUnsignedByte()];
            in.readFully(types);
            assertArrayEquals(new byte[] {1}, types, "security types offered to the browser");
        }
    }

    @Test
    void wrongOrMissingPasswordIsA4502() throws Exception {
        for (String id : new String[] {"wrong-password", "no-password"}) {
            try (WebSocketTransport ws = gateway.open(id, token())) {
                WebSocketTransport.Close close = ws.awaitClose(WAIT);
                assertEquals("4502 VNC authentication with the VM failed", close.code() + " " + close.reason(), id);
            }
        }
    }
}
