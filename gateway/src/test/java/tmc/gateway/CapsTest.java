package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.testkit.WebSocketTransport;

/**
 * Connection caps per token, per user and per VM (4429), checked before any upstream connection. The "VM" is a
 * listener that accepts and then stays silent, so admitted sessions stay live (in their handshake) for the test.
 */
class CapsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private SilentVm silent;
    private GatewayFixture gateway;
    private final List<WebSocketTransport> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        silent = new SilentVm();
        ObjectNode config = GatewayFixture.config();
        GatewayFixture.addVm(config, "vm1", "acme", silent.address(), null);
        GatewayFixture.addVm(config, "vm2", "acme", silent.address(), null);
        config.putObject("limits").put("perToken", 2).put("perUser", 3).put("perVm", 4)
                .put("handshakeTimeoutMs", 60_000);
        gateway = GatewayFixture.start(config);
    }

    @AfterEach
    void stop() throws IOException {
        open.forEach(WebSocketTransport::close);
        gateway.close();
        silent.close();
    }

    private WebSocketTransport live(String vm, String token) throws Exception {
        WebSocketTransport ws = gateway.open(vm, token);
        open.add(ws);
        int before = gateway.server.sessions().size();
        silent.awaitConnections(open.size(), WAIT);
        assertNull(ws.closeNow(), "session " + open.size() + " is live (" + before + " registered)");
        return ws;
    }

    private void assertRefused(String vm, String token, String reason) throws Exception {
        int connections = silent.connections.size();
        try (WebSocketTransport ws = gateway.open(vm, token)) {
            WebSocketTransport.Close close = ws.awaitClose(WAIT);
            assertEquals("4429 " + reason, close.code() + " " + close.reason());
        }
        Thread.sleep(200);
        assertEquals(connections, silent.connections.size(), "a refused session opened no upstream connection");
    }

    @Test
    void perToken() throws Exception {
        String token = Tokens.hs256(Tokens.claims("alice", "acme"));
        live("vm1", token);
        live("vm1", token);
        assertRefused("vm1", token, "too many sessions with this token (limit 2)");
    }

    @Test
    void perUser() throws Exception {
        live("vm1", Tokens.hs256(Tokens.claims("alice", "acme").jwtID("a")));
        live("vm1", Tokens.hs256(Tokens.claims("alice", "acme").jwtID("b")));
        live("vm2", Tokens.hs256(Tokens.claims("alice", "acme").jwtID("c")));
        assertRefused("vm2", Tokens.hs256(Tokens.claims("alice", "acme").jwtID("d")),
                "too many sessions for this user (limit 3)");
    }

    @Test
    void perVmAndReleaseOnClose() throws Exception {
        List<WebSocketTransport> sessions = new ArrayList<>();
        for (String user : new String[] {"u1", "u2", "u3", "u4"}) {
            sessions.add(live("vm1", Tokens.hs256(Tokens.claims(user, "acme"))));
        }
        assertRefused("vm1", Tokens.hs256(Tokens.claims("u5", "acme")), "too many sessions on this VM (limit 4)");
        // Closing one frees its place.
        sessions.get(0).close();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (gateway.server.sessions().size() > 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        live("vm1", Tokens.hs256(Tokens.claims("u5", "acme")));
    }

    @Test
    void aVmThatNeverAnswersIsA4502AfterTheHandshakeTimeout() throws Exception {
        ObjectNode config = GatewayFixture.config();
        GatewayFixture.addVm(config, "mute", "acme", silent.address(), null);
        config.putObject("limits").put("handshakeTimeoutMs", 1500);
        try (GatewayFixture quick = GatewayFixture.start(config);
                WebSocketTransport ws = quick.open("mute", Tokens.hs256(Tokens.claims("alice", "acme")))) {
            long start = System.nanoTime();
            WebSocketTransport.Close close = ws.awaitClose(WAIT);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals("4502 the VM's VNC server did not answer within 1.5 s", close.code() + " " + close.reason());
            org.junit.jupiter.api.Assertions.assertTrue(millis >= 1000 && millis < 8000, millis + " ms");
            assertEquals(0, quick.server.sessions().size());
        }
    }

    @Test
    void adminListsLiveSessions() throws Exception {
        live("vm1", Tokens.hs256(Tokens.claims("alice", "acme")));
        live("vm2", Tokens.hs256(Tokens.claims("bob", "acme").claim("view_only", true)));
        String admin = Tokens.hs256(Tokens.admin("root"));
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(gateway.server.uri() + "/api/v1/sessions"))
                        .header("Authorization", "Bearer " + admin).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        com.fasterxml.jackson.databind.JsonNode sessions = Json.MAPPER.readTree(response.body()).get("sessions");
        assertEquals(2, sessions.size());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (com.fasterxml.jackson.databind.JsonNode s : sessions) {
            seen.add(s.get("user").asText() + "@" + s.get("vm").asText() + " viewOnly=" + s.get("viewOnly").asBoolean()
                    + " tenant=" + s.get("tenant").asText());
        }
        assertEquals(java.util.Set.of("alice@vm1 viewOnly=false tenant=acme", "bob@vm2 viewOnly=true tenant=acme"),
                seen);
        java.net.http.HttpResponse<String> bad = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(gateway.server.uri()
                                + "/api/v1/sessions?vm=vm1&user=alice")).DELETE()
                        .header("Authorization", "Bearer " + admin).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, bad.statusCode());
        assertEquals("{\"error\":\"bad_request\",\"detail\":\"give exactly one of the query parameters user (with"
                + " tenant), session, jti and vm\"}", bad.body());
    }

    /** Accepts connections and never speaks: sessions to it wait in their handshake. */
    static final class SilentVm implements AutoCloseable {
        final ServerSocket server;
        final List<Socket> connections = new CopyOnWriteArrayList<>();
        /** One permit per connection accepted, never taken for good. */
        private final java.util.concurrent.Semaphore accepted = new java.util.concurrent.Semaphore(0);

        SilentVm() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        connections.add(server.accept());
                        accepted.release();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        /** Waits (up to {@code timeout}) until {@code n} connections in all have been accepted. */
        void awaitConnections(int n, Duration timeout) throws InterruptedException {
            if (accepted.tryAcquire(n, timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                accepted.release(n); // a permit per connection, held by nobody: the next wait counts them again
            }
        }

        String address() {
            return "tcp:127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : connections) {
                s.close();
            }
        }
    }
}
