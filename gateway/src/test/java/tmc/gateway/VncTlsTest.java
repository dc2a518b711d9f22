package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;

/**
 * The way to a VM across a network: VeNCrypt x509 TLS from the gateway to QEMU's VNC server, the VM's CA pinned.
 * Real parts: Debian's QEMU (built with GnuTLS) serving a second VNC display with {@code tls-creds-x509}
 * ({@code verify-peer=on}: the gateway must show its client certificate), certificates made with openssl. A
 * session through the gateway shows the VM's screen; a gateway pinning another CA, or without its client
 * certificate, gets 4502 and no picture.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VncTlsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Path certs;
    private TestVm vm;
    private int tlsPort;
    private GatewayFixture gateway;

    @BeforeAll
    void start() throws Exception {
        certs = Files.createTempDirectory(Files.createDirectories(TestEnv.buildDir()), "vnc-tls-");
        Path qemuDir = Files.createDirectories(certs.resolve("qemu"));
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=tmc test CA", "-keyout", certs.resolve("ca-key.pem"), "-out", qemuDir.resolve("ca-cert.pem"));
        issue("server", "IP:127.0.0.1", qemuDir.resolve("server-key.pem"), qemuDir.resolve("server-cert.pem"));
        issue("gateway", "DNS:gateway.tmc.test", certs.resolve("client-key.pem"), certs.resolve("client-cert.pem"));
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=another CA", "-keyout", certs.resolve("other-key.pem"), "-out", certs.resolve("other-ca.pem"));

        tlsPort = freeVncPort();
        vm = TestVm.builder().name("gw-vnc-tls").qemu(TestEnv.stockQemu()).extraArgs(
                "-object", "tls-creds-x509,id=tls0,dir=" + qemuDir + ",endpoint=server,verify-peer=on",
                "-vnc", "127.0.0.1:" + (tlsPort - 5900) + ",id=tlsvnc,tls-creds=tls0").start();

        ObjectNode config = GatewayFixture.config();
        String address = "tcp:127.0.0.1:" + tlsPort;
        ArrayNode vms = (ArrayNode) config.get("vms");
        vms.addObject().put("id", "tls").put("tenant", "acme").put("vnc", address).putObject("vncTls")
                .put("ca", qemuDir.resolve("ca-cert.pem").toString())
                .put("clientCert", certs.resolve("client-cert.pem").toString())
                .put("clientKey", certs.resolve("client-key.pem").toString());
        vms.addObject().put("id", "wrong-ca").put("tenant", "acme").put("vnc", address).putObject("vncTls")
                .put("ca", certs.resolve("other-ca.pem").toString())
                .put("clientCert", certs.resolve("client-cert.pem").toString())
                .put("clientKey", certs.resolve("client-key.pem").toString());
        vms.addObject().put("id", "no-client-cert").put("tenant", "acme").put("vnc", address).putObject("vncTls")
                .put("ca", qemuDir.resolve("ca-cert.pem").toString());
        vms.addObject().put("id", "plain").put("tenant", "acme").put("vnc", address);
        config.putObject("limits").put("perToken", 100).put("perUser", 100);
        gateway = GatewayFixture.start(config);
    }

    @AfterAll
    void stop() {
        RealVm.close(gateway, vm);
    }

    @Test
    void theSessionReachesTheVmOverTls() throws Exception {
        try (WebSocketTransport ws = gateway.open("tls", token()); RfbClient rfb = RfbClient.connect(ws, null)) {
            RealVm.awaitNonBlank(rfb);
            assertTrue(rfb.width() > 0 && rfb.height() > 0);
        }
    }

    @Test
    void anotherCaOrNoClientCertificateGetsNoPicture() throws Exception {
        for (String id : List.of("wrong-ca", "no-client-cert", "plain")) {
            try (WebSocketTransport ws = gateway.open(id, token())) {
                WebSocketTransport.Close close = ws.awaitClose(WAIT);
                assertEquals(4502, close.code(), id + ": " + close.reason());
            }
        }
    }

    @Test
    void badTlsSettingsStopTheStart(@TempDir Path dir) throws Exception {
        ObjectNode unix = GatewayFixture.config();
        ((ArrayNode) unix.get("vms")).addObject().put("id", "u").put("tenant", "acme").put("vnc", "unix:/run/u.sock")
                .putObject("vncTls").put("ca", certs.resolve("other-ca.pem").toString());
        assertEquals("vms[0].vncTls: TLS is for a VNC server on TCP; a unix socket needs none", error(unix));
        Path garbage = Files.writeString(dir.resolve("ca.pem"), "not a certificate");
        ObjectNode bad = GatewayFixture.config();
        ((ArrayNode) bad.get("vms")).addObject().put("id", "b").put("tenant", "acme").put("vnc", "tcp:10.0.0.5:5901")
                .putObject("vncTls").put("ca", garbage.toString());
        assertTrue(error(bad).startsWith("vms[0].vncTls: "), error(bad));
        ObjectNode keyOnly = GatewayFixture.config();
        ((ArrayNode) keyOnly.get("vms")).addObject().put("id", "k").put("tenant", "acme")
                .put("vnc", "tcp:10.0.0.5:5901").putObject("vncTls").put("ca", certs.resolve("other-ca.pem").toString())
                .put("clientKey", certs.resolve("client-key.pem").toString());
        assertEquals("vms[0].vncTls: a client certificate needs its key, and a key its certificate", error(keyOnly));
    }

    private static String error(ObjectNode config) {
        return assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).parse(config.toString()))
                .getMessage();
    }

    private static String token() {
        return Tokens.hs256(Tokens.claims("alice", "acme"));
    }

    private void issue(String name, String san, Path key, Path cert) throws Exception {
        Path csr = certs.resolve(name + ".csr");
        Path ext = Files.writeString(certs.resolve(name + ".ext"), "subjectAltName=" + san + "\n");
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                "/CN=" + name, "-keyout", key, "-out", csr);
        openssl("x509", "-req", "-in", csr, "-CA", certs.resolve("qemu/ca-cert.pem"), "-CAkey",
                certs.resolve("ca-key.pem"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert);
    }

    private static void openssl(Object... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        for (Object a : args) {
            cmd.add(a.toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    }

    /** A free TCP port from 5900 up: QEMU's -vnc takes a display number. */
    private static int freeVncPort() throws IOException {
        for (int i = 0; i < 200; i++) {
            int port = 5900 + ThreadLocalRandom.current().nextInt(2000, 8000);
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no free VNC port");
    }
}
