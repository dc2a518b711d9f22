package tmc.auth;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.MalformedURLException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a compact JWS token and returns its claims, per the contract in design.md: pinned algorithms (HS256 with
 * the configured secret; RS256/ES256/EdDSA from a JWKS), {@code exp}, {@code iss}, {@code aud} and {@code sub}
 * required, {@code nbf} and {@code iat} honoured, a bounded clock skew. Every refusal is an {@link AuthException}
 * with a reason that never contains the token.
 *
 * <p>The algorithm decides the key source before anything is verified: an HS256 token is only ever checked with
 * the secret and an asymmetric one only with JWKS keys of the matching type, so a token cannot pick its own key
 * (no HS/RS confusion, no {@code alg: none}, no embedded {@code jwk}).
 *
 * <p>Thread safe.
 */
public final class JwtVerifier {
    /** Header {@code typ} values accepted (compared ignoring case); absent is accepted too. */
    private static final Set<String> ACCEPTED_TYPES = Set.of("jwt", "at+jwt");

    private final JwtSettings settings;
    private final Clock clock;
    private final JWSVerifier hmac;
    private final JWKSource<SecurityContext> jwks;

    public JwtVerifier(JwtSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        try {
            this.hmac = settings.hs256Secret() == null ? null : new MACVerifier(settings.hs256Secret());
        } catch (JOSEException e) {
            throw new IllegalArgumentException("hs256Secret: " + e.getMessage(), e);
        }
        if (settings.jwksUrl() != null) {
            try {
                JWKSourceBuilder<SecurityContext> builder = JWKSourceBuilder.<SecurityContext>create(
                                settings.jwksUrl().toURL(), new DefaultResourceRetriever(3000, 3000, 256 * 1024))
                        .cache(settings.jwksCacheTtl().toMillis(), 5000)
                        .retrying(false);
                // Unknown key ids trigger a refetch (key rotation); the rate limit keeps forged kids from turning
                // the gateway into a load generator against the identity provider.
                long minRefresh = settings.jwksMinRefresh().toMillis();
                builder = minRefresh > 0 ? builder.rateLimited(minRefresh) : builder.rateLimited(false);
                this.jwks = builder.build();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("jwksUrl: " + e.getMessage(), e);
            }
        } else {
            this.jwks = null;
        }
    }

    public JwtSettings settings() {
        return settings;
    }

