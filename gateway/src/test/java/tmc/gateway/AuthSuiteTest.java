package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import java.io.IOException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tmc.testkit.WebSocketTransport;

/**
 * Proof 3: hostile tokens and requests, each refused with the right close code and reason, and a counting listener
 * standing in for the VMs proves that no refusal opened an upstream connection. Positive controls (one per
 * accepted algorithm, the cookie, the subprotocol, key rotation) reach a second listener, so the suite can fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuthSuiteTest {
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(15);

    private CountingListener refusedVms;
    private CountingListener admittedVm;
    private JwksServer jwks;
    private GatewayFixture gateway;
    private RSAKey rsa;
    private RSAKey attackerRsa;
    private ECKey ec;
    private KeyPair ed;
    private KeyPair attackerEd;
    private int admittedSoFar;

    @BeforeAll
    void start() throws Exception {
        refusedVms = new CountingListener();
        admittedVm = new CountingListener();
        rsa = new RSAKeyGenerator(2048).keyID("rsa").keyUse(KeyUse.SIGNATURE).generate();
        attackerRsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
        ed = ed25519();
        attackerEd = ed25519();
        jwks = new JwksServer(List.of(rsa, ec, okp("ed", ed)));
        ObjectNode config = GatewayFixture.config();
        ((ObjectNode) config.get("jwt")).put("jwksUrl", jwks.url()).put("jwksMinRefreshSeconds", 0);
        GatewayFixture.addVm(config, "vm1", "acme", refusedVms.address(), null);
        GatewayFixture.addVm(config, "vm2", "acme", refusedVms.address(), null);
        GatewayFixture.addVm(config, "other", "globex", refusedVms.address(), null);
        GatewayFixture.addVm(config, "ok", "acme", admittedVm.address(), null);
        ObjectNode limits = config.putObject("limits");
        limits.put("perToken", 1000).put("perUser", 1000);
        gateway = GatewayFixture.start(config);
    }

    @AfterAll
    void stop() throws Exception {
        gateway.close();
        jwks.close();
        refusedVms.close();
        admittedVm.close();
    }

    record Case(Supplier<String> token, String vm, Map<String, String> headers, int code, String reason) {
        @Override
        public String toString() {
            return "";
        }
    }

    Stream<Arguments> hostile() {
        Map<String, String> origin = Map.of("Origin", GatewayFixture.ORIGIN);
        String validPayload = claims().build().toString();
        return Stream.of(
                refused("no token", () -> null, 4401, "no ticket or token"),
                refused("empty token", () -> "", 4401, "no ticket or token"),
                refused("alg none, empty signature", () -> Tokens.raw("{\"alg\":\"none\"}", validPayload, ""),
                        4401, "unsigned tokens (alg none) are not accepted"),
                refused("alg none with a signature", () -> Tokens.raw("{\"alg\":\"none\"}", validPayload, "AAAA"),
                        4401, "unsigned tokens (alg none) are not accepted"),
                refused("alg None spelled differently", () -> Tokens.raw("{\"alg\":\"None\"}", validPayload, "AAAA"),
                        4401, "algorithm None is not accepted"),
                refused("algorithm switched to HS512", () -> Tokens.sign(new JWSHeader(JWSAlgorithm.HS512),
                        claims().build(), Tokens.macSigner(Tokens.SECRET.repeat(2).getBytes())),
                        4401, "algorithm HS512 is not accepted"),
                refused("algorithm switched to HS384", () -> Tokens.sign(new JWSHeader(JWSAlgorithm.HS384),
                        claims().build(), Tokens.macSigner(Tokens.SECRET.repeat(2).getBytes())),
                        4401, "algorithm HS384 is not accepted"),
                refused("HS/RS confusion: HS256 keyed with the RSA public key", () -> Tokens.sign(
                        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa").build(), claims().build(),
                        Tokens.macSigner(rsaPublicBytes())), 4401, "bad token signature"),
                refused("RS256 header over an HMAC signature", () -> swapHeader(Tokens.hs256(claims()),
                        "{\"alg\":\"RS256\",\"kid\":\"rsa\"}"), 4401, "bad token signature"),
                refused("PS256 with the trusted RSA key", () -> Tokens.sign(
                        new JWSHeader.Builder(JWSAlgorithm.PS256).keyID("rsa").build(), claims().build(),
                        rsaSigner(rsa)), 4401, "algorithm PS256 is not accepted"),
                refused("expired", () -> Tokens.hs256(claims().expirationTime(ago(600))), 4401, "token expired"),
                refused("expired RS256", () -> Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa")
                        .build(), claims().expirationTime(ago(600)).build(), rsaSigner(rsa)), 4401, "token expired"),
                refused("not yet valid", () -> Tokens.hs256(claims().notBeforeTime(ahead(600))),
                        4401, "token not valid yet (nbf)"),
                refused("issued in the future", () -> Tokens.hs256(claims().issueTime(ahead(600))),
                        4401, "token issued in the future (iat)"),
                refused("wrong aud", () -> Tokens.hs256(claims().audience("someone-else")),
                        4401, "token audience not accepted"),
                refused("no aud", () -> Tokens.hs256(claims().audience((String) null)), 4401,
                        "token has no aud claim"),
                refused("wrong iss", () -> Tokens.hs256(claims().issuer("https://evil.test")),
                        4401, "token issuer not accepted"),
                refused("no iss", () -> Tokens.hs256(claims().issuer(null)), 4401, "token has no iss claim"),
                refused("no exp", () -> Tokens.hs256(claims().expirationTime(null)), 4401, "token has no exp claim"),
                refused("no sub", () -> Tokens.hs256(claims().subject(null)), 4401, "token has no sub claim"),
                refused("tampered signature", () -> tamperSignature(Tokens.hs256(claims())), 4401,
                        "bad token signature"),
                refused("tampered payload (tenant changed)", () -> swapPayload(Tokens.hs256(claims()),
                        Tokens.claims("alice", "globex").build().toString()), 4401, "bad token signature"),
                refused("oversized token", () -> Tokens.hs256(claims().claim("pad", "x".repeat(9000))), 4401,
                        "token longer than 8192 bytes"),
                refused("one segment", () -> "not-a-jwt", 4401, "malformed token: expected three base64url segments"),
                refused("four segments", () -> Tokens.hs256(claims()) + ".AAAA", 4401,
                        "malformed token: expected three base64url segments"),
                refused("characters outside base64url", () -> "eyJ!.eyJ.AAAA", 4401,
                        "malformed token: segments must be base64url without padding"),
                refused("header is not JSON", () -> Tokens.raw("not json", validPayload, "AAAA"), 4401,
                        "malformed token header"),
                refused("unknown kid", () -> Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("nope")
                        .build(), claims().build(), rsaSigner(attackerRsa)), 4401, "unknown key id nope"),
                refused("trusted kid, attacker's RSA key", () -> Tokens.sign(new JWSHeader.Builder(
                        JWSAlgorithm.RS256).keyID("rsa").build(), claims().build(), rsaSigner(attackerRsa)),
                        4401, "bad token signature"),
                refused("attacker's key embedded in the header (jwk)", () -> Tokens.sign(new JWSHeader.Builder(
                        JWSAlgorithm.RS256).jwk(attackerRsa.toPublicJWK()).keyID("attacker").build(),
                        claims().build(), rsaSigner(attackerRsa)), 4401, "unknown key id attacker"),
                refused("trusted kid, attacker's Ed25519 key", () -> Tokens.ed25519("ed", claims().build(),
                        attackerEd.getPrivate()), 4401, "bad token signature"),
                refused("critical header", () -> Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256)
                        .criticalParams(Set.of("tmc-x")).customParam("tmc-x", 1).build(), claims().build(),
                        Tokens.macSigner(Tokens.SECRET.getBytes())), 4401,
                        "token has critical header parameters the gateway does not understand"),
                refused("foreign token type", () -> Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256)
                        .type(new JOSEObjectType("dpop+jwt")).build(), claims().build(),
                        Tokens.macSigner(Tokens.SECRET.getBytes())), 4401, "token type dpop+jwt is not accepted"),
                refused("view_only is not a boolean", () -> Tokens.hs256(claims().claim("view_only", "no")), 4401,
                        "token claim view_only must be a boolean"),
                refused("vms is not a list", () -> Tokens.hs256(claims().claim("vms", "vm1")), 4401,
                        "token claim vms must be a list of strings"),
                refused("other tenant's VM", () -> Tokens.hs256(claims()), "other", origin, 4403,
                        "the token does not allow this VM"),
                refused("VM not in vms", () -> Tokens.hs256(claims().claim("vms", List.of("vm2"))), "vm1", origin,
                        4403, "the token does not allow this VM"),
                refused("no tenant claim", () -> Tokens.hs256(Tokens.claims("alice", null)), "vm1", origin, 4403,
                        "the token names no tenant"),
                refused("unknown VM: the same words as another tenant's", () -> Tokens.hs256(claims()), "nope", origin,
                        4403, "the token does not allow this VM"),
                refused("unknown VM without a token", () -> null, "nope", origin, 4401, "no ticket or token"),
                refused("token in the tmc_token cookie", () -> null, "vm1", Map.of("Origin", GatewayFixture.ORIGIN,
                        "Cookie", "tmc_token=" + Tokens.hs256(claims())), 4401, Admission.TOKEN_COOKIE_REFUSED),
                refused("bad Origin", () -> Tokens.hs256(claims()), "vm1", Map.of("Origin", "http://evil.test"),
                        4403, "origin not allowed"),
                refused("no Origin", () -> Tokens.hs256(claims()), "vm1", Map.of(), 4403,
                        "the request has no Origin header"));
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void refused(String name, Case c) throws Exception {
        try (WebSocketTransport ws = gateway.open(c.vm(), c.token().get(), c.headers(), List.of())) {
            WebSocketTransport.Close close = ws.awaitClose(CLOSE_TIMEOUT);
            assertEquals(c.code() + " " + c.reason(), close.code() + " " + close.reason(), name);
        }
    }

    @Order(1)
    @Test
    void replayedJtiIsRefused() throws Exception {
        String token = Tokens.hs256(claims().jwtID("once-" + System.nanoTime()));
        assertAdmitted(token, Map.of("Origin", GatewayFixture.ORIGIN), List.of());
        try (WebSocketTransport ws = gateway.open("vm1", token)) {
            WebSocketTransport.Close close = ws.awaitClose(CLOSE_TIMEOUT);
            assertEquals("4401 token already used (jti is single-use)", close.code() + " " + close.reason());
        }
    }

    @Order(1)
    @Test
    void hugeTokenIsRefusedAtTheHttpLevel() {
        String token = Tokens.hs256(claims().claim("pad", "x".repeat(64 * 1024)));
        IOException e = assertThrows(IOException.class, () -> gateway.open("vm1", token).close());
        assertTrue(e.getMessage().contains("HTTP 414") || e.getMessage().contains("HTTP 431"), e.getMessage());
    }

    @Order(2)
    @Test
    void validTokensOfEveryAlgorithmReachTheVm() throws Exception {
        Map<String, String> origin = Map.of("Origin", GatewayFixture.ORIGIN);
        assertAdmitted(Tokens.hs256(claims()), origin, List.of());
        assertAdmitted(Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa").build(),
                claims().build(), rsaSigner(rsa)), origin, List.of());
        assertAdmitted(Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec").build(),
                claims().build(), ecSigner(ec)), origin, List.of());
        assertAdmitted(Tokens.ed25519("ed", claims().build(), ed.getPrivate()), origin, List.of());
        assertAdmitted(Tokens.ed25519("Ed25519", "ed", claims().build(), ed.getPrivate()), origin, List.of());
        // Within the clock skew, and with the subprotocol noVNC can be told to ask for.
        assertAdmitted(Tokens.hs256(claims().expirationTime(ago(10))), origin, List.of("binary"));
    }

    @Order(2)
    @Test
    void rotatedKeyIsFetchedOnUnknownKid() throws Exception {
        RSAKey rotated = new RSAKeyGenerator(2048).keyID("rotated-" + System.nanoTime()).generate();
        jwks.add(rotated);
        int fetches = jwks.fetches();
        assertAdmitted(Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(rotated.getKeyID()).build(),
                claims().build(), rsaSigner(rotated)), Map.of("Origin", GatewayFixture.ORIGIN), List.of());
        assertTrue(jwks.fetches() > fetches, "the JWKS was fetched again");
    }

    @Order(3)
    @Test
    void noRefusalOpenedAnUpstreamConnection() {
        assertEquals(0, refusedVms.accepted(), "connections to VMs whose sessions were refused");
        assertTrue(admittedVm.accepted() >= 8, "admitted sessions reached their VM: " + admittedVm.accepted());
    }

    /** An admitted session connects to the listener, which hangs up: the browser then sees 4502. */
    private void assertAdmitted(String token, Map<String, String> headers, List<String> subprotocols)
            throws Exception {
        int before = admittedVm.accepted();
        try (WebSocketTransport ws = gateway.open("ok", token, headers, subprotocols)) {
            WebSocketTransport.Close close = ws.awaitClose(CLOSE_TIMEOUT);
            assertEquals("4502 the VM's VNC server failed the RFB handshake", close.code() + " " + close.reason());
            if (!subprotocols.isEmpty()) {
                assertEquals("binary", ws.subprotocol());
            }
        }
        assertTrue(admittedVm.accepted() > before, "the admitted session connected to its VM");
        admittedSoFar++;
    }

    // ===== helpers =====

    private static Arguments refused(String name, Supplier<String> token, int code, String reason) {
        return refused(name, token, "vm1", Map.of("Origin", GatewayFixture.ORIGIN), code, reason);
    }

    private static Arguments refused(String name, Supplier<String> token, String vm, Map<String, String> headers,
            int code, String reason) {
        return Arguments.of(name, new Case(token, vm, headers, code, reason));
    }

    private static JWTClaimsSet.Builder claims() {
        return Tokens.claims("alice", "acme");
    }

    private static Date ago(int seconds) {
        return Date.from(Instant.now().minusSeconds(seconds));
    }

    private static Date ahead(int seconds) {
        return Date.from(Instant.now().plusSeconds(seconds));
    }

    private byte[] rsaPublicBytes() {
        try {
            return rsa.toRSAPublicKey().getEncoded();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSSigner rsaSigner(RSAKey key) {
        try {
            return new RSASSASigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSSigner ecSigner(ECKey key) {
        try {
            return new ECDSASigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ed25519() throws NoSuchAlgorithmException {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    private static OctetKeyPair okp(String kid, KeyPair pair) {
        byte[] spki = pair.getPublic().getEncoded();
        byte[] x = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
        return new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(x)).keyID(kid).build();
    }

    private static String tamperSignature(String token) {
        int last = token.length() - 5;
        char c = token.charAt(last);
        return token.substring(0, last) + (c == 'A' ? 'B' : 'A') + token.substring(last + 1);
    }

    private static String swapPayload(String token, String payloadJson) {
        String[] parts = token.split("\\.");
        return parts[0] + "." + Base64URL.encode(payloadJson) + "." + parts[2];
    }

    private static String swapHeader(String token, String headerJson) {
        String[] parts = token.split("\\.");
        return Base64URL.encode(headerJson) + "." + parts[1] + "." + parts[2];
    }
}
