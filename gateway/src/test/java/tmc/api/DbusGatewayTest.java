package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tmc.pixels.Rect;
import tmc.testkit.InputEvent;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;
import tmc.vmscreen.VmScreen;

/**
 * A D-Bus display VM through the whole gateway, configured as {@code "display": {"dbus": {"qmp": ...}}}: Debian's
 * stock QEMU 7.2, the browser's WebSocket on {@code /vnc/{vmId}} served by the gateway's own RFB server, a message
 * posted to the admin API drawn by the gateway, answered with a click that the guest never sees, and the answer
 * recorded like any other.
 */
class DbusGatewayTest {
    private static final Duration T = Duration.ofSeconds(60);

    @Test
    void postSeeClickAnswerOnStockQemu() throws Exception {
        try (TestVm vm = TestVm.builder().name("dbus-gw").dbusDisplay().start();
             ApiFixture f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", "unix:" + vm.qmpSocket(), null)),
                     ApiFixture.tempStore())) {
            VmScreen screen = f.gateway.dbusVms().get("vm1").awaitScreen(T);
            assertNotNull(screen, "the gateway attached to the VM's D-Bus display");
            ApiFixture.await("channel connected", T, () -> f.messages.service().vmStatus().get(0).qmpConnected());
            String tenant = ApiFixture.token("bob", "acme", List.of());
            // The JDK's own WebSocket client, in the gateway's JVM: its opening handshake continues on the common
            // ForkJoinPool, which a junixsocket poll once held for good (see DbusVm).
            try (WebSocketTransport ws = WebSocketTransport.connect(URI.create("ws://127.0.0.1:" + f.gateway.port()
                    + "/vnc/vm1"), Map.of("Origin", "http://localhost", "Authorization", "Bearer " + tenant),
                    List.of("binary"));
                 RfbClient rfb = RfbClient.connect(ws, null)) {
                rfb.awaitFrame(c -> c.width() == screen.picture().width()
                        && Arrays.equals(screen.picture().snapshot(), c.pixels()), T);
                int mark = vm.mark();

                ApiFixture.Response r = f.post("/messages", """
                        {"vms": ["vm1"], "title": "Maintenance tonight", "body": "Please save your work.",
                         "severity": "warning", "buttons": [{"id": "ok", "label": "OK"},
                         {"id": "later", "label": "Later", "cancel": true}], "ttlSeconds": 300}""");
                assertEquals(201, r.status(), r.toString());
                String id = r.json().path("id").asText();
                ApiFixture.await("shown", T, () -> !screen.overlayCommandsEmpty());
                JsonNode on = screen.overlayCommands().execute("query-vnc-overlays", null, T).get(0);
                assertEquals("tmc-" + id, on.get("id").asText());
                Rect at = new Rect(on.get("x").asInt(), on.get("y").asInt(), on.get("width").asInt(),
                        on.get("height").asInt());
                // The browser's picture is the composite: message included, pixel for pixel.
                rfb.awaitFrame(c -> sameIn(c, at, screen), T);
                JsonNode ok = null;
                for (JsonNode h : on.get("hotspots")) {
                    if (h.get("id").asText().equals("ok")) ok = h;
                }
                assertNotNull(ok);
                rfb.click(at.x() + ok.get("x").asInt() + ok.get("width").asInt() / 2,
                        at.y() + ok.get("y").asInt() + ok.get("height").asInt() / 2);
                ApiFixture.await("answered", T, () -> f.messages.service().deliveries(id).get(0).state().wire()
                        .equals("answered"));
                JsonNode d = f.get("/messages/" + id).json().path("deliveries").get(0);
                assertEquals("ok", d.path("reply").path("button").asText(), d.toString());
                // The message is gone from the browser's picture.
                rfb.awaitFrame(c -> sameIn(c, at, screen) && screen.overlayCommandsEmpty(), T);
                // A click beside it afterwards reaches the guest: the log holds that one and nothing before it.
                rfb.click(3, 3);
                vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, T);
                assertEquals(List.of(1, 0), vm.inputEventsSince(mark).stream().filter(InputEvent::isButton)
                        .map(InputEvent::value).toList(), "the answering click never reached the guest");
            }
        }
    }

    /** Whether the viewer's picture equals the screen's composite (guest and messages) within {@code r}. */
    static boolean sameIn(RfbClient c, Rect r, VmScreen screen) {
        for (int y = r.y(); y < r.bottom(); y++) {
            for (int x = r.x(); x < r.right(); x++) {
                if (c.pixel(x, y) != screen.picture().pixel(x, y)) return false;
            }
        }
        return true;
    }
}
