package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.auth.TestClock;

/**
 * The admin event stream without a token in its URL: a ticket bought with {@code Authorization: Bearer}, spent by
 * its first use, bound to its origin; and a stream that ends when its token expires or is revoked. Real gateway,
 * real HTTP; time is a {@link TestClock}.
 */
class EventTicketTest {
    private static final String ORIGIN = "http://localhost";
    private final TestClock clock = new TestClock(Instant.now());
    private ApiFixture f;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", null)), ApiFixture.tempStore(), clock);
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
        http.close();
    }

    @Test
    void aTicketOpensOneStreamFromItsOrigin() throws Exception {
        String ticket = ticket(ApiFixture.admin(), ORIGIN);
        try (Sse sse = new Sse("/events?ticket=" + ticket, ORIGIN)) {
            assertEquals(200, sse.status);
            assertEquals(": tmc event stream", sse.line());
        }
        assertRefused("/events?ticket=" + ticket, ORIGIN, "unknown, used or expired ticket");
        assertRefused("/events?ticket=" + ticket(ApiFixture.admin(), ORIGIN), "http://evil.test",
                "the ticket was issued to another origin");
        assertRefused("/events?token=" + ApiFixture.admin(), ORIGIN, "tokens in URLs are not accepted (proxies log"
                + " them): send Authorization: Bearer, or for the event stream a ticket (POST /api/v1/tickets)");
        // A ticket is no bearer token for the rest of the API.
        ApiFixture.Response vms = f.call("GET", "/vms?ticket=" + ticket(ApiFixture.admin(), ORIGIN), null, null,
                null, java.util.Map.of());
        assertEquals(401, vms.status(), vms.toString());
    }

    @Test
    void aStreamEndsWhenItsTokenExpires() throws Exception {
        String admin = admin("exp-" + System.nanoTime(), clock.instant().plusSeconds(60));
        try (Sse sse = new Sse("/events?ticket=" + ticket(admin, ORIGIN), ORIGIN)) {
            assertEquals(": tmc event stream", sse.line());
            clock.advance(Duration.ofSeconds(60 + 30 + 1));
            assertEquals("event: end", sse.nextNonEmpty());
            assertEquals("data: {\"reason\":\"token expired\"}", sse.line());
            sse.assertEnds();
        }
    }

    @Test
    void aStreamEndsWhenItsTokenIsRevoked() throws Exception {
        String jti = "admin-" + System.nanoTime();
        String admin = admin(jti, clock.instant().plusSeconds(600));
        try (Sse sse = new Sse("/events?ticket=" + ticket(admin, ORIGIN), ORIGIN)) {
            assertEquals(": tmc event stream", sse.line());
            ApiFixture.Response r = f.call("DELETE", "/sessions?jti=" + jti, ApiFixture.admin(), null, null,
                    java.util.Map.of());
            assertEquals(200, r.status(), r.toString());
            assertEquals("event: end", sse.nextNonEmpty());
            assertEquals("data: {\"reason\":\"the token was revoked by an administrator\"}", sse.line());
            sse.assertEnds();
        }
        ApiFixture.Response again = f.call("GET", "/vms", admin, null, null, java.util.Map.of());
        assertEquals(401, again.status(), again.toString());
    }

    // ===== helpers =====

    private static String admin(String jti, Instant exp) throws Exception {
        com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .issuer(ApiFixture.ISSUER).audience(ApiFixture.ADMIN_AUDIENCE).subject("ops").jwtID(jti)
                .issueTime(new Date()).expirationTime(Date.from(exp)).claim("roles", List.of("tmc-admin")).build();
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256), claims);
        jwt.sign(new com.nimbusds.jose.crypto.MACSigner(ApiFixture.SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    private String ticket(String admin, String origin) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(f.gateway.uri().resolve("/api/v1/tickets"))
                .header("Authorization", "Bearer " + admin).header("Origin", origin)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"purpose\":\"events\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return ApiFixture.JSON.readTree(r.body()).get("ticket").asText();
    }

    private void assertRefused(String path, String origin, String detail) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(f.uri(path)).header("Origin", origin).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode(), r.body());
        assertEquals(detail, ApiFixture.JSON.readTree(r.body()).get("detail").asText());
    }

    /** An event stream read line by line on its own thread. */
    private final class Sse implements AutoCloseable {
        final int status;
        final InputStream in;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        static final String EOF = "\u0000eof";

        Sse(String path, String origin) throws Exception {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(f.uri(path)).header("Origin", origin)
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            status = r.statusCode();
            in = r.body();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader br = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line = br.readLine(); line != null; line = br.readLine()) {
                        lines.add(line);
                    }
                } catch (Exception e) {
                    // closed
                }
                lines.add(EOF);
            });
        }

        String line() throws InterruptedException {
            String line = lines.poll(15, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("no line within 15 s");
            }
            return line;
        }

        String nextNonEmpty() throws InterruptedException {
            String line;
            do {
                line = line();
            } while (line.isEmpty() || line.startsWith(":") || line.startsWith("retry:"));
            return line;
        }

        void assertEnds() throws InterruptedException {
            String line;
            do {
                line = line();
            } while (line.isEmpty());
            assertTrue(line.equals(EOF), "the stream ended, got: " + line);
        }

        @Override
        public void close() throws java.io.IOException {
            in.close();
        }
    }
}