    public TokenClaims verify(String token) throws AuthException {
        if (token == null || token.isEmpty()) {
            throw new AuthException("no token");
        }
        if (token.length() > settings.maxTokenBytes()) {
            throw new AuthException("token longer than " + settings.maxTokenBytes() + " bytes");
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new AuthException("malformed token: expected three base64url segments");
        }
        for (String part : parts) {
            if (!part.matches("[A-Za-z0-9_-]*")) {
                throw new AuthException("malformed token: segments must be base64url without padding");
            }
        }
        Algorithm alg;
        try {
            alg = com.nimbusds.jose.Header.parseAlgorithm(
                    com.nimbusds.jose.util.JSONObjectUtils.parse(new Base64URL(parts[0]).decodeToString()));
        } catch (ParseException | RuntimeException e) {
            throw new AuthException("malformed token header");
        }
        if (alg == null || Algorithm.NONE.equals(alg)) {
            throw new AuthException("unsigned tokens (alg none) are not accepted");
        }
        if (parts[2].isEmpty()) {
            throw new AuthException("malformed token: the signature is empty");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException | RuntimeException e) {
            throw new AuthException("malformed token");
        }
        JWSHeader header = jwt.getHeader();
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            throw new AuthException("token has critical header parameters the gateway does not understand");
        }
        if (header.getType() != null
                && !ACCEPTED_TYPES.contains(header.getType().getType().toLowerCase(java.util.Locale.ROOT))) {
            throw new AuthException("token type " + printable(header.getType().getType()) + " is not accepted");
        }
        if (!verifySignature(jwt, header)) {
            throw new AuthException("bad token signature");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new AuthException("malformed token claims");
        }
        return checkClaims(claims, parts);
    }

    private boolean verifySignature(SignedJWT jwt, JWSHeader header) throws AuthException {
        JWSAlgorithm alg = header.getAlgorithm();
        String name = alg.getName();
        try {
            if (JWSAlgorithm.HS256.equals(alg)) {
                if (hmac == null) {
                    throw new AuthException("algorithm HS256 is not accepted");
                }
                return jwt.verify(hmac);
            }
            // RFC 9864's fully-specified "Ed25519" is the same signature as "EdDSA" over an Ed25519 key.
            String pinned = name.equals("Ed25519") ? "EdDSA" : name;
            if (jwks == null || !settings.jwksAlgorithms().contains(pinned)) {
                throw new AuthException("algorithm " + printable(name) + " is not accepted");
            }
            List<JWK> keys = keysFor(header);
            if (keys.isEmpty()) {
                throw new AuthException(header.getKeyID() == null ? "no key in the JWKS matches the token"
                        : "unknown key id " + printable(header.getKeyID()));
            }
            for (JWK key : keys) {
                if (verifyWith(jwt, alg, key)) {
                    return true;
                }
            }
            return false;
        } catch (JOSEException e) {
            throw new AuthException("bad token signature");
        }
    }

    private List<JWK> keysFor(JWSHeader header) throws AuthException {
        KeyType type = switch (header.getAlgorithm().getName()) {
            case "RS256" -> KeyType.RSA;
            case "ES256" -> KeyType.EC;
            case "EdDSA", "Ed25519" -> KeyType.OKP;
            default -> throw new AuthException("algorithm " + header.getAlgorithm() + " is not accepted");
        };
        JWKMatcher.Builder matcher = new JWKMatcher.Builder().keyType(type).keyUses(KeyUse.SIGNATURE, null)
                .algorithms(header.getAlgorithm(), type == KeyType.OKP ? JWSAlgorithm.EdDSA : null, null)
                .publicOnly(true);
        if (header.getKeyID() != null) {
            matcher.keyID(header.getKeyID());
        }
        try {
            return jwks.get(new JWKSelector(matcher.build()), null);
        } catch (KeySourceException e) {
            throw new AuthException("the key set (JWKS) is unavailable");
        }
    }

    private static boolean verifyWith(SignedJWT jwt, JWSAlgorithm alg, JWK key) throws JOSEException {
        if (key instanceof RSAKey rsa) {
            if (rsa.size() < 2048) {
                return false;
            }
            return jwt.verify(new RSASSAVerifier(rsa));
        }
        if (key instanceof ECKey ec) {
            if (!Curve.P_256.equals(ec.getCurve())) {
                return false;
            }
            return jwt.verify(new ECDSAVerifier(ec));
        }
        if (key instanceof OctetKeyPair okp) {
            return Ed25519.verify(okp, jwt.getSigningInput(), jwt.getSignature().decode());
        }
        return false;
    }

    private TokenClaims checkClaims(JWTClaimsSet claims, String[] parts) throws AuthException {
        Instant now = clock.instant();
        long skew = settings.clockSkew().toSeconds();
        Date exp;
        Date nbf;
        Date iat;
        try {
            exp = claims.getExpirationTime();
            nbf = claims.getNotBeforeTime();
            iat = claims.getIssueTime();
        } catch (RuntimeException e) {
            throw new AuthException("malformed time claims");
        }
        if (exp == null) {
            throw new AuthException("token has no exp claim");
        }
        if (now.isAfter(exp.toInstant().plusSeconds(skew))) {
            throw new AuthException("token expired");
        }
        if (nbf != null && now.plusSeconds(skew).isBefore(nbf.toInstant())) {
            throw new AuthException("token not valid yet (nbf)");
        }
        if (iat != null && now.plusSeconds(skew).isBefore(iat.toInstant())) {
            throw new AuthException("token issued in the future (iat)");
        }
        if (settings.maxTokenAge() != null) {
            if (iat == null) {
                throw new AuthException("token has no iat claim (the gateway limits the age of tokens)");
            }
            if (now.isAfter(iat.toInstant().plus(settings.maxTokenAge()).plusSeconds(skew))) {
                throw new AuthException("token older than the maximum token age ("
                        + settings.maxTokenAge().toSeconds() + " s)");
            }
        }
        if (claims.getIssuer() == null) {
            throw new AuthException("token has no iss claim");
        }
        if (!claims.getIssuer().equals(settings.issuer())) {
            throw new AuthException("token issuer not accepted");
        }
        List<String> aud = claims.getAudience();
        if (aud == null || aud.isEmpty()) {
            throw new AuthException("token has no aud claim");
        }
        if (!aud.contains(settings.audience())) {
            throw new AuthException("token audience not accepted");
        }
        String subject = claims.getSubject();
        if (subject == null || subject.isEmpty()) {
            throw new AuthException("token has no sub claim");
        }
        Object tenant = claims.getClaim("tenant");
        if (tenant != null && !(tenant instanceof String)) {
            throw new AuthException("token claim tenant must be a string");
        }
        Object viewOnly = claims.getClaim("view_only");
        if (viewOnly != null && !(viewOnly instanceof Boolean)) {
            throw new AuthException("token claim view_only must be a boolean");
        }
        Object jti = claims.getClaim("jti");
        if (jti != null && (!(jti instanceof String s) || s.isEmpty() || s.length() > 256)) {
            throw new AuthException("token claim jti must be a non-empty string");
        }
        List<String> vms = stringList(claims.getClaim("vms"), "vms");
        Set<String> roles = new LinkedHashSet<>();
        Object roleValue = lookup(claims.getClaims(), settings.roleClaim());
        if (roleValue instanceof String s) {
            roles.add(s);
        } else if (roleValue != null) {
            List<String> list = stringList(roleValue, settings.roleClaim());
            roles.addAll(list);
        }
        // The signature's text is left out: base64url has several spellings of the same bytes (the unused low bits
        // of the last character), and each would otherwise count as a token of its own against the per-token cap.
        String tokenId = "sha256:" + sha256(parts[0] + "." + parts[1]);
        return new TokenClaims(claims.getIssuer(), subject, (String) tenant, vms,
                Boolean.TRUE.equals(viewOnly), (String) jti, roles, exp.toInstant(), tokenId,
                iat == null ? null : iat.toInstant());
    }

    private static List<String> stringList(Object value, String name) throws AuthException {
        if (value == null) {
            return null;
        }
        if (!(value instanceof List<?> list)) {
            throw new AuthException("token claim " + name + " must be a list of strings");
        }
        List<String> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw new AuthException("token claim " + name + " must be a list of strings");
            }
            out.add(s);
        }
        return out;
    }

    private static Object lookup(Map<String, Object> claims, String path) {
        Object current = claims;
        for (String part : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(part);
        }
        return current;
    }

    private static String sha256(String s) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String printable(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 40 ? clean.substring(0, 40) + "..." : clean;
    }
}
