package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;

/**
 * Proof 2: a message to a tenant with five real QEMU VMs; each VM gets its own delivery, each person answers
 * with a different button through the gateway, and each answer is recorded for its VM.
 */
class BroadcastTest {
    static final Duration T = Duration.ofSeconds(60);
    static final int VMS = 5;

    @Test
    void tenantBroadcastToFiveVms() throws Exception {
        List<TestVm> vms = new ArrayList<>();
        ExecutorService boot = Executors.newFixedThreadPool(VMS);
        try {
            List<Future<TestVm>> booting = new ArrayList<>();
            for (int i = 0; i < VMS; i++) {
                String name = "bc" + i;
                booting.add(boot.submit(() -> TestVm.builder().name(name).start()));
            }
            for (Future<TestVm> f : booting) {
                vms.add(f.get());
            }
            List<ApiFixture.Vm> config = new ArrayList<>();
            for (int i = 0; i < VMS; i++) {
                config.add(new ApiFixture.Vm("vm" + i, "acme", "unix:" + vms.get(i).qmpSocket(),
                        "tcp:127.0.0.1:" + vms.get(i).vncPort()));
            }
            config.add(new ApiFixture.Vm("other", "globex", null)); // another tenant's VM: must not get it
            try (ApiFixture f = new ApiFixture(config, ApiFixture.tempStore())) {
                ApiFixture.await("all QMP connected", T, () -> f.messages.service().vmStatus().stream()
                        .filter(s -> s.vm().tenant().equals("acme")).allMatch(s -> s.qmpConnected()));
                long t0 = System.nanoTime();
                ApiFixture.Response r = f.post("/messages", """
                        {"tenant": "acme", "title": "Everyone", "body": "Pick one",
                         "buttons": [{"id": "b0", "label": "Zero"}, {"id": "b1", "label": "One"},
                                     {"id": "b2", "label": "Two"}, {"id": "b3", "label": "Three"}]}""");
                assertEquals(201, r.status(), r.toString());
                String id = r.json().path("id").asText();
                assertEquals(VMS, r.json().path("deliveries").size());
                for (TestVm vm : vms) {
                    EndToEndTest.awaitOverlay(vm, "tmc-" + id);
                }
                System.out.printf("RESULT broadcast vms=%d post_to_all_listed_ms=%.0f%n", VMS,
                        (System.nanoTime() - t0) / 1e6);
                Map<String, String> expected = new HashMap<>();
                for (int i = 0; i < VMS; i++) {
                    String button = "b" + (i % 4);
                    expected.put("vm" + i, button);
                    String token = ApiFixture.token("user" + i, "acme", List.of());
                    try (WebSocketTransport ws = f.openVnc("vm" + i, token);
                         RfbClient rfb = RfbClient.connect(ws, null)) {
                        EndToEndTest.OnScreen on = EndToEndTest.awaitOverlay(vms.get(i), "tmc-" + id);
                        int[] c = on.centreOf(button);
                        rfb.awaitFrame(x -> x.width() > 0, T);
                        rfb.click(c[0], c[1]);
                        String vmId = "vm" + i;
                        ApiFixture.await(vmId + " answered", T, () -> f.messages.service().deliveries(id).stream()
                                .anyMatch(d -> d.vm().equals(vmId) && d.state().wire().equals("answered")));
                    }
                }
                JsonNode ds = f.get("/messages/" + id).json().path("deliveries");
                assertEquals(VMS, ds.size());
                for (JsonNode d : ds) {
                    assertEquals("answered", d.path("state").asText(), d.toString());
                    assertEquals(expected.get(d.path("vm").asText()), d.path("reply").path("button").asText());
                }
            }
        } finally {
            boot.shutdownNow();
            for (TestVm vm : vms) {
                vm.close();
            }
        }
    }
}
