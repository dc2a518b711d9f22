package tmc.auth;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Jazzer fuzz tests of the JWT verifier: raw token text, and tokens whose header and payload are fuzzed JSON but
 * correctly signed (so the claim checks are reached, not only the signature check). The only way out is a token
 * or an {@link AuthException}; a token accepted must satisfy the contract (issuer, audience, subject, expiry).
 */
class JwtFuzzTest {
    private static final byte[] SECRET = "jwt-fuzz-secret-0123456789abcdef-0123".getBytes(StandardCharsets.UTF_8);
    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
    private static final JwtVerifier VERIFIER = new JwtVerifier(new JwtSettings("iss", "aud", SECRET, null,
            JwtSettings.ASYMMETRIC_ALGORITHMS, Duration.ofSeconds(30), 8192, "realm_access.roles", "tmc-admin",
            Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofHours(1)), Clock.fixed(NOW, ZoneOffset.UTC));

    @FuzzTest(maxDuration = "5m")
    void tokenText(String token) {
        check(token);
    }

    @FuzzTest(maxDuration = "5m")
    void signedJson(FuzzedDataProvider data) throws Exception {
        String header = data.consumeString(200);
        String payload = data.consumeRemainingAsString();
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        check(input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII))));
    }

    private static void check(String token) {
        TokenClaims claims;
        try {
            claims = VERIFIER.verify(token);
        } catch (AuthException refused) {
            if (token != null && token.length() > 16 && refused.getMessage().contains(token)) {
                throw new IllegalStateException("a refusal quotes the token");
            }
            return;
        }
        if (!"iss".equals(claims.issuer()) || claims.subject() == null || claims.subject().isEmpty()
                || claims.expiresAt().isBefore(NOW.minusSeconds(30)) || claims.issuedAt() == null
                || !claims.tokenId().startsWith("sha256:")) {
            throw new IllegalStateException("accepted a token outside the contract: " + claims);
        }
    }
}
