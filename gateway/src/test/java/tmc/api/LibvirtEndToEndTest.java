package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tmc.api.EndToEndTest.T;
import static tmc.api.EndToEndTest.awaitOverlay;
import static tmc.api.EndToEndTest.expected;
import static tmc.api.EndToEndTest.match;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import tmc.api.EndToEndTest.OnScreen;
import tmc.libvirt.LibvirtExtension;
import tmc.messages.MessageService;
import tmc.render.Bitmap;
import tmc.testkit.InputEvent;
import tmc.testkit.LibvirtDaemon;
import tmc.testkit.LibvirtDomain;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;
import tmc.testkit.WebSocketTransport;

/**
 * The gateway with VMs from libvirt, against real parts: Debian's libvirtd (private daemon, {@link LibvirtDaemon}),
 * domains of type qemu whose emulator is the patched QEMU, booting the test guest. Messages go through libvirt's
 * {@code qemu-monitor-command}; answers come back as libvirt QEMU monitor events.
 */
class LibvirtEndToEndTest {

    private static ApiFixture gateway(LibvirtDaemon daemon) throws Exception {
        return new ApiFixture(List.of(), ApiFixture.tempStore(), "\"libvirt\":{\"uri\":\"" + daemon.uri() + "\"}",
                m -> new LibvirtExtension(m::service));
    }

    private static boolean connected(ApiFixture f, String vm) {
        return f.messages.service().vmStatus().stream().anyMatch(s -> s.vm().id().equals(vm) && s.qmpConnected());
    }

    private static String state(ApiFixture f, String messageId) {
        return f.messages.service().deliveries(messageId).get(0).state().wire();
    }

    /**
     * Waits until the client shows message {@code id} pixel for pixel where QEMU says it is. A domain that boots
     * changes resolution after the message went up (BIOS, then the guest's mode), and the gateway lays the message
     * out again for the new size: so both where it is and what it looks like are read again until they agree.
     */
    private static OnScreen awaitPicture(ApiFixture f, String id, QmpClient qmp, RfbClient rfb) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        while (true) {
            OnScreen on = awaitOverlay(qmp, "tmc-" + id);
            Bitmap b = expected(f, id, qmp);
            if (on.width() == b.width() && on.height() == b.height()) {
                try {
                    rfb.awaitFrame(c -> match(c, b, on.x(), on.y()) > 0.98, Duration.ofSeconds(3));
                    return on;
                } catch (AssertionError e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("overlay " + on + " never matched the message laid out as " + b.width()
                        + "x" + b.height());
            }
        }
    }

    private static String post(ApiFixture f, String vm, String title) throws Exception {
        ApiFixture.Response r = f.post("/messages", """
                {"vms": ["%s"], "title": "%s", "body": "Please save your work.", "severity": "warning",
                 "buttons": [{"id": "ok", "label": "OK"}, {"id": "later", "label": "Later", "cancel": true}],
                 "ttlSeconds": 600}""".formatted(vm, title));
        assertEquals(201, r.status(), r.toString());
        return r.json().path("id").asText();
    }

    /**
     * A domain running before the gateway starts: its message, sent through the API, shows in the picture a
     * browser gets through the gateway (VNC address from the live domain XML); a click through the gateway answers
     * it (feedback through libvirt's monitor events) and never reaches the guest. Then the domain is pulled and
     * started again (a new QEMU, a new VNC port): the next unanswered message is shown again.
     */
    @Test
    void messageThroughLibvirtShowsAnswersAndSurvivesARestart() throws Exception {
        TestEnv.qemu();
        try (LibvirtDaemon daemon = LibvirtDaemon.start();
             LibvirtDomain dom = LibvirtDomain.define(daemon, "tmc-lv-a", "lvm1", "acme")) {
            dom.start();
            try (ApiFixture f = gateway(daemon)) {
                ApiFixture.await("libvirt VM lvm1 connected", T, () -> connected(f, "lvm1"));
                String tenant = ApiFixture.token("bob", "acme", List.of());
                String id;
                OnScreen on;
                Bitmap b;
                try (WebSocketTransport ws = f.openVnc("lvm1", tenant);
                     RfbClient rfb = RfbClient.connect(ws, null)) {
                    rfb.awaitFrame(c -> c.pixel(0, 0) != -1, T);
                    int mark = dom.mark();
                    id = post(f, "lvm1", "Maintenance tonight");
                    on = awaitPicture(f, id, dom.qmp(), rfb);
                    b = expected(f, id, dom.qmp());
                    Path shots = TestEnv.buildDir().resolve("libvirt");
                    Files.createDirectories(shots);
                    ImageIO.write(rfb.image(), "png", shots.resolve("message-on-libvirt-domain.png").toFile());
                    assertEquals("shown", state(f, id));

                    int[] ok = on.centreOf("ok");
                    rfb.click(ok[0], ok[1]);
                    ApiFixture.await("answered", T, () -> state(f, id).equals("answered"));
                    assertEquals("ok", f.messages.service().deliveries(id).get(0).replyButton());
                    rfb.awaitFrame(c -> match(c, b, on.x(), on.y()) < 0.5, T);
                    // The guest never saw the click that answered: a click beside the message reaches it, and
                    // nothing of the answering click came before.
                    rfb.click(5, 5);
                    dom.serial().awaitInput(mark, e -> e.isKey() && e.code() == InputEvent.BTN_LEFT, T);
                    List<InputEvent> seen = dom.inputEventsSince(mark);
                    long presses = seen.stream().filter(e -> e.isKey() && e.code() == InputEvent.BTN_LEFT
                            && e.value() == 1).count();
                    assertEquals(1, presses, "the guest saw the answering click: " + seen);
                }

                int oldPort = dom.vncPort();
                String id2 = post(f, "lvm1", "Shown again after a restart");
                awaitOverlay(dom.qmp(), "tmc-" + id2);
                dom.destroy();
                ApiFixture.await("lvm1 disconnected", T, () -> !connected(f, "lvm1"));
                dom.start();
                try (WebSocketTransport ws = f.openVnc("lvm1", tenant);
                     RfbClient rfb = RfbClient.connect(ws, null)) {
                    awaitPicture(f, id2, dom.qmp(), rfb);
                }
                assertEquals("shown", state(f, id2));
                System.out.println("libvirt: VNC port before the restart " + oldPort + ", after " + dom.vncPort());
            }
        }
    }

