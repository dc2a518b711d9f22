package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.auth.TestClock;
import tmc.testkit.WebSocketTransport;

/**
 * Black-box attacks on tokens and tickets: a real client against a real gateway, each refusal with its exact close
 * code and reason (or HTTP status and body), and counting listeners standing in for the VMs proving that a refused
 * attempt never opened an upstream connection. Time is a {@link TestClock}: ticket and token expiry are proven
 * without waiting.
 */
class TokenAttackTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String OTHER_ORIGIN = "http://other-desk.tmc.test";

    private final TestClock clock = new TestClock(Instant.now());
    private CountingListener refused;
    private CountingListener admitted;
    private CapsTest.SilentVm silent;
    private GatewayFixture gateway;

    @BeforeEach
    void start() throws Exception {
        refused = new CountingListener();
        admitted = new CountingListener();
        silent = new CapsTest.SilentVm();
        ObjectNode config = GatewayFixture.config();
        config.withArray("allowedOrigins").add(OTHER_ORIGIN);
        GatewayFixture.addVm(config, "vm1", "acme", refused.address(), null);
        GatewayFixture.addVm(config, "ok", "acme", admitted.address(), null);
        GatewayFixture.addVm(config, "other", "globex", refused.address(), null);
        GatewayFixture.addVm(config, "hold", "acme", silent.address(), null);
        GatewayFixture.addVm(config, "hold-globex", "globex", silent.address(), null);
        config.putObject("limits").put("perToken", 1).put("perUser", 1).put("handshakeTimeoutMs", 600_000);
        gateway = GatewayFixture.start(config, b -> b.clock(clock));
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        refused.close();
        admitted.close();
        silent.close();
    }

    @Test
    void aTokenInTheUrlIsRefused() throws Exception {
        URI uri = URI.create(gateway.vncUri("vm1") + "?token=" + alice());
        try (WebSocketTransport ws = WebSocketTransport.connect(uri, origin(), List.of())) {
            assertClose(ws, 4401, Admission.TOKEN_IN_URL);
        }
        assertEquals(0, refused.accepted(), "upstream connections of refused attempts");
    }

    @Test
    void aTicketOpensOneConsoleOnce() throws Exception {
        String ticket = gateway.ticket("ok", alice());
        assertTicketClose("ok", ticket, origin(), 4502, "the VM's VNC server failed the RFB handshake");
        assertEquals(1, admitted.accepted(), "the ticket reached its VM");
        assertTicketClose("ok", ticket, origin(), 4401, "unknown, used or expired ticket");
        assertEquals(1, admitted.accepted(), "a replayed ticket reached nothing");
    }

    @Test
    void aTicketIsBoundToItsVmOriginAndPurposeAndExpires() throws Exception {
        String forOk = gateway.ticket("ok", alice());
        assertTicketClose("vm1", forOk, origin(), 4401, "the ticket was issued for another purpose");
        String fromDesk = gateway.ticket("vm1", alice());
        assertTicketClose("vm1", fromDesk, Map.of("Origin", OTHER_ORIGIN), 4401,
                "the ticket was issued to another origin");
        String late = gateway.ticket("vm1", alice());
        clock.advance(Duration.ofSeconds(20));
        assertTicketClose("vm1", late, origin(), 4401, "unknown, used or expired ticket");
        HttpResponse<String> events = gateway.postTicket("{\"purpose\":\"events\"}", admin(), GatewayFixture.ORIGIN);
        String eventsTicket = Json.MAPPER.readTree(events.body()).get("ticket").asText();
        assertTicketClose("vm1", eventsTicket, origin(), 4401, "the ticket was issued for another purpose");
        assertTicketClose("vm1", "tkt_forged", origin(), 4401, "unknown, used or expired ticket");
        assertEquals(0, refused.accepted(), "upstream connections of refused attempts");
    }

    @Test
    void ticketsAreSoldOnlyForWhatTheTokenAllows() throws Exception {
        assertTicket("{\"purpose\":\"console\",\"vm\":\"vm1\"}", null, GatewayFixture.ORIGIN, 401,
                "an Authorization: Bearer token is required");
        String sameWords = "{\"error\":\"forbidden\",\"detail\":\"the token does not allow this VM\"}";
        assertTicket("{\"purpose\":\"console\",\"vm\":\"other\"}", alice(), GatewayFixture.ORIGIN, 403, sameWords);
        assertTicket("{\"purpose\":\"console\",\"vm\":\"no-such-vm\"}", alice(), GatewayFixture.ORIGIN, 403,
                sameWords);
        assertTicket("{\"purpose\":\"console\",\"vm\":\"vm1\"}", alice(), "http://evil.test", 403,
                "{\"error\":\"forbidden\",\"detail\":\"origin not allowed\"}");
        assertTicket("{\"purpose\":\"console\",\"vm\":\"vm1\"}", admin(), GatewayFixture.ORIGIN, 401,
                "{\"error\":\"unauthorized\",\"detail\":\"token audience not accepted\"}");
        assertTicket("{\"purpose\":\"events\"}", alice(), GatewayFixture.ORIGIN, 401,
                "{\"error\":\"unauthorized\",\"detail\":\"token audience not accepted\"}");
        assertTicket("{\"purpose\":\"events\"}", Tokens.hs256(Tokens.claims("root", null)
                .audience(Tokens.ADMIN_AUDIENCE)), GatewayFixture.ORIGIN, 403,
                "{\"error\":\"forbidden\",\"detail\":\"the token lacks the tmc-admin role\"}");
        assertTicket("{\"purpose\":\"shell\"}", alice(), GatewayFixture.ORIGIN, 400,
                "{\"error\":\"bad_request\",\"detail\":\"purpose must be \\\"console\\\" or \\\"events\\\"\"}");
        assertTicket("[1]", alice(), GatewayFixture.ORIGIN, 400,
                "{\"error\":\"bad_json\",\"detail\":\"the body must be a JSON object\"}");
        assertEquals(0, gateway.server.tickets().outstanding(), "no refusal left a ticket behind");
        assertEquals(0, refused.accepted());
    }

    @Test
    void anAdminTokenIsNotATenantTokenAndViceVersa() throws Exception {
        try (WebSocketTransport ws = gateway.open("vm1", Tokens.hs256(Tokens.admin("root").claim("tenant", "acme")))) {
            assertClose(ws, 4401, "token audience not accepted");
        }
        HttpResponse<String> sessions = http("GET", "/api/v1/sessions", Tokens.hs256(Tokens.claims("alice", "acme")
                .claim("roles", List.of("tmc-admin"))));
        assertEquals(401, sessions.statusCode(), sessions.body());
        assertEquals("{\"error\":\"unauthorized\",\"detail\":\"token audience not accepted\"}", sessions.body());
        assertEquals(0, refused.accepted());
    }

    @Test
    void revocationSticksForTheUserOfThatTenantOnly() throws Exception {
        String token = alice();
        String globexAlice = Tokens.hs256(Tokens.claims("alice", "globex"));
        try (WebSocketTransport acme = gateway.open("hold", token);
                WebSocketTransport globex = gateway.open("hold-globex", globexAlice)) {
            awaitSessions(2);
            HttpResponse<String> r = http("DELETE", "/api/v1/sessions?user=alice&tenant=acme", admin());
            assertEquals("200 {\"closed\":1}", r.statusCode() + " " + r.body());
            assertClose(acme, 4403, "session revoked by an administrator");
            assertEquals(null, globex.closeNow(), "tenant globex's alice is someone else");
        }
        int before = silent.connections.size();
        try (WebSocketTransport again = gateway.open("hold", token)) {
            assertClose(again, 4401, "the user's tokens were revoked by an administrator");
        }
        HttpResponse<String> ticket = gateway.postTicket("{\"purpose\":\"console\",\"vm\":\"hold\"}", token,
                GatewayFixture.ORIGIN);
        assertEquals("401 {\"error\":\"unauthorized\",\"detail\":\"the user's tokens were revoked by an"
                + " administrator\"}", ticket.statusCode() + " " + ticket.body());
        assertEquals(before, silent.connections.size(), "the revoked token opened no upstream connection");
        // The portal signs alice in again: a token issued after the revocation works.
        clock.advance(Duration.ofSeconds(2));
        String fresh = Tokens.hs256(Tokens.claims("alice", "acme").issueTime(java.util.Date.from(clock.instant())));
        try (WebSocketTransport ws = gateway.open("hold", fresh)) {
            await("alice of acme is back", () -> gateway.server.sessions().list().stream()
                    .anyMatch(l -> l.info().vmId().equals("hold")));
            assertEquals(null, ws.closeNow());
        }
    }

    @Test
    void aRevokedSessionOrJtiCannotComeBack() throws Exception {
        String token = Tokens.hs256(Tokens.claims("bob", "acme"));
        try (WebSocketTransport ws = gateway.open("hold", token)) {
            awaitSessions(1);
            String id = gateway.server.sessions().list().get(0).info().id();
            HttpResponse<String> r = http("DELETE", "/api/v1/sessions?session=" + id, admin());
            assertEquals("200 {\"closed\":1}", r.statusCode() + " " + r.body());
            assertClose(ws, 4403, "session revoked by an administrator");
        }
        try (WebSocketTransport again = gateway.open("hold", token)) {
            assertClose(again, 4401, "the token was revoked by an administrator");
        }
        HttpResponse<String> byJti = http("DELETE", "/api/v1/sessions?jti=j-77", admin());
        assertEquals("200 {\"closed\":0}", byJti.statusCode() + " " + byJti.body());
        try (WebSocketTransport ws = gateway.open("hold", Tokens.hs256(Tokens.claims("carol", "acme").jwtID("j-77")))) {
            assertClose(ws, 4401, "the token was revoked by an administrator");
        }
        HttpResponse<String> unknown = http("DELETE", "/api/v1/sessions?session=nope", admin());
        assertEquals(404, unknown.statusCode(), unknown.body());
        HttpResponse<String> noTenant = http("DELETE", "/api/v1/sessions?user=bob", admin());
        assertEquals("400 {\"error\":\"bad_request\",\"detail\":\"give tenant with user: a user name is unique only"
                + " within its tenant\"}", noTenant.statusCode() + " " + noTenant.body());
    }

    @Test
    void anOpenSessionEndsWhenItsTokenExpires() throws Exception {
        String token = Tokens.hs256(Tokens.claims("dave", "acme").expirationTime(java.util.Date.from(clock.instant()
                .plusSeconds(120))));
        try (WebSocketTransport ws = gateway.open("hold", token)) {
            awaitSessions(1);
            clock.advance(Duration.ofSeconds(120 + 30 + 1)); // past exp and the clock skew
            assertClose(ws, 4401, "the token expired");
        }
        assertEquals(0, gateway.server.sessions().size());
    }

    @Test
    void capsKeyOnTenantAndSubjectAndCountATokenOnceHoweverSpelled() throws Exception {
        String token = alice();
        try (WebSocketTransport first = gateway.open("hold", token)) {
            awaitSessions(1);
            char last = token.charAt(token.length() - 1);
            String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            String respelled = token.substring(0, token.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);
            try (WebSocketTransport ws = gateway.open("hold", respelled)) {
                assertClose(ws, 4429, "too many sessions with this token (limit 1)");
            }
            try (WebSocketTransport ws = gateway.open("hold", Tokens.hs256(Tokens.claims("alice", "acme")
                    .claim("n", 2)))) {
                assertClose(ws, 4429, "too many sessions for this user (limit 1)");
            }
            // Tenant globex's alice is not tenant acme's: her own cap.
            try (WebSocketTransport globex = gateway.open("hold-globex", Tokens.hs256(Tokens.claims("alice",
                    "globex")))) {
                awaitSessions(2);
                assertEquals(null, globex.closeNow());
            }
        }
    }

    @Test
    void healthzSaysOnlyOkWithoutAToken() throws Exception {
        HttpResponse<String> r = http("GET", "/healthz", null);
        assertEquals("200 ok\n", r.statusCode() + " " + r.body());
        HttpResponse<String> tenant = http("GET", "/healthz", alice());
        assertEquals("200 ok\n", tenant.statusCode() + " " + tenant.body());
    }

    // ===== helpers =====

    private static String alice() {
        return Tokens.hs256(Tokens.claims("alice", "acme"));
    }

    private static String admin() {
        return Tokens.hs256(Tokens.admin("root"));
    }

    private static Map<String, String> origin() {
        return Map.of("Origin", GatewayFixture.ORIGIN);
    }

    private static void assertClose(WebSocketTransport ws, int code, String reason) {
        WebSocketTransport.Close close = ws.awaitClose(WAIT);
        assertEquals(code + " " + reason, close.code() + " " + close.reason());
    }

    /** Opens {@code vm} with {@code ticket} from {@code headers} (Origin) and expects this close. */
    private void assertTicketClose(String vm, String ticket, Map<String, String> headers, int code, String reason)
            throws Exception {
        try (WebSocketTransport ws = gateway.openWithTicket(vm, ticket, headers)) {
            assertClose(ws, code, reason);
        }
    }

    private void assertTicket(String body, String token, String origin, int status, String expected)
            throws Exception {
        HttpResponse<String> r = gateway.postTicket(body, token, origin);
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.body().contains(expected) || r.body().equals(expected), r.body());
    }

    private HttpResponse<String> http(String method, String path, String bearer) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.server.uri().resolve(path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private void awaitSessions(int n) {
        await("sessions registered: " + n, () -> gateway.server.sessions().size() == n);
    }

    /** Waits for a condition the gateway reaches by itself (a session registering), polling, with a deadline. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}
