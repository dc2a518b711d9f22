package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tmc.store.PgSetup;

/**
 * Issue 12's proofs with real parts: gateway processes on one real PostgreSQL database, patched QEMUs (no guest),
 * kill -9 and SIGSTOP/SIGCONT.
 */
class FleetTest {
    static final Duration T = Duration.ofSeconds(90);
    static final long LEASE_MS = 4000;
    final HttpClient http = HttpClient.newHttpClient();

    /** The migration race: three gateways started at the same moment on an empty database all come up. */
    @Test
    void threeGatewaysStartedAtOnceOnAnEmptyDatabaseAllComeUp() throws Exception {
        String url = PgSetup.freshDatabase("fleet_migrate");
        Path dir = ApiFixture.tempStore();
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver()) {
            List<Path> configs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                configs.add(config(dir, "g" + i, url, List.of(), hook.url()));
            }
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<GatewayProcess>> starts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int gi = i;
                starts.add(pool.submit(() -> GatewayProcess.start(configs.get(gi), dir.resolve("g" + gi + ".log"))));
            }
            List<GatewayProcess> gateways = new ArrayList<>();
            try {
                for (Future<GatewayProcess> f : starts) {
                    gateways.add(f.get(120, TimeUnit.SECONDS));
                }
                for (GatewayProcess g : gateways) {
                    assertEquals(0, g.call("GET", "/vms", null).path("vms").size());
                }
                // Each migration applied once, successfully; the history shows no failed attempt.
                assertEquals(List.of("1:true", "2:true", "3:true", "4:true"), query(url, "select version || ':'"
                        + " || success from flyway_schema_history where version is not null order by installed_rank"));
            } finally {
                gateways.forEach(GatewayProcess::close);
                pool.shutdownNow();
            }
        }
    }

    /**
     * The owner of VMs killed with SIGKILL while every VM shows a broadcast: the survivors take its VMs over within
     * 10 s, reconcile with what QEMU shows (the message stays up, not drawn a second time), record the answers
     * once; the webhook receiver sees every event exactly by id, no gap; an SSE client moved to another gateway
     * with Last-Event-ID misses nothing.
     */
    @Test
    void ownerKilledTheOthersTakeItsVmsOverAndNothingIsShownTwiceOrLost() throws Exception {
        int vmCount = 6;
        String url = PgSetup.freshDatabase("fleet_kill");
        Path dir = ApiFixture.tempStore();
        List<BareVm> vms = new ArrayList<>();
        List<GatewayProcess> gateways = new ArrayList<>(Collections.nCopies(3, null));
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver()) {
            for (int i = 0; i < vmCount; i++) {
                vms.add(BareVm.start("fleet-" + i));
            }
            startGateways(gateways, dir, url, vms, hook);
            awaitAllOwnedAndConnected(url, gateways, vmCount);

            SseClient sse = SseClient.open(gateways.get(2).uri, "0");
            StringBuilder targets = new StringBuilder();
            for (int i = 0; i < vmCount; i++) {
                targets.append(i == 0 ? "" : ",").append("\"vm").append(i).append('"');
            }
            String id = gateways.get(0).call("POST", "/messages", "{\"vms\": [" + targets
                    + "], \"title\": \"Fleet broadcast\", \"ttlSeconds\": 600}").path("id").asText();
            String ov = "tmc-" + id;
            for (int i = 0; i < vmCount; i++) {
                BareVm vm = vms.get(i);
                ApiFixture.await("vm" + i + " shows the broadcast", T, () -> vm.ours().equals(List.of(ov)));
            }
            awaitStates(gateways.get(1), id, vmCount, "shown");

            // Answer vm0 before the kill.
            click(vms.get(0), ov);
            awaitState(gateways.get(1), id, "vm0", "answered");

            // Kill the gateway that owns the most VMs.
            Map<String, String> owners = owners(url);
            String victim = mostOwning(owners);
            int v = Integer.parseInt(victim.substring(1));
            List<String> victimVms = owners.entrySet().stream().filter(e -> e.getValue().equals(victim))
                    .map(Map.Entry::getKey).toList();
            assertTrue(!victimVms.isEmpty());
            long killedAt = System.nanoTime();
            gateways.get(v).kill9();
            sse.close(); // the SSE client leaves now; it comes back at the end, to another gateway
            List<GatewayProcess> alive = new ArrayList<>(gateways);
            alive.remove(v);
            Map<String, Long> failover = new LinkedHashMap<>();
            long deadline = killedAt + T.toNanos();
            while (failover.size() < victimVms.size() && System.nanoTime() < deadline) {
                Map<String, String> now = owners(url);
                Map<String, Boolean> connected = connected(alive);
                for (String vmId : victimVms) {
                    if (!failover.containsKey(vmId) && now.containsKey(vmId) && !now.get(vmId).equals(victim)
                            && connected.getOrDefault(vmId, false)) {
                        failover.put(vmId, (System.nanoTime() - killedAt) / 1_000_000);
                    }
                }
                Thread.sleep(20);
            }
            System.out.println("fleet: failover after kill -9 of " + victim + " (ms per VM, lease " + LEASE_MS
                    + " ms): " + failover);
            assertEquals(victimVms.size(), failover.size(), "every VM of " + victim + " has a new owner: " + failover);
            for (Map.Entry<String, Long> e : failover.entrySet()) {
                assertTrue(e.getValue() <= 10_000, e.getKey() + " taken over after " + e.getValue() + " ms");
            }
            // Reconciled: every VM shows the broadcast once (vm0: nothing, it was answered).
            for (int i = 0; i < vmCount; i++) {
                BareVm vm = vms.get(i);
                List<String> expect = i == 0 ? List.of() : List.of(ov);
                ApiFixture.await("vm" + i + " after the take-over", T, () -> vm.ours().equals(expect));
            }
            // Answer the rest, on whichever gateway owns each VM now.
            for (int i = 1; i < vmCount; i++) {
                click(vms.get(i), ov);
            }
            awaitStates(alive.get(0), id, vmCount, "answered");

            // Each delivery: queued, shown, answered: once each, in that order, in the outbox.
            for (int i = 0; i < vmCount; i++) {
                assertEquals(List.of("queued", "shown", "answered"), query(url, "select state from tmc_outbox where"
                        + " message_id = '" + id + "' and vm_id = 'vm" + i + "' order by seq"), "vm" + i);
            }
            // Overlays were added once per VM, except where a new owner had to draw again: count QEMU's view at the
            // end instead: nothing of ours is left anywhere.
            for (BareVm vm : vms) {
                assertEquals(List.of(), vm.ours());
            }
            long last = Long.parseLong(query(url, "select max(seq) from tmc_outbox").get(0));

            // Webhooks: every seq, unique ids, in order per message (at least once: repeats share their id).
            ApiFixture.await("webhooks caught up", T, () -> hook.received.stream()
                    .mapToLong(n -> n.path("seq").asLong()).max().orElse(0) >= last);
            Set<Long> seqs = new TreeSet<>();
            Map<String, Long> lastSeqPerDelivery = new HashMap<>();
            for (JsonNode n : hook.received) {
                long s = n.path("seq").asLong();
                if (!seqs.add(s)) {
                    continue; // a repeat (at least once), same id: the receiver drops it
                }
                String key = n.path("message").asText() + "/" + n.path("vm").asText();
                Long prev = lastSeqPerDelivery.put(key, s);
                assertTrue(prev == null || prev < s, "events of " + key + " out of order: " + prev + " then " + s);
            }
            assertEquals(contiguous(1, last), seqs, "every event reached the webhook, none missing");

            // SSE: the client that left g2 comes back to another gateway with Last-Event-ID; together it saw all.
            assertTrue(sse.lastId() != null && Long.parseLong(sse.lastId()) < last, "left before the end");
            GatewayProcess other = alive.get(alive.get(0) == gateways.get(2) ? 1 : 0);
            SseClient again = SseClient.open(other.uri, sse.lastId());
            again.awaitId(last, T);
            again.close();
            Set<Long> seen = new TreeSet<>(sse.ids());
            seen.addAll(again.ids());
            assertEquals(contiguous(1, last), seen, "SSE across two gateways missed nothing");
            assertTrue(Collections.disjoint(sse.ids(), again.ids()), "nothing sent twice after Last-Event-ID");
        } finally {
            GatewayProcess.closeAll(gateways);
            vms.forEach(BareVm::close);
        }
    }

    /**
     * A stale owner: the gateway holding a VM is paused (SIGSTOP) until another takes the VM over, a message is
     * posted to it while it is paused, then it resumes (SIGCONT). It must not show anything: the message is shown
     * once, by the new owner, under the new epoch; the resumed gateway serves again.
     */
    @Test
    void aPausedOwnerThatResumesCannotInject() throws Exception {
        String url = PgSetup.freshDatabase("fleet_stale");
        Path dir = ApiFixture.tempStore();
        List<GatewayProcess> gateways = new ArrayList<>(Collections.nCopies(2, null));
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver();
             BareVm vm = BareVm.start("stale")) {
            startGateways(gateways, dir, url, List.of(vm), hook);
            awaitAllOwnedAndConnected(url, gateways, 1);
            String owner = owners(url).get("vm0");
            long epoch = Long.parseLong(query(url, "select epoch from tmc_lease where name = 'vm:vm0'").get(0));
            GatewayProcess stale = gateways.get(Integer.parseInt(owner.substring(1)));
            GatewayProcess fresh = gateways.get(1 - Integer.parseInt(owner.substring(1)));

            signal(stale, "STOP");
            try {
                ApiFixture.await("the other gateway takes vm0 over", T, () -> {
                    try {
                        return !owners(url).get("vm0").equals(owner);
                    } catch (Exception e) {
                        return false;
                    }
                });
                // Posted to the paused gateway: it handles the request when it resumes, still holding the
                // channel it had (QEMU's monitor keeps its connection: the new owner cannot reach QEMU yet).
                HttpRequest post = HttpRequest.newBuilder(stale.uri.resolve("/api/v1/messages"))
                        .header("Authorization", "Bearer " + ApiFixture.admin())
                        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"vms\": [\"vm0\"], \"title\": \"Stale\"}"))
                        .build();
                var pending = http.sendAsync(post, HttpResponse.BodyHandlers.ofString());
                signal(stale, "CONT");
                HttpResponse<String> r = pending.get(60, TimeUnit.SECONDS);
                assertEquals(201, r.statusCode(), r.body());
                String id = ApiFixture.JSON.readTree(r.body()).path("id").asText();
                ApiFixture.await("shown by the new owner", T, () -> vm.ours().equals(List.of("tmc-" + id)));
                awaitStates(fresh, id, 1, "shown");
                long newEpoch = Long.parseLong(query(url, "select epoch from tmc_lease where name = 'vm:vm0'").get(0));
                assertTrue(newEpoch > epoch);
                // Every change the channel made for vm0 since the pause carries the new owner's epoch.
                assertEquals(List.of("shown:" + (1 - Integer.parseInt(owner.substring(1))) + ":" + newEpoch),
                        query(url, "select state || ':' || substr(by_node, 2) || ':' || by_epoch from tmc_outbox"
                                + " where message_id = '" + id + "' and by_node is not null order by seq"));
                click(vm, "tmc-" + id);
                awaitStates(stale, id, 1, "answered"); // the resumed gateway serves the API again
                assertEquals(List.of("queued", "shown", "answered"), query(url, "select state from tmc_outbox"
                        + " where message_id = '" + id + "' order by seq"));
            } finally {
                signal(stale, "CONT");
            }
        } finally {
            GatewayProcess.closeAll(gateways);
        }
    }

    /**
     * Fleet-wide admission: a user's console session runs on one gateway; an administrator revokes the user on
     * another. The session ends (4403) and the same token is refused on the first gateway too. A single-use token
     * (jti) that opened a session on one gateway is refused by the other.
     */
    @Test
    void aRevocationOnOneGatewayClosesTheSessionOnAnotherAndAJtiIsSpentFleetWide() throws Exception {
        String url = PgSetup.freshDatabase("fleet_revoke");
        Path dir = ApiFixture.tempStore();
        List<GatewayProcess> gateways = new ArrayList<>(Collections.nCopies(2, null));
        try (ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver();
             BareVm vm = BareVm.start("revoke")) {
            startGateways(gateways, dir, url, List.of(vm), hook);
            String token = ApiFixture.token("alice", "acme", null);
            java.net.URI console = java.net.URI.create("ws://" + gateways.get(1).uri.getAuthority() + "/vnc/vm0");
            Map<String, String> headers = Map.of("Origin", "http://localhost", "Authorization", "Bearer " + token);
            try (tmc.testkit.WebSocketTransport ws = tmc.testkit.WebSocketTransport.connect(console, headers,
                    new ArrayList<>())) {
                // Read the server's ProtocolVersion: the client reads on, so the close frame will reach it.
                assertEquals("RFB 003.008\n", new String(ws.in().readNBytes(12), StandardCharsets.US_ASCII));
                ApiFixture.await("the session is up on g1", T, () -> {
                    try {
                        return gateways.get(1).call("GET", "/sessions", null).path("sessions").size() == 1;
                    } catch (Exception e) {
                        return false;
                    }
                });
                JsonNode r = gateways.get(0).call("DELETE", "/sessions?user=alice&tenant=acme", null);
                assertEquals(0, r.path("closed").asInt(), "g0 had no session of alice's");
                tmc.testkit.WebSocketTransport.Close close = ws.awaitClose(Duration.ofSeconds(10));
                assertEquals("4403 session revoked by an administrator", close.code() + " " + close.reason());
            }
            try (tmc.testkit.WebSocketTransport again = tmc.testkit.WebSocketTransport.connect(console, headers,
                    new ArrayList<>())) {
                tmc.testkit.WebSocketTransport.Close close = again.awaitClose(Duration.ofSeconds(10));
                assertEquals("4401 the user's tokens were revoked by an administrator", close.code() + " "
                        + close.reason());
            }

            String once = singleUse("bob", "fleet-once-1");
            Map<String, String> onceHeaders = Map.of("Origin", "http://localhost", "Authorization", "Bearer " + once);
            try (tmc.testkit.WebSocketTransport first = tmc.testkit.WebSocketTransport.connect(java.net.URI.create(
                    "ws://" + gateways.get(0).uri.getAuthority() + "/vnc/vm0"), onceHeaders, new ArrayList<>())) {
                assertEquals("RFB 003.008\n", new String(first.in().readNBytes(12), StandardCharsets.US_ASCII));
                try (tmc.testkit.WebSocketTransport second = tmc.testkit.WebSocketTransport.connect(console,
                        onceHeaders, new ArrayList<>())) {
                    tmc.testkit.WebSocketTransport.Close close = second.awaitClose(Duration.ofSeconds(10));
                    assertEquals("4401 token already used (jti is single-use)", close.code() + " " + close.reason());
                }
            }
        } finally {
            GatewayProcess.closeAll(gateways);
        }
    }

    // ===== helpers =====

    /** Starts gateways g0, g1, ... one after the other, into {@code gateways} (so that finally can stop them). */
    static void startGateways(List<GatewayProcess> gateways, Path dir, String url, List<BareVm> vms,
                              ApiFixture.WebhookReceiver hook) throws Exception {
        for (int i = 0; i < gateways.size(); i++) {
            gateways.set(i, GatewayProcess.start(config(dir, "g" + i, url, vms, hook.url()),
                    dir.resolve("g" + i + ".log")));
        }
    }

    /** A tenant token with a jti (single-use). */
    static String singleUse(String subject, String jti) throws Exception {
        com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer(ApiFixture.ISSUER)
                .audience(ApiFixture.AUDIENCE).subject(subject).jwtID(jti).claim("tenant", "acme")
                .issueTime(new java.util.Date())
                .expirationTime(java.util.Date.from(java.time.Instant.now().plusSeconds(600))).build();
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256), claims);
        jwt.sign(new com.nimbusds.jose.crypto.MACSigner(ApiFixture.SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    static Path config(Path dir, String node, String pgUrl, List<BareVm> vms, String hookUrl) throws Exception {
        List<ApiFixture.Vm> list = new ArrayList<>();
        for (int i = 0; i < vms.size(); i++) {
            list.add(new ApiFixture.Vm("vm" + i, "acme", "unix:" + vms.get(i).qmpSocket(),
                    "tcp:127.0.0.1:" + vms.get(i).vncPort));
        }
        ObjectNode json = (ObjectNode) ApiFixture.JSON.readTree(ApiFixture.configJson(list, dir, hookUrl));
        json.putObject("store").put("url", pgUrl);
        json.putObject("fleet").put("node", node).put("leaseMillis", LEASE_MS);
        Path p = dir.resolve(node + ".json");
        Files.writeString(p, json.toString());
        return p;
    }


    /** Waits, on {@code g}'s event stream, until the delivery of {@code id} to {@code vm} reaches {@code state}. */
    void awaitState(GatewayProcess g, String id, String vm, String state) throws Exception {
        try (SseClient sse = SseClient.open(g.uri, "0")) {
            sse.await(id + " on " + vm + " " + state, LoadBalancerTest.delivery(id, state).and(data -> {
                try {
                    return ApiFixture.JSON.readTree(data).path("vm").asText().equals(vm);
                } catch (Exception e) {
                    return false;
                }
            }), T);
        }
    }

    /** Waits, on {@code g}'s event stream, until the last event of each of {@code count} deliveries is {@code state}.
     */
    void awaitStates(GatewayProcess g, String id, int count, String state) throws Exception {
        Map<String, String> latest = new HashMap<>();
        try (SseClient sse = SseClient.open(g.uri, "0")) {
            sse.await(id + ": all " + count + " " + state, data -> {
                try {
                    JsonNode e = ApiFixture.JSON.readTree(data);
                    if (e.path("message").asText().equals(id)) {
                        latest.put(e.path("vm").asText(), e.path("state").asText());
                    }
                } catch (Exception e) {
                    return false;
                }
                return latest.size() == count && latest.values().stream().allMatch(state::equals);
            }, T);
        }
    }

    /** Which VM each gateway's QMP connection serves now, from every gateway's GET /vms. */
    Map<String, Boolean> connected(List<GatewayProcess> gateways) {
        Map<String, Boolean> out = new HashMap<>();
        for (GatewayProcess g : gateways) {
            try {
                for (JsonNode vm : g.call("GET", "/vms", null).path("vms")) {
                    if (vm.path("qmpConnected").asBoolean()) {
                        out.put(vm.path("id").asText(), true);
                    }
                }
            } catch (Exception e) {
                // a gateway being killed
            }
        }
        return out;
    }

    void awaitAllOwnedAndConnected(String url, List<GatewayProcess> gateways, int vmCount) throws Exception {
        ApiFixture.await("every VM owned and connected", T, () -> {
            try {
                return owners(url).size() == vmCount && connected(gateways).size() == vmCount;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** VM id to owning node, for unexpired VM leases (by the database's view of the gateways' clocks). */
    static Map<String, String> owners(String url) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        long now = System.currentTimeMillis();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select name, owner, expires_at from tmc_lease where name like 'vm:%'")) {
            while (rs.next()) {
                if (rs.getLong(3) > now) {
                    out.put(rs.getString(1).substring(3), rs.getString(2));
                }
            }
        }
        return out;
    }

    static String mostOwning(Map<String, String> owners) {
        Map<String, Integer> count = new HashMap<>();
        owners.values().forEach(o -> count.merge(o, 1, Integer::sum));
        return count.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    static List<String> query(String url, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    static Set<Long> contiguous(long from, long to) {
        Set<Long> s = new TreeSet<>();
        for (long i = from; i <= to; i++) {
            s.add(i);
        }
        return s;
    }

    static void click(BareVm vm, String overlayId) throws Exception {
        int[] ok = vm.hotspotCentre(overlayId, "ok");
        vm.viewer.click(ok[0], ok[1]);
        ApiFixture.await("QEMU took the click on " + vm.name, T, () -> !vm.ours().contains(overlayId));
    }

    static void signal(GatewayProcess g, String sig) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(g.process.pid())).start().waitFor());
    }
}