    /**
     * libvirtd restarted under a running gateway (its domains keep running): the gateway notices the lost
     * connection, connects again and takes the domain back, and messages flow as before, answers included.
     */
    @Test
    void libvirtdRestartedUnderTheGateway() throws Exception {
        TestEnv.qemu();
        try (LibvirtDaemon daemon = LibvirtDaemon.start();
             LibvirtDomain dom = LibvirtDomain.define(daemon, "tmc-lv-c", "lvm3", "acme")) {
            dom.start();
            try (ApiFixture f = gateway(daemon)) {
                ApiFixture.await("lvm3 connected", T, () -> connected(f, "lvm3"));
                daemon.restart();
                // The old connection is dead: what follows only works over the one the gateway opens again.
                ApiFixture.await("lvm3 back after the restart", T, () -> connected(f, "lvm3"));
                assertTrue(dom.running(), "the domain ran through the daemon's restart");

                String id = post(f, "lvm3", "After a libvirtd restart");
                try (RfbClient rfb = RfbClient.connect("127.0.0.1", dom.vncPort(), null)) {
                    OnScreen on = awaitPicture(f, id, dom.qmp(), rfb);
                    int[] later = on.centreOf("later");
                    rfb.click(later[0], later[1]);
                }
                ApiFixture.await("answered", T, () -> state(f, id).equals("answered"));
                assertEquals("later", f.messages.service().deliveries(id).get(0).replyButton());
            }
        }
    }

    /**
     * Domains defined after the gateway started are picked up without a restart; a message to a domain that is off
     * waits in its queue and shows when the domain boots; an undefined domain leaves the gateway.
     */
    @Test
    void domainsDefinedLaterAndMessagesToStoppedDomains() throws Exception {
        TestEnv.qemu();
        try (LibvirtDaemon daemon = LibvirtDaemon.start();
             ApiFixture f = gateway(daemon)) {
            MessageService svc = f.messages.service();
            assertTrue(svc.vm("lvm2").isEmpty());
            try (LibvirtDomain dom = LibvirtDomain.define(daemon, "tmc-lv-b", "lvm2", "globex")) {
                ApiFixture.await("lvm2 picked up", T, () -> svc.vm("lvm2").isPresent());
                assertEquals("globex", svc.vm("lvm2").get().tenant());
                assertTrue(f.gateway.vms().find("lvm2").isEmpty(), "an off domain has no VNC server to open");

                String id = post(f, "lvm2", "Waiting for boot");
                assertEquals("queued", state(f, id));
                dom.start();
                ApiFixture.await("lvm2 connected", T, () -> connected(f, "lvm2"));
                ApiFixture.await("shown", T, () -> state(f, id).equals("shown"));
                Optional<tmc.gateway.VmConfig> vm = f.gateway.vms().find("lvm2");
                assertTrue(vm.isPresent());
                assertEquals(dom.vncPort(), vm.get().vnc().port());
                try (RfbClient rfb = RfbClient.connect("127.0.0.1", dom.vncPort(), null)) {
                    awaitPicture(f, id, dom.qmp(), rfb);
                }

                dom.destroy();
                daemon.virsh("undefine", "tmc-lv-b");
                ApiFixture.await("lvm2 gone", T, () -> svc.vm("lvm2").isEmpty());
                assertFalse(f.gateway.vms().find("lvm2").isPresent());
                assertNotEquals("answered", state(f, id));
            }
        }
    }
}
