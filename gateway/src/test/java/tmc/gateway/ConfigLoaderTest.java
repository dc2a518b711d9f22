package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import tmc.rfb.ServerAddress;

class ConfigLoaderTest {
    private static String error(Consumer<ObjectNode> edit) {
        return error(edit, Map.of());
    }

    private static String error(Consumer<ObjectNode> edit, Map<String, String> env) {
        ObjectNode config = GatewayFixture.config();
        GatewayFixture.addVm(config, "vm1", "acme", "tcp:127.0.0.1:5901", null);
        GatewayFixture.addVm(config, "vm2", "acme", "unix:/run/vm2.sock", "pw");
        edit.accept(config);
        return assertThrows(ConfigException.class, () -> new ConfigLoader(env).parse(config.toString())).getMessage();
    }

    private static ObjectNode vm(ObjectNode config, int i) {
        return (ObjectNode) config.get("vms").get(i);
    }

    @Test
    void theExampleConfigIsValid() throws Exception {
        GatewayConfig config = new ConfigLoader(Map.of()).load(Path.of("config/example.json"));
        assertEquals(2, config.vms().size());
        VmConfig first = config.vms().get(0);
        assertEquals(ServerAddress.unix(Path.of("/run/tmc/demo-1/vnc.sock")), first.vnc());
        assertEquals(null, first.vncPassword());
        assertEquals("tmc-admin", config.adminJwt().audience());
        assertEquals("https://sso.example.test/realms/ops", config.adminJwt().issuer());
        assertEquals(ServerAddress.unix(Path.of("/run/tmc/demo-1/qmp.sock")), first.qmp());
        assertEquals(ServerAddress.unix(Path.of("/run/tmc/demo-2/vnc.sock")), config.vms().get(1).vnc());
        assertEquals("realm_access.roles", config.jwt().roleClaim());
        assertEquals(Duration.ofSeconds(30), config.limits().pingInterval());
    }

    @Test
    void defaultsAndExtensionSections() throws Exception {
        ObjectNode root = GatewayFixture.config();
        root.putObject("store").put("path", "/var/lib/tmc/db");
        root.putArray("webhooks").addObject().put("url", "https://hooks.example.test/");
        GatewayConfig config = new ConfigLoader(Map.of()).parse(root.toString());
        assertEquals(Limits.DEFAULTS, config.limits());
        assertEquals("/var/lib/tmc/db", config.section("store").orElseThrow().path("path").asText());
        assertTrue(config.section("webhooks").orElseThrow().isArray());
        assertEquals("roles", config.jwt().roleClaim());
        assertEquals(Duration.ofSeconds(30), config.jwt().clockSkew());
    }

