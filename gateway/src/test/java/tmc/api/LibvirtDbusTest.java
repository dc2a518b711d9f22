package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.libvirt.LibvirtExtension;
import tmc.pixels.Rect;
import tmc.testkit.InputEvent;
import tmc.testkit.LibvirtDaemon;
import tmc.testkit.LibvirtDomain;
import tmc.testkit.RfbClient;
import tmc.vmscreen.DbusVm;
import tmc.vmscreen.VmScreen;

/**
 * A libvirt-managed VM on Debian's stock QEMU 7.2 with {@code <graphics type='dbus' p2p='yes'/>}, against Debian's
 * libvirtd (a private daemon): the gateway, given nothing but libvirt's URI, finds the domain by its tmc metadata,
 * attaches to its D-Bus display through libvirt ({@code virDomainOpenGraphics}), serves its screen on
 * {@code /vnc/{vmId}}, draws a message posted to the API and takes the click that answers it (the guest never sees
 * it); the domain destroyed and started again, the gateway attaches to the new QEMU and the browser sees it.
 */
class LibvirtDbusTest {
    private static final Duration T = Duration.ofSeconds(90);

    @Test
    void aLibvirtDomainsDbusDisplayThroughTheGateway() throws Exception {
        try (LibvirtDaemon daemon = LibvirtDaemon.start();
             LibvirtDomain domain = LibvirtDomain.defineDbus(daemon, "tmc-dbus-1", "lv1", "acme")) {
            domain.start();
            try (ApiFixture f = new ApiFixture(List.of(), ApiFixture.tempStore(),
                    "\"libvirt\":{\"uri\":\"" + daemon.uri() + "\"}", m -> new LibvirtExtension(m::service))) {
                ApiFixture.await("the domain's display attached", T, () -> f.gateway.dbusVms().get("lv1") != null
                        && f.gateway.dbusVms().get("lv1").screen() != null);
                DbusVm vm = f.gateway.dbusVms().get("lv1");
                VmScreen screen = vm.awaitScreen(T);
                ApiFixture.await("channel connected", T, () -> f.messages.service().vmStatus().stream()
                        .anyMatch(s -> s.vm().id().equals("lv1") && s.qmpConnected()));
                String tenant = ApiFixture.token("bob", "acme", List.of());
                try (RawWsTransport ws = RawWsTransport.connect(f.gateway.port(), "/vnc/lv1", "http://localhost",
                        tenant);
                     RfbClient rfb = RfbClient.connect(ws, null)) {
                    rfb.awaitFrame(c -> c.width() == screen.picture().width()
                            && Arrays.equals(screen.picture().snapshot(), c.pixels()), T);
                    int mark = domain.mark();

                    ApiFixture.Response r = f.post("/messages", """
                            {"vms": ["lv1"], "title": "Maintenance tonight", "body": "Please save your work.",
                             "severity": "warning", "buttons": [{"id": "ok", "label": "OK"}], "ttlSeconds": 300}""");
                    assertEquals(201, r.status(), r.toString());
                    String id = r.json().path("id").asText();
                    ApiFixture.await("shown", T, () -> !screen.overlayCommandsEmpty());
                    JsonNode on = screen.overlayCommands().execute("query-vnc-overlays", null, T).get(0);
                    Rect at = new Rect(on.get("x").asInt(), on.get("y").asInt(), on.get("width").asInt(),
                            on.get("height").asInt());
                    rfb.awaitFrame(c -> DbusGatewayTest.sameIn(c, at, screen), T);
                    JsonNode ok = on.get("hotspots").get(0);
                    rfb.click(at.x() + ok.get("x").asInt() + ok.get("width").asInt() / 2,
                            at.y() + ok.get("y").asInt() + ok.get("height").asInt() / 2);
                    ApiFixture.await("answered", T, () -> f.messages.service().deliveries(id).get(0).state().wire()
                            .equals("answered"));
                    assertEquals("ok", f.get("/messages/" + id).json().path("deliveries").get(0).path("reply")
                            .path("button").asText());
                    rfb.click(3, 3);
                    domain.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, T);
                    assertEquals(List.of(1, 0), domain.inputEventsSince(mark).stream().filter(InputEvent::isButton)
                            .map(InputEvent::value).toList(), "the answering click never reached the guest");
                }

                // QEMU pulled out from under the gateway, then booted again: libvirt's lifecycle events tell it.
                domain.destroy();
                ApiFixture.await("the old screen let go", T, () -> vm.screen() != screen);
                domain.start();
                VmScreen again = vm.awaitScreen(T);
                assertNotNull(again, "attached to the restarted domain's display");
                assertNotSame(screen, again);
                try (RawWsTransport ws = RawWsTransport.connect(f.gateway.port(), "/vnc/lv1", "http://localhost",
                        tenant);
                     RfbClient rfb = RfbClient.connect(ws, null)) {
                    rfb.awaitFrame(c -> c.width() == again.picture().width()
                            && Arrays.equals(again.picture().snapshot(), c.pixels()), T);
                }
            }
        }
    }
}
