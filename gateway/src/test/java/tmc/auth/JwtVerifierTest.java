package tmc.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Time and claim rules of {@link JwtVerifier} on a fixed clock. */
class JwtVerifierTest {
    private static final byte[] SECRET = "jwt-verifier-test-secret-0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

    private final JwtVerifier verifier = new JwtVerifier(new JwtSettings("iss", "aud", SECRET, null,
            JwtSettings.ASYMMETRIC_ALGORITHMS, Duration.ofSeconds(30), 8192, "realm_access.roles", "tmc-admin",
            Duration.ofMinutes(5), Duration.ofSeconds(30)), Clock.fixed(NOW, ZoneOffset.UTC));

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().issuer("iss").audience(List.of("other", "aud")).subject("alice")
                .expirationTime(Date.from(NOW.plusSeconds(60))).claim("tenant", "acme");
    }

    private static String sign(JWTClaimsSet.Builder claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
        jwt.sign(new MACSigner(SECRET));
        return jwt.serialize();
    }

    private String refusal(JWTClaimsSet.Builder claims) {
        return assertThrows(AuthException.class, () -> verifier.verify(sign(claims))).getMessage();
    }

    @Test
    void clockSkewIsHonouredAndBounded() throws Exception {
        verifier.verify(sign(claims().expirationTime(Date.from(NOW.minusSeconds(30)))));
        assertEquals("token expired", refusal(claims().expirationTime(Date.from(NOW.minusSeconds(31)))));
        verifier.verify(sign(claims().notBeforeTime(Date.from(NOW.plusSeconds(30)))));
        assertEquals("token not valid yet (nbf)", refusal(claims().notBeforeTime(Date.from(NOW.plusSeconds(31)))));
        verifier.verify(sign(claims().issueTime(Date.from(NOW.plusSeconds(30)))));
        assertEquals("token issued in the future (iat)", refusal(claims().issueTime(Date.from(NOW.plusSeconds(31)))));
    }

    @Test
    void claimsAreRead() throws Exception {
        TokenClaims c = verifier.verify(sign(claims().jwtID("j1").claim("vms", List.of("vm1", "vm2"))
                .claim("view_only", true).claim("realm_access", Map.of("roles", List.of("tmc-admin", "x")))));
        assertEquals("alice", c.subject());
        assertEquals("acme", c.tenant());
        assertEquals(List.of("vm1", "vm2"), c.vms());
        assertTrue(c.viewOnly());
        assertEquals(Set.of("tmc-admin", "x"), c.roles());
        assertTrue(c.hasRole("tmc-admin"));
        assertEquals("j1", c.jti());
        assertTrue(c.tokenId().startsWith("sha256:"), c.tokenId());
        assertEquals(NOW.plusSeconds(60), c.expiresAt());

        TokenClaims plain = verifier.verify(sign(claims()));
        assertNull(plain.vms());
        assertTrue(!plain.viewOnly());
        assertTrue(plain.tokenId().startsWith("sha256:"), plain.tokenId());
        assertEquals(Set.of(), plain.roles());
    }

    @Test
    void audienceMayBeAStringOrAList() throws Exception {
        verifier.verify(sign(claims().audience("aud")));
        assertEquals("token audience not accepted", refusal(claims().audience(List.of("a", "b"))));
    }

    @Test
    void noSecretMeansNoHs256() {
        JwtVerifier jwksOnly = new JwtVerifier(new JwtSettings("iss", "aud", null,
                java.net.URI.create("http://127.0.0.1:1/jwks"), Set.of("RS256"), Duration.ofSeconds(30), 8192,
                "roles", "tmc-admin", Duration.ofMinutes(5), Duration.ofSeconds(30)), Clock.systemUTC());
        assertEquals("algorithm HS256 is not accepted",
                assertThrows(AuthException.class, () -> jwksOnly.verify(sign(claims()))).getMessage());
    }

    @Test
    void replayGuardRemembersUntilExpiryAndIsBounded() throws Exception {
        Instant[] now = {NOW};
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        ReplayGuard guard = new ReplayGuard(clock, 2);
        guard.use("iss", "a", NOW.plusSeconds(10), Duration.ZERO);
        assertEquals("token already used (jti is single-use)", assertThrows(AuthException.class,
                () -> guard.use("iss", "a", NOW.plusSeconds(10), Duration.ZERO)).getMessage());
        guard.use("other-iss", "a", NOW.plusSeconds(10), Duration.ZERO);
        assertEquals("too many single-use tokens in flight; try again later", assertThrows(AuthException.class,
                () -> guard.use("iss", "b", NOW.plusSeconds(10), Duration.ZERO)).getMessage());
        now[0] = NOW.plusSeconds(11); // both expired: room again
        guard.use("iss", "b", NOW.plusSeconds(100), Duration.ZERO);
        assertEquals(1, guard.size());
    }

    /** The per-token cap and the deny-list see one token however the base64 of its signature is spelled. */
    @Test
    void tokenIdIgnoresTheSpellingOfTheSignature() throws Exception {
        String token = sign(claims());
        // 32 signature bytes take 43 base64url characters: the last one carries 2 unused bits.
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char last = token.charAt(token.length() - 1);
        String respelled = token.substring(0, token.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);
        TokenClaims a = verifier.verify(token);
        TokenClaims b = verifier.verify(respelled);
        assertTrue(!token.equals(respelled));
        assertEquals(a.tokenId(), b.tokenId());
        assertEquals(a.principal(), b.principal());
    }

    @Test
    void maximumTokenAgeNeedsIatAndRefusesOldTokens() throws Exception {
        JwtVerifier aged = new JwtVerifier(new JwtSettings("iss", "aud", SECRET, null, JwtSettings.ASYMMETRIC_ALGORITHMS, Duration.ofSeconds(30),
                8192, "roles", "tmc-admin", Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofHours(1)),
                Clock.fixed(NOW, ZoneOffset.UTC));
        assertEquals("token has no iat claim (the gateway limits the age of tokens)", assertThrows(
                AuthException.class, () -> aged.verify(sign(claims()))).getMessage());
        aged.verify(sign(claims().issueTime(Date.from(NOW.minusSeconds(3600 + 30)))));
        assertEquals("token older than the maximum token age (3600 s)", assertThrows(AuthException.class,
                () -> aged.verify(sign(claims().issueTime(Date.from(NOW.minusSeconds(3600 + 31)))))).getMessage());
    }
}
