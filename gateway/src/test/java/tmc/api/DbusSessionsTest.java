package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tmc.rfbserver.RfbDesktop;
import tmc.testkit.InputEvent;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.vmscreen.VmScreen;

/**
 * Browser sessions of a D-Bus display VM (Debian's stock QEMU 7.2) through the whole gateway, on
 * {@code /vnc/{vmId}}: two browsers see the same message pixel for pixel; keys typed in a console reach the guest
 * exactly, and while a modal message is shown none do and Enter answers it; a browser that stops reading while it
 * keeps asking for updates holds up nobody, and the gateway produces nothing more for it (what it keeps is one
 * bounded region of pending area) while the other browser follows thousands of kilobytes of changes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DbusSessionsTest {
    private static final Duration T = Duration.ofSeconds(60);
    private static final int XK_RETURN = 0xff0d;

    private TestVm vm;
    private ApiFixture f;
    private VmScreen screen;
    private String tenant;

    @BeforeAll
    void boot() throws Exception {
        vm = TestVm.builder().name("dbus-sessions").dbusDisplay().start();
        f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", "unix:" + vm.qmpSocket(), null)),
                ApiFixture.tempStore());
        screen = f.gateway.dbusVms().get("vm1").awaitScreen(T);
        assertNotNull(screen, "the gateway attached to the VM's D-Bus display");
        ApiFixture.await("channel connected", T, () -> f.messages.service().vmStatus().get(0).qmpConnected());
        tenant = ApiFixture.token("bob", "acme", List.of());
    }

    @AfterAll
    void stop() throws Exception {
        if (f != null) f.close();
        if (vm != null) vm.close();
    }

    private RfbClient browser() throws IOException {
        return RfbClient.connect(RawWsTransport.connect(f.gateway.port(), "/vnc/vm1", "http://localhost", tenant),
                null);
    }

    private boolean same(RfbClient c) {
        return c.width() == screen.picture().width() && Arrays.equals(screen.picture().snapshot(), c.pixels());
    }

    @Test
    @Order(1)
    void twoBrowsersSeeOneMessageAndTheModalKeepsEveryKeyFromTheGuest() throws Exception {
        try (RfbClient one = browser(); RfbClient two = browser()) {
            one.awaitFrame(this::same, T);
            two.awaitFrame(this::same, T);
            int mark = vm.mark();
            ApiFixture.Response r = f.post("/messages", """
                    {"vms": ["vm1"], "title": "Two viewers", "body": "Both see this, pixel for pixel.",
                     "severity": "info", "modal": true, "ttlSeconds": 300,
                     "buttons": [{"id": "ok", "label": "OK"}, {"id": "later", "label": "Later", "cancel": true}]}""");
            assertEquals(201, r.status(), r.toString());
            String id = r.json().path("id").asText();
            ApiFixture.await("shown", T, () -> !screen.overlayCommandsEmpty());
            one.awaitFrame(c -> !screen.overlayCommandsEmpty() && same(c), T);
            two.awaitFrame(c -> !screen.overlayCommandsEmpty() && same(c), T);

            // Modal: a typed key stays with the message; Enter from the other browser answers it.
            one.tap('a');
            // The two browsers are two sockets: Enter must not overtake the a. The gateway reads a viewer's messages
            // in order on one thread, so its answer to a full update request asked after the a means the a was dealt with.
            int asked = one.mark();
            one.requestUpdate(false);
            one.awaitFrame(c -> c.updatesSince(asked).stream().mapToLong(u -> u.rects().stream()
                    .mapToLong(rect -> (long) rect.width() * rect.height()).sum()).sum() >= (long) c.width() * c.height(), T);
            two.tap(XK_RETURN);
            ApiFixture.await("answered", T, () -> f.messages.service().deliveries(id).get(0).state().wire()
                    .equals("answered"));
            assertEquals("ok", f.get("/messages/" + id).json().path("deliveries").get(0).path("reply")
                    .path("button").asText());
            one.awaitFrame(c -> screen.overlayCommandsEmpty() && same(c), T);

            // Now keys go to the guest, exactly: h e l l o, and nothing typed while the message was up.
            for (char ch : "hello".toCharArray()) one.tap(ch);
            vm.serial().awaitInput(mark, e -> e.isKey() && e.code() == InputEvent.KEY_O && e.value() == 0, T);
            assertEquals(InputEvent.HELLO, InputEvent.keyTransitions(vm.inputEventsSince(mark)),
                    "the guest got hello and neither the a nor the Enter");
        }
    }

    @Test
    @Order(2)
    void aStalledBrowserHoldsUpNobodyAndCostsABoundedRegion() throws Exception {
        RfbDesktop desktop = screen.desktop();
        int w = screen.picture().width();
        int h = screen.picture().height();
        try (RfbClient live = browser()) {
            live.awaitFrame(this::same, T);
            // The first test's browsers are gone: the live one is the desktop's first viewer, the stalled its second.
            ApiFixture.await("one viewer", T, () -> desktop.clientCount() == 1);
            try (RawWsTransport stalled = RawWsTransport.connect(f.gateway.port(), "/vnc/vm1", "http://localhost",
                    tenant)) {
                DataOutputStream out = new DataOutputStream(stalled.out());
                handshake(new DataInputStream(stalled.in()), out);
                ApiFixture.await("two viewers", T, () -> desktop.clientCount() == 2);
                // From here on the stalled browser never reads again, but keeps asking for updates in Raw.
                Random random = new Random(11);
                long stalledBytes = -1;
                int unchanged = 0;
                long liveBytes = 0;
                for (int step = 0; step < 400 && unchanged < 40; step++) {
                    noise(random, w / 2, h / 2);
                    requestUpdate(out, w, h);
                    live.awaitFrame(this::same, T);
                    long now = desktop.bytesSent().get(1);
                    unchanged = now == stalledBytes ? unchanged + 1 : 0;
                    stalledBytes = now;
                    assertTrue(desktop.maxPendingArea() <= (long) w * h,
                            "pending area " + desktop.maxPendingArea() + " beyond one screen");
                }
                assertEquals(40, unchanged, "the stalled browser's writer stopped (its socket is full)");
                // 40 more full changes to the live browser; the gateway writes nothing more for the stalled one.
                long liveBefore = desktop.bytesSent().get(0);
                for (int step = 0; step < 40; step++) {
                    noise(random, w / 2, h / 2);
                    requestUpdate(out, w, h);
                    live.awaitFrame(this::same, T);
                }
                liveBytes = desktop.bytesSent().get(0) - liveBefore;
                assertEquals(stalledBytes, (long) desktop.bytesSent().get(1), "nothing produced for a stalled browser");
                assertTrue(liveBytes > 40L * (w / 2) * (h / 2) * 4 / 2,
                        "the live browser kept getting the changes: " + liveBytes + " bytes");
                assertTrue(desktop.maxPendingArea() <= (long) w * h);
            }
            f.gateway.dbusVms().get("vm1").screen().overlayCommands().execute("vnc-overlay-remove",
                    new ObjectMapper().createObjectNode().put("id", "noise"), T);
            live.awaitFrame(c -> screen.overlayCommandsEmpty() && same(c), T);
            ApiFixture.await("the stalled session ended", T, () -> desktop.clientCount() == 1);
        }
    }

    /** A full-screen-half of incompressible pixels, replaced at every step: each one is all new damage. */
    private void noise(Random random, int w, int h) throws Exception {
        byte[] px = new byte[w * h * 4];
        random.nextBytes(px);
        for (int i = 3; i < px.length; i += 4) px[i] = (byte) 255;
        ObjectNode a = new ObjectMapper().createObjectNode();
        a.put("id", "noise").put("width", w).put("height", h).put("pixels", Base64.getEncoder().encodeToString(px));
        screen.overlayCommands().execute("vnc-overlay-add", a, T);
    }

    /** RFB 3.8, security None, shared, then SetEncodings Raw only. */
    private static void handshake(DataInputStream in, DataOutputStream out) throws IOException {
        byte[] version = new byte[12];
        in.readFully(version);
        out.write("RFB 003.008\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.flush();
        int types = in.readUnsignedByte();
        in.readFully(new byte[types]);
        out.writeByte(1);
        out.flush();
        assertEquals(0, in.readInt(), "security result");
        out.writeByte(1);
        out.flush();
        in.readFully(new byte[20]);
        in.readFully(new byte[in.readInt()]);
        out.writeByte(2);
        out.writeByte(0);
        out.writeShort(1);
        out.writeInt(0);
        out.flush();
    }

    private static void requestUpdate(DataOutputStream out, int w, int h) throws IOException {
        out.writeByte(3);
        out.writeByte(1);
        out.writeShort(0);
        out.writeShort(0);
        out.writeShort(w);
        out.writeShort(h);
        out.flush();
    }
}
