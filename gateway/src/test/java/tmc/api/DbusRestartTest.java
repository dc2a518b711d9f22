package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.testkit.InputEvent;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * The gateway killed (SIGKILL) while it shows a message on a D-Bus display VM (stock QEMU 7.2): the message was the
 * gateway's own drawing, so it went with the process; the restarted gateway attaches to the display again and shows
 * it again, pixel for pixel as before, and the answer given then is recorded. The guest never gets the answering key.
 */
class DbusRestartTest {
    private static final Duration T = Duration.ofSeconds(60);
    private static final int XK_RETURN = 0xff0d;
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aKilledGatewayShowsTheMessageAgainAfterItsRestart() throws Exception {
        Path dir = ApiFixture.tempStore();
        try (TestVm vm = TestVm.builder().name("dbus-restart").dbusDisplay().start();
             ApiFixture.WebhookReceiver hook = new ApiFixture.WebhookReceiver()) {
            Path config = dir.resolve("gateway.json");
            Files.writeString(config, ApiFixture.configJson(List.of(new ApiFixture.Vm("vm1", "acme",
                    "unix:" + vm.qmpSocket(), null)), dir, hook.url()));
            Path log = dir.resolve("gateway.log");
            String tenant = ApiFixture.token("bob", "acme", List.of());

            GatewayProcess g = GatewayProcess.start(config, log);
            int[] guest;
            int[] shown;
            String id;
            int mark = vm.mark();
            try (RfbClient before = browser(g, tenant)) {
                before.awaitFrame(c -> Arrays.stream(c.pixels()).anyMatch(p -> p != 0), T);
                guest = before.pixels();
                id = api(g, "POST", "/messages", """
                        {"vms": ["vm1"], "title": "Survives a restart", "body": "Drawn by the gateway, twice.",
                         "severity": "warning", "modal": true, "ttlSeconds": 600,
                         "buttons": [{"id": "ok", "label": "OK"}, {"id": "later", "label": "Later",
                         "cancel": true}]}""").path("id").asText();
                before.awaitFrame(c -> c.pixelsDifferingFrom(guest) > 10_000, T);
                awaitState(g, id, "shown");
                shown = before.pixels();
                g.kill9();
            }

            g = GatewayProcess.start(config, log);
            try (RfbClient after = browser(g, tenant)) {
                after.awaitFrame(c -> Arrays.equals(c.pixels(), shown), T);
                assertEquals("shown", delivery(g, id).path("state").asText());
                after.tap(XK_RETURN);
                awaitState(g, id, "answered");
                assertEquals("ok", delivery(g, id).path("reply").path("button").asText());
                after.awaitFrame(c -> Arrays.equals(c.pixels(), guest), T);
            } finally {
                g.close();
            }
            assertTrue(vm.inputEventsSince(mark).stream().noneMatch(e -> e.code() == InputEvent.KEY_ENTER),
                    "the answering Enter never reached the guest: " + vm.inputEventsSince(mark));
        }
    }

    /** A browser session on the gateway process, once it has attached to the VM's display. */
    private RfbClient browser(GatewayProcess g, String token) throws Exception {
        ApiFixture.await("attached to the display", T, () -> {
            try {
                return api(g, "GET", "/vms", null).path("vms").get(0).path("qmpConnected").asBoolean();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        return RfbClient.connect(RawWsTransport.connect(g.uri.getPort(), "/vnc/vm1", "http://localhost", token),
                null);
    }


    private JsonNode api(GatewayProcess g, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(g.uri.resolve("/api/v1" + path))
                .header("Authorization", "Bearer " + ApiFixture.admin()).timeout(Duration.ofSeconds(30));
        b = body == null ? b.GET() : b.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() < 300, method + " " + path + ": " + r.statusCode() + " " + r.body());
        return ApiFixture.JSON.readTree(r.body());
    }

    private JsonNode delivery(GatewayProcess g, String id) throws Exception {
        return api(g, "GET", "/messages/" + id, null).path("deliveries").get(0);
    }

    private void awaitState(GatewayProcess g, String id, String state) throws Exception {
        ApiFixture.await(id + " " + state, T, () -> {
            try {
                return delivery(g, id).path("state").asText().equals(state);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }
}
