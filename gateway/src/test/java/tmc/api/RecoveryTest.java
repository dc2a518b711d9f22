package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * Proof 3: the gateway killed with SIGKILL between accept and inject, and between shown and answer; QEMU killed
 * and restarted. Nothing accepted is lost, never two of our overlays at once, answers recorded.
 */
class RecoveryTest {
    static final Duration T = Duration.ofSeconds(60);


    String state(GatewayProcess g, String id) throws Exception {
        return g.call("GET", "/messages/" + id, null).path("deliveries").get(0).path("state").asText();
    }

    void awaitState(GatewayProcess g, String id, String state) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        String s = null;
        while (System.nanoTime() < deadline) {
            s = state(g, id);
            if (s.equals(state)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(id + " is " + s + ", expected " + state);
    }

    void awaitConnected(GatewayProcess g) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < deadline) {
            if (g.call("GET", "/vms", null).path("vms").get(0).path("qmpConnected").asBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("gateway never connected to QMP");
    }

    /** Our overlays QEMU shows now. */
    static List<String> ours(TestVm vm) {
        List<String> ids = new ArrayList<>();
        for (JsonNode o : vm.qmp().execute("query-vnc-overlays")) {
            if (o.path("id").asText().startsWith("tmc-")) {
                ids.add(o.path("id").asText());
            }
        }
        return ids;
    }

    static void signal(TestVm vm, String sig) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(vm.pid())).start().waitFor());
    }

    /**
     * Step 3 failed now and then (issue 10, "a click that does not answer"): the gateway restarted in step 2 laid
     * the first message out again for the screen size QEMU announced, and that replacement crossed the answer,
     * which QEMU had already dismissed; it stayed up for good. VmChannel now takes such a replacement down
     * (MessageServiceTest.anAnswerCrossingALayoutLeavesNoOverlayBehind is the deterministic proof).
     */
    @Test
    void gatewayKilledAtAnyMomentLosesNothing() throws Exception {
        Path dir = ApiFixture.tempStore();
        try (TestVm vm = TestVm.builder().name("kill9").extraArgs("-trace", "enable=vnc_overlay_*").start();
             ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver()) {
            Path config = dir.resolve("gateway.json");
            Files.writeString(config, ApiFixture.configJson(List.of(new ApiFixture.Vm("vm1", "acme",
                    "unix:" + vm.qmpSocket(), "tcp:127.0.0.1:" + vm.vncPort())), dir, hook.url()));
            Path log = dir.resolve("gateway.log");

            // 1. Killed between accept and inject: QEMU is frozen, so the accepted message cannot be shown yet.
            GatewayProcess g = GatewayProcess.start(config, log);
            awaitConnected(g);
            signal(vm, "STOP");
            String m1;
            try {
                m1 = g.call("POST", "/messages", "{\"vms\": [\"vm1\"], \"title\": \"Survives kill -9\"}")
                        .path("id").asText();
                Thread.sleep(500);
                g.kill9();
            } finally {
                signal(vm, "CONT");
            }
            g = GatewayProcess.start(config, log);
            awaitState(g, m1, "shown");
            assertEquals(List.of("tmc-" + m1), ours(vm));

            // 2. Killed between shown and answer: the restarted gateway leaves the overlay up and records the click.
            g.kill9();
            g = GatewayProcess.start(config, log);
            awaitConnected(g);
            Thread.sleep(1000);
            assertEquals(List.of("tmc-" + m1), ours(vm), "nothing shown twice at once");
            assertEquals("shown", state(g, m1));
            try (RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
                int[] ok = hotspotCentre(vm, "tmc-" + m1, "ok");
                rfb.click(ok[0], ok[1]);
                awaitState(g, m1, "answered");
                assertEquals("ok", g.call("GET", "/messages/" + m1, null).path("deliveries").get(0).path("reply")
                        .path("button").asText());

                // 3. The click lands while the gateway is dead: the answer event is lost with it, so the message
                // comes back after the restart (still "shown" in the store) and the second click is recorded.
                String m2 = g.call("POST", "/messages", "{\"vms\": [\"vm1\"], \"title\": \"Click while down\"}")
                        .path("id").asText();
                awaitState(g, m2, "shown");
                g.kill9();
                int[] ok2 = hotspotCentre(vm, "tmc-" + m2, "ok");
                int serial = vm.mark();
                rfb.click(ok2[0], ok2[1]);
                try {
                    ApiFixture.await("dismissed by QEMU", T, () -> ours(vm).isEmpty());
                } catch (AssertionError e) {
                    vm.serial().command("say step 3", T);
                    throw new AssertionError("step 3: overlays " + vm.qmp().execute("query-vnc-overlays")
                            + ", guest input " + vm.inputEventsSince(serial) + ", QEMU's overlay trace in "
                            + vm.qemuLog(), e);
                }
                g = GatewayProcess.start(config, log);
                ApiFixture.await("shown again", T, () -> ours(vm).equals(List.of("tmc-" + m2)));
                rfb.click(ok2[0], ok2[1]);
                awaitState(g, m2, "answered");
                assertEquals(List.of(), ours(vm));
            }
            // Webhooks: every state change arrived, in order (at least once: a kill between POST and cursor
            // update may repeat one; repeats carry the same seq).
            GatewayProcess last = g;
            ApiFixture.await("webhooks caught up", T, () -> dedup(hook, m1).size() >= 3);
            assertEquals(List.of("queued", "shown", "answered"), dedup(hook, m1));
            ApiFixture.await("webhooks caught up", T, () -> {
                try {
                    return dedup(hook, last.call("GET", "/messages?state=answered", null).path("messages").get(0)
                            .path("id").asText()).size() >= 3;
                } catch (Exception e) {
                    return false;
                }
            });
            last.close();
        }
    }

    static List<String> dedup(ApiFixture.WebhookReceiver hook, String id) {
        Map<Long, String> bySeq = new LinkedHashMap<>();
        for (JsonNode n : hook.received) {
            if (n.path("message").asText().equals(id)) {
                bySeq.putIfAbsent(n.path("seq").asLong(), n.path("state").asText());
            }
        }
        return new ArrayList<>(bySeq.values());
    }

    static int[] hotspotCentre(TestVm vm, String overlayId, String hotspot) {
        for (JsonNode o : vm.qmp().execute("query-vnc-overlays")) {
            if (o.path("id").asText().equals(overlayId)) {
                for (JsonNode h : o.path("hotspots")) {
                    if (h.path("id").asText().equals(hotspot)) {
                        return new int[] {o.path("x").asInt() + h.path("x").asInt() + h.path("width").asInt() / 2,
                                o.path("y").asInt() + h.path("y").asInt() + h.path("height").asInt() / 2};
                    }
                }
            }
        }
        throw new AssertionError("no overlay " + overlayId + " with hot-spot " + hotspot);
    }

    @Test
    void qemuKilledAndRestartedShowsThePendingMessageAgain() throws Exception {
        try (TestVm vm = TestVm.builder().name("qemu-restart").start();
             ApiFixture f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", "unix:" + vm.qmpSocket(),
                     "tcp:127.0.0.1:" + vm.vncPort())), ApiFixture.tempStore())) {
            ApiFixture.await("QMP connected", T, () -> f.messages.service().vmStatus().get(0).qmpConnected());
            String id = f.post("/messages", "{\"vms\": [\"vm1\"], \"title\": \"Still here\"}").json().path("id")
                    .asText();
            ApiFixture.await("shown", T, () -> ours(vm).equals(List.of("tmc-" + id)));
            vm.restart(); // SIGKILL, then boot again with the same sockets and ports
            ApiFixture.await("shown again after the QEMU restart", T, () -> ours(vm).equals(List.of("tmc-" + id)));
            assertEquals("shown", f.messages.service().deliveries(id).get(0).state().wire());
            try (RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
                int[] ok = hotspotCentre(vm, "tmc-" + id, "ok");
                rfb.click(ok[0], ok[1]);
                ApiFixture.await("answered", T, () -> f.messages.service().deliveries(id).get(0).state().wire()
                        .equals("answered"));
            }
        }
    }
}