    @Test
    void adminsAreATrustDomainOfTheirOwn() throws Exception {
        GatewayConfig shared = new ConfigLoader(Map.of()).parse(GatewayFixture.config().toString());
        assertEquals(Tokens.ADMIN_AUDIENCE, shared.adminJwt().audience());
        assertEquals(Tokens.ISSUER, shared.adminJwt().issuer());
        org.junit.jupiter.api.Assertions.assertArrayEquals(shared.jwt().hs256Secret(), shared.adminJwt().hs256Secret());
        assertEquals(Duration.ofSeconds(20), shared.ticketTtl());
        assertEquals(null, shared.jwt().maxTokenAge());

        ObjectNode root = GatewayFixture.config();
        ((ObjectNode) root.get("jwt")).put("maxTokenAgeSeconds", 3600).put("ticketTtlSeconds", 10)
                .putObject("admin").put("issuer", "https://ops.example").put("audience", "ops")
                .put("jwksUrl", "https://ops.example/jwks");
        GatewayConfig own = new ConfigLoader(Map.of()).parse(root.toString());
        assertEquals("https://ops.example", own.adminJwt().issuer());
        assertEquals("ops", own.adminJwt().audience());
        assertEquals(null, own.adminJwt().hs256Secret(), "own keys: the tenants' secret does not sign admin tokens");
        assertEquals("https://ops.example/jwks", own.adminJwt().jwksUrl().toString());
        assertEquals(Duration.ofHours(1), own.adminJwt().maxTokenAge());
        assertEquals(Duration.ofSeconds(10), own.ticketTtl());

        GatewayConfig byEnv = new ConfigLoader(Map.of("TMC_JWT_ADMIN_HS256_SECRET", "admin-secret-0123456789abcdef-0123"))
                .parse(GatewayFixture.config().toString());
        assertEquals("admin-secret-0123456789abcdef-0123", new String(byEnv.adminJwt().hs256Secret(),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void badFieldsAreNamed() {
        assertEquals("vms[1].vnc: expected tcp:HOST:PORT or unix:/PATH, got 'vnc.example:5900'",
                error(c -> vm(c, 1).put("vnc", "vnc.example:5900")));
        assertEquals("vms[0].vnc: expected a port 1-65535 in 'tcp:127.0.0.1:99999'",
                error(c -> vm(c, 0).put("vnc", "tcp:127.0.0.1:99999")));
        assertEquals("vms[0].qmp: expected an absolute path after unix:, got 'unix:qmp.sock'",
                error(c -> vm(c, 0).put("qmp", "unix:qmp.sock")));
        assertEquals("vms[1].id: duplicate id 'vm1'", error(c -> vm(c, 1).put("id", "vm1")));
        assertEquals("vms[0].id: 1-64 characters of A-Z a-z 0-9 . _ -, got 'a b'",
                error(c -> vm(c, 0).put("id", "a b")));
        assertEquals("vms[0].tenant: required, a non-empty string", error(c -> vm(c, 0).remove("tenant")));
        assertEquals("vms[0].vnc_password: unknown field", error(c -> vm(c, 0).put("vnc_password", "x")));
        assertEquals("vms[1].vncPassword: a VNC password has 1-8 characters",
                error(c -> vm(c, 1).put("vncPassword", "longer-than-8")));
        assertEquals("colour: unknown field", error(c -> c.put("colour", "blue")));
        assertEquals("jwt: required, an object", error(c -> c.remove("jwt")));
        assertEquals("jwt.audience: required, a non-empty string",
                error(c -> ((ObjectNode) c.get("jwt")).remove("audience")));
        assertEquals("jwt.hs256Secret: an HS256 secret needs at least 32 bytes (256 bits), got 5",
                error(c -> ((ObjectNode) c.get("jwt")).put("hs256Secret", "short")));
        assertEquals("jwt: set hs256Secret (or TMC_JWT_HS256_SECRET) or jwksUrl",
                error(c -> ((ObjectNode) c.get("jwt")).remove("hs256Secret")));
        assertEquals("jwt.jwksUrl: expected an https URL, got 'file:/etc/keys'",
                error(c -> ((ObjectNode) c.get("jwt")).put("jwksUrl", "file:/etc/keys")));
        assertEquals("jwt.jwksUrl: must be https (plain http is allowed only to a loopback address), got"
                + " 'http://idp.example/jwks'",
                error(c -> ((ObjectNode) c.get("jwt")).put("jwksUrl", "http://idp.example/jwks")));
        assertEquals("jwt.admin.jwksUrl: must be https (plain http is allowed only to a loopback address), got"
                + " 'http://idp.example/jwks'",
                error(c -> ((ObjectNode) c.get("jwt")).putObject("admin").put("jwksUrl", "http://idp.example/jwks")));
        assertEquals("jwt.admin.audience: must differ from jwt.audience (admins are a trust domain of their own)",
                error(c -> ((ObjectNode) c.get("jwt")).putObject("admin").put("audience",
                        c.get("jwt").get("audience").asText())));
        assertEquals("jwt.admin.color: unknown field",
                error(c -> ((ObjectNode) c.get("jwt")).putObject("admin").put("color", "red")));
        assertEquals("jwt.ticketTtlSeconds: expected an integer 1-30, got 60",
                error(c -> ((ObjectNode) c.get("jwt")).put("ticketTtlSeconds", 60)));
        assertEquals("jwt.jwksAlgorithms[0]: 'HS256' is not one of RS256, ES256, EdDSA",
                error(c -> ((ObjectNode) c.get("jwt")).putArray("jwksAlgorithms").add("HS256")));
        assertEquals("jwt.clockSkewSeconds: expected an integer 0-300, got 3600",
                error(c -> ((ObjectNode) c.get("jwt")).put("clockSkewSeconds", 3600)));
        assertEquals("limits.perVm: expected an integer 1-100000, got 0",
                error(c -> c.putObject("limits").put("perVm", 0)));
        assertEquals("limits.maxInFlightBytes: must be at least limits.chunkBytes (262144)",
                error(c -> c.putObject("limits").put("maxInFlightBytes", 4096)));
        assertEquals("limits.viewOnlyGuestClipboard: expected true or false, got \"yes\"",
                error(c -> c.putObject("limits").put("viewOnlyGuestClipboard", "yes")));
        assertEquals("allowedOrigins[0]: expected scheme://host[:port] with no path, got \"http://a.test/path\"",
                error(c -> ((ArrayNode) c.get("allowedOrigins")).insert(0, "http://a.test/path")));
        assertEquals("listen.port: expected an integer 0-65535, got \"80\"",
                error(c -> ((ObjectNode) c.get("listen")).put("port", "80")));
        assertTrue(error(c -> { }, Map.of("TMC_LISTEN_PORT", "http")).startsWith("TMC_LISTEN_PORT"));
    }

    @Test
    void notJson() {
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).parse("{\"vms\": ["));
        assertTrue(e.getMessage().startsWith("not valid JSON: "), e.getMessage());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void secretsFromTheEnvironment() throws Exception {
        ObjectNode root = GatewayFixture.config();
        ((ObjectNode) root.get("jwt")).remove("hs256Secret");
        GatewayFixture.addVm(root, "demo-1", "acme", "tcp:127.0.0.1:5901", "file-pw");
        GatewayFixture.addVm(root, "demo-2", "acme", "tcp:127.0.0.1:5902", null);
        String secret = "an-environment-secret-of-32-bytes!!";
        GatewayConfig config = new ConfigLoader(Map.of("TMC_JWT_HS256_SECRET", secret,
                "TMC_VNC_PASSWORD_DEMO_1", "env-pw", "TMC_LISTEN_PORT", "9999")).parse(root.toString());
        assertArrayEquals(secret.getBytes(StandardCharsets.UTF_8), config.jwt().hs256Secret());
        assertEquals("env-pw", config.vm("demo-1").orElseThrow().vncPassword());
        assertNull(config.vm("demo-2").orElseThrow().vncPassword());
        assertEquals(9999, config.port());
        assertEquals("TMC_JWT_HS256_SECRET: an HS256 secret needs at least 32 bytes (256 bits), got 3",
                error(c -> { }, Map.of("TMC_JWT_HS256_SECRET", "abc")));
        // base64: secrets, as make demo writes them
        ((ObjectNode) root.get("jwt")).put("hs256Secret", "base64:" + java.util.Base64.getEncoder()
                .encodeToString(new byte[32]));
        assertArrayEquals(new byte[32], new ConfigLoader(Map.of()).parse(root.toString()).jwt().hs256Secret());
    }

    @Test
    void secretsNeverAppearInToString() throws Exception {
        ObjectNode root = GatewayFixture.config();
        GatewayFixture.addVm(root, "vm1", "acme", "tcp:127.0.0.1:5901", "pw123");
        GatewayConfig config = new ConfigLoader(Map.of()).parse(root.toString());
        String text = config.toString();
        assertTrue(!text.contains("pw123") && !text.contains(Tokens.SECRET), text);
    }
}
