package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import tmc.store.PgSetup;
import tmc.testkit.Haproxy;
import tmc.testkit.RfbClient;
import tmc.testkit.WebSocketTransport;

/**
 * Issue 12: browser sessions and the event stream through a real load balancer. Debian's HAProxy runs the project's
 * docker/haproxy.cfg in front of two gateway processes on one PostgreSQL database and a patched QEMU. HAProxy connects
 * to the gateways from 127.0.0.3, the only address they trust ({@code listen.trustedProxies}); the test's browser
 * connects from 127.0.0.2, so every address in play is told apart.
 */
class LoadBalancerTest {
    static final Duration T = Duration.ofSeconds(90);
    static final String PROXY = "127.0.0.3";
    static final String BROWSER = "127.0.0.2";
    static final String FORGED = "203.0.113.9";

    @Test
    void consolesAndEventsPassThroughHaproxyToEveryGatewayAndOnlyTheProxyNamesTheClient() throws Exception {
        String url = PgSetup.freshDatabase("fleet_lb");
        Path dir = ApiFixture.tempStore();
        List<GatewayProcess> gateways = new ArrayList<>(Collections.nCopies(2, null));
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver();
             BareVm vm = BareVm.start("lb")) {
            startTrusting(gateways, dir, url, vm, hook.url(), json -> { });
            List<String> servers = gateways.stream().map(g -> g.uri.getAuthority()).toList();
            try (Haproxy lb = Haproxy.start(Path.of("..", "docker", "haproxy.cfg"), dir.resolve("haproxy"), servers,
                    PROXY)) {
                ApiFixture.await("HAProxy sees both gateways up", T, () -> {
                    try {
                        return lb.servers().equals(Map.of("g0", "UP", "g1", "UP"));
                    } catch (Exception e) {
                        return false;
                    }
                });

                // SSE through HAProxy; a message posted through HAProxy is shown by the VM's owner.
                SseClient sse = SseClient.open(lb.uri, "0");
                String id = GatewayProcess.call(lb.uri, "POST", "/messages",
                        "{\"vms\": [\"vm0\"], \"title\": \"Through the balancer\"}").path("id").asText();
                sse.await("shown on the event stream through HAProxy", delivery(id, "shown"), T);
                assertEquals(List.of("tmc-" + id), vm.ours());

                // Two consoles through HAProxy (round robin: one on each gateway), the first with a forged header.
                URI console = URI.create("ws://127.0.0.1:" + lb.port + "/vnc/vm0");
                String token = ApiFixture.token("alice", "acme", null);
                Map<String, String> forged = Map.of("Origin", "http://localhost", "Authorization", "Bearer " + token,
                        "X-Forwarded-For", FORGED);
                Map<String, String> plain = Map.of("Origin", "http://localhost", "Authorization", "Bearer " + token);
                InetAddress browser = InetAddress.getByName(BROWSER);
                try (RfbClient first = RfbClient.connect(WebSocketTransport.connect(console, forged, List.of(),
                        browser), null);
                     RfbClient second = RfbClient.connect(WebSocketTransport.connect(console, plain, List.of(),
                             browser), null)) {
                    for (RfbClient c : List.of(first, second)) { // RFB both ways through the tunnel
                        int mark = c.mark();
                        c.requestUpdate(false);
                        c.awaitUpdate(mark, T);
                    }
                    Map<String, List<String>> remotes = remotes(gateways);
                    assertEquals(Map.of("g0", List.of(BROWSER), "g1", List.of(BROWSER)), remotes,
                            "one session on each gateway, both from the browser's address: what the proxy appended,"
                                    + " not what the client forged");

                    // Straight to a gateway, not through the proxy: the same forged header is ignored. (Another
                    // token: the fleet allows two sessions per token, and this token holds two.)
                    Map<String, String> forgedByBob = Map.of("Origin", "http://localhost", "Authorization", "Bearer "
                            + ApiFixture.token("bob", "acme", null), "X-Forwarded-For", FORGED);
                    try (RfbClient direct = RfbClient.connect(WebSocketTransport.connect(URI.create("ws://"
                            + gateways.get(0).uri.getAuthority() + "/vnc/vm0"), forgedByBob, List.of(), browser),
                            null)) {
                        List<String> g0 = remotes(gateways).get("g0");
                        assertEquals(2, g0.size());
                        assertTrue(g0.contains(BROWSER) && g0.stream().anyMatch(r -> r.startsWith(BROWSER + ":")),
                                "the direct session shows its TCP peer (with its port), not " + FORGED + ": " + g0);
                    }
                }

                // The event stream, left and opened again through HAProxy with Last-Event-ID, misses nothing.
                sse.close();
                FleetTest.click(vm, "tmc-" + id);
                SseClient again = SseClient.open(lb.uri, sse.lastId());
                again.await("answered on the event stream through HAProxy", delivery(id, "answered"), T);
                again.close();
                Set<Long> seen = new TreeSet<>(sse.ids());
                seen.addAll(again.ids());
                long last = Long.parseLong(FleetTest.query(url, "select max(seq) from tmc_outbox").get(0));
                assertEquals(FleetTest.contiguous(1, last), seen);
                assertTrue(Collections.disjoint(sse.ids(), again.ids()));
            }
        } finally {
            GatewayProcess.closeAll(gateways);
        }
    }

    /**
     * Console tickets live in the fleet's database: a ticket bought from one gateway opens a console on another
     * (which is what happens when HAProxy sends the WebSocket elsewhere), and only once, on any gateway; the same
     * through HAProxy itself.
     */
    @Test
    void aTicketBoughtFromOneGatewayOpensAConsoleOnAnotherOnlyOnce() throws Exception {
        String url = PgSetup.freshDatabase("fleet_tickets");
        Path dir = ApiFixture.tempStore();
        List<GatewayProcess> gateways = new ArrayList<>(Collections.nCopies(2, null));
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver();
             BareVm vm = BareVm.start("tickets")) {
            startTrusting(gateways, dir, url, vm, hook.url(), json -> { });
            String token = ApiFixture.token("alice", "acme", null);
            String ticket = ticket(gateways.get(0).uri, token);
            try (RfbClient onG1 = RfbClient.connect(WebSocketTransport.connect(console(gateways.get(1).uri, ticket),
                    Map.of("Origin", "http://localhost"), List.of()), null)) {
                int mark = onG1.mark();
                onG1.requestUpdate(false);
                onG1.awaitUpdate(mark, T);
                assertEquals(Map.of("g0", List.of(), "g1", List.of("127.0.0.1")), hosts(remotes(gateways)));
                for (GatewayProcess g : gateways) { // spent: on the gateway that issued it and on the one it opened
                    try (WebSocketTransport again = WebSocketTransport.connect(console(g.uri, ticket),
                            Map.of("Origin", "http://localhost"), List.of())) {
                        WebSocketTransport.Close close = again.awaitClose(T);
                        assertEquals("4401 unknown, used or expired ticket", close.code() + " " + close.reason());
                    }
                }
            }
            List<String> servers = gateways.stream().map(g -> g.uri.getAuthority()).toList();
            try (Haproxy lb = Haproxy.start(Path.of("..", "docker", "haproxy.cfg"), dir.resolve("haproxy"), servers,
                    PROXY)) {
                for (int i = 0; i < 4; i++) { // round robin: bought on one gateway, used on the other, and so on
                    try (RfbClient c = RfbClient.connect(WebSocketTransport.connect(console(lb.uri,
                            ticket(lb.uri, ApiFixture.token("user" + i, "acme", null))),
                            Map.of("Origin", "http://localhost"), List.of()), null)) {
                        int mark = c.mark();
                        c.requestUpdate(false);
                        c.awaitUpdate(mark, T);
                    }
                }
            }
            assertEquals(List.of("0"), FleetTest.query(url, "select count(*) from tmc_ticket"), "all spent");
        } finally {
            GatewayProcess.closeAll(gateways);
        }
    }

    /**
     * The per-user and per-VM caps hold across the fleet: limits of one session per user and two per VM, sessions
     * through HAProxy and straight to each gateway; a session on one gateway counts on the other; a closed one
     * stops counting.
     */
    @Test
    void capsCountTheSessionsOfEveryGateway() throws Exception {
        String url = PgSetup.freshDatabase("fleet_caps");
        Path dir = ApiFixture.tempStore();
        List<GatewayProcess> gateways = new ArrayList<>(Collections.nCopies(2, null));
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver();
             BareVm vm = BareVm.start("caps")) {
            startTrusting(gateways, dir, url, vm, hook.url(),
                    json -> json.putObject("limits").put("perUser", 1).put("perVm", 2));
            List<String> servers = gateways.stream().map(g -> g.uri.getAuthority()).toList();
            try (Haproxy lb = Haproxy.start(Path.of("..", "docker", "haproxy.cfg"), dir.resolve("haproxy"), servers,
                    PROXY)) {
                RfbClient alice = session(lb.uri, "alice");
                int a = remotes(gateways).get("g0").isEmpty() ? 1 : 0; // where HAProxy put alice
                URI other = gateways.get(1 - a).uri;
                URI same = gateways.get(a).uri;
                assertEquals("4429 too many sessions for this user (limit 1)", refusal(other, "alice"));
                try (RfbClient bob = session(lb.uri, "bob")) {
                    assertEquals("4429 too many sessions on this VM (limit 2)", refusal(same, "carol"));
                    assertEquals("4429 too many sessions on this VM (limit 2)", refusal(other, "carol"));
                    alice.close();
                    ApiFixture.await("alice's session forgotten by the fleet", T, () -> {
                        try {
                            return FleetTest.query(url, "select count(*) from tmc_session").equals(List.of("1"));
                        } catch (Exception e) {
                            return false;
                        }
                    });
                    session(other, "carol").close(); // room for one more on the VM, on either gateway
                }
            }
        } finally {
            GatewayProcess.closeAll(gateways);
        }
    }

    /** A console session of {@code user} through {@code base}, RFB running. */
    static RfbClient session(URI base, String user) throws Exception {
        RfbClient c = RfbClient.connect(WebSocketTransport.connect(URI.create("ws://" + base.getAuthority()
                + "/vnc/vm0"), Map.of("Origin", "http://localhost", "Authorization", "Bearer "
                + ApiFixture.token(user, "acme", null)), List.of()), null);
        int mark = c.mark();
        c.requestUpdate(false);
        c.awaitUpdate(mark, T);
        return c;
    }

    /** The close code and reason a console of {@code user} at {@code base} is refused with. */
    static String refusal(URI base, String user) throws Exception {
        try (WebSocketTransport ws = WebSocketTransport.connect(URI.create("ws://" + base.getAuthority()
                + "/vnc/vm0"), Map.of("Origin", "http://localhost", "Authorization", "Bearer "
                + ApiFixture.token(user, "acme", null)), List.of())) {
            WebSocketTransport.Close close = ws.awaitClose(T);
            return close.code() + " " + close.reason();
        }
    }

    /** POST /api/v1/tickets on {@code base} with a tenant token, from the allowed origin. */
    static String ticket(URI base, String token) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(base.resolve("/api/v1/tickets"))
                        .header("Authorization", "Bearer " + token).header("Origin", "http://localhost")
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                "{\"purpose\": \"console\", \"vm\": \"vm0\"}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return ApiFixture.JSON.readTree(r.body()).path("ticket").asText();
    }

    static URI console(URI base, String ticket) {
        return URI.create("ws://" + base.getAuthority() + "/vnc/vm0?ticket=" + ticket);
    }

    /** The remote addresses without their ports. */
    static Map<String, List<String>> hosts(Map<String, List<String>> remotes) {
        Map<String, List<String>> out = new HashMap<>();
        remotes.forEach((g, list) -> out.put(g, list.stream().map(r -> r.replaceFirst(":\\d+$", "")).toList()));
        return out;
    }

    /** The file the compose fleet profile runs, as it is: HAProxy's own check accepts it. */
    @Test
    void theComposeProfilesHaproxyConfigurationIsValid() throws Exception {
        String out = Haproxy.check(Path.of("..", "docker", "haproxy.cfg"));
        assertTrue(out.contains("Configuration file is valid"), out);
    }

    /**
     * Starts gateways g0, g1, ... (FleetTest's configuration, changed by {@code edit}) into {@code gateways}, each
     * believing X-Forwarded-For from {@link #PROXY} only.
     */
    static void startTrusting(List<GatewayProcess> gateways, Path dir, String url, BareVm vm, String hookUrl,
            java.util.function.Consumer<ObjectNode> edit) throws Exception {
        for (int i = 0; i < gateways.size(); i++) {
            Path p = FleetTest.config(dir, "g" + i, url, List.of(vm), hookUrl);
            ObjectNode json = (ObjectNode) ApiFixture.JSON.readTree(Files.readString(p));
            ((ObjectNode) json.get("listen")).putArray("trustedProxies").add(PROXY);
            edit.accept(json);
            Files.writeString(p, json.toString());
            gateways.set(i, GatewayProcess.start(p, dir.resolve("g" + i + ".log")));
        }
    }

    /** An event predicate: the delivery of message {@code id} reached {@code state}. */
    static java.util.function.Predicate<String> delivery(String id, String state) {
        return data -> {
            try {
                JsonNode n = ApiFixture.JSON.readTree(data);
                return n.path("message").asText().equals(id) && n.path("state").asText().equals(state);
            } catch (Exception e) {
                return false;
            }
        };
    }

    /** Each gateway's live sessions' client addresses, from its own GET /api/v1/sessions. */
    static Map<String, List<String>> remotes(List<GatewayProcess> gateways) throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        for (int i = 0; i < gateways.size(); i++) {
            List<String> list = new ArrayList<>();
            for (JsonNode s : gateways.get(i).call("GET", "/sessions", null).path("sessions")) {
                list.add(s.path("remote").asText());
            }
            out.put("g" + i, list);
        }
        return out;
    }
}
