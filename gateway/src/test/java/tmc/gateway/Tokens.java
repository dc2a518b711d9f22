package tmc.gateway;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/** Mints tokens for tests: well-formed ones, and the hostile ones the auth suite needs. */
final class Tokens {
    static final String SECRET = "tmc-test-secret-0123456789abcdef0123456789";
    static final String ISSUER = "https://issuer.tmc.test";
    static final String AUDIENCE = "tmc-gateway";
    /** The admins' audience by default: the tenants' + "-admin". */
    static final String ADMIN_AUDIENCE = AUDIENCE + "-admin";

    private Tokens() {}

    /** Valid claims for {@code sub} of {@code tenant}: five minutes to live. */
    static JWTClaimsSet.Builder claims(String subject, String tenant) {
        Instant now = Instant.now();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(List.of(AUDIENCE))
                .subject(subject)
                .issueTime(Date.from(now.minusSeconds(5)))
                .expirationTime(Date.from(now.plusSeconds(300)));
        if (tenant != null) {
            b.claim("tenant", tenant);
        }
        return b;
    }

    /** Valid admin claims: the admin audience and role. */
    static JWTClaimsSet.Builder admin(String subject) {
        return claims(subject, null).audience(ADMIN_AUDIENCE).claim("roles", List.of("tmc-admin"));
    }

    static String hs256(JWTClaimsSet claims) {
        return sign(new JWSHeader(JWSAlgorithm.HS256), claims, macSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
    }

    static String hs256(JWTClaimsSet.Builder claims) {
        return hs256(claims.build());
    }

    static MACSigner macSigner(byte[] secret) {
        try {
            return new MACSigner(secret);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A compact JWS from raw JSON parts and a raw signature segment, for malformed and unsigned tokens. */
    static String raw(String headerJson, String payloadJson, String signature) {
        return Base64URL.encode(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                + Base64URL.encode(payloadJson.getBytes(StandardCharsets.UTF_8)) + "." + signature;
    }

    /** EdDSA signed with the JDK (Nimbus' own Ed25519 signer needs Tink). */
    static String ed25519(String kid, JWTClaimsSet claims, PrivateKey key) {
        return ed25519("EdDSA", kid, claims, key);
    }

    /** {@code alg} is "EdDSA" or RFC 9864's "Ed25519". */
    static String ed25519(String alg, String kid, JWTClaimsSet claims, PrivateKey key) {
        String header = Base64URL.encode(("{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\"}")
                .getBytes(StandardCharsets.UTF_8)).toString();
        String payload = Base64URL.encode(claims.toString().getBytes(StandardCharsets.UTF_8)).toString();
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
            return header + "." + payload + "." + Base64URL.encode(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
