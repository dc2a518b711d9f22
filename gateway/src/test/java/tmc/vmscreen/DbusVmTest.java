package tmc.vmscreen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tmc.qmp.QmpCommands;
import tmc.qmp.QmpConnection;
import tmc.qmp.QmpTransport;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * The supervisor of a D-Bus display VM as the message service sees it (a QmpTransport): connected with generation
 * 1, QEMU killed and booted again, disconnected, connected again with generation 2 on a new screen, and the overlay
 * commands work on both; a viewer of the old screen is disconnected rather than left on a dead picture. The VM's
 * listener for native viewers refuses a wrong password and stays bound through the restart, serving the new screen.
 */
class DbusVmTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    sealed interface Seen permits Connected, Disconnected {}

    record Connected(QmpCommands commands, long generation) implements Seen {}

    record Disconnected() implements Seen {}

    @Test
    void qemuRestartedIsAttachedAgainAndTheChannelIsToldSo() throws Exception {
        LinkedBlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
        try (TestVm vm = TestVm.builder().name("dbus-vm").dbusDisplay().start();
                DbusVm dbusVm = new DbusVm("dbus-vm", vm.qmpSocket())
                        .listenForViewers(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "pw-11")
                        .start()) {
            QmpTransport transport = dbusVm.transport().start("dbus-vm", new QmpConnection.Handler() {
                @Override
                public void onConnected(QmpCommands client, long generation) {
                    seen.add(new Connected(client, generation));
                }

                @Override
                public void onEvent(String name, JsonNode data) {}

                @Override
                public void onDisconnected(Throwable cause) {
                    seen.add(new Disconnected());
                }
            });
            Connected first = (Connected) seen.poll(60, TimeUnit.SECONDS);
            assertNotNull(first, "connected");
            assertEquals(1, first.generation());
            assertEquals(1, first.commands().execute("query-vnc-overlay-displays", null, WAIT).size());
            VmScreen before = dbusVm.screen();
            // A native viewer on the VM's own listener, behind its password.
            int port = dbusVm.vncPort();
            IOException refused = assertThrows(IOException.class, () -> RfbClient.connect("127.0.0.1", port, "pw-12"));
            assertTrue(refused.getMessage().startsWith("authentication failed"), refused.getMessage());
            RfbClient viewer = RfbClient.connect("127.0.0.1", port, "pw-11");
            viewer.awaitFrame(c -> c.width() > 0, WAIT);

            vm.restart();
            assertTrue(seen.poll(60, TimeUnit.SECONDS) instanceof Disconnected, "disconnected");
            Connected second = (Connected) seen.poll(60, TimeUnit.SECONDS);
            assertNotNull(second, "connected again");
            assertEquals(2, second.generation());
            assertEquals(0, second.commands().execute("query-vnc-overlays", null, WAIT).size());
            assertTrue(dbusVm.screen() != before, "a new screen");
            viewer.awaitFrame(RfbClient::isClosed, WAIT);
            viewer.close();
            // The listener stayed bound through the restart and serves the new screen, pixel for pixel.
            try (RfbClient again = RfbClient.connect("127.0.0.1", port, "pw-11")) {
                again.awaitFrame(c -> c.width() == dbusVm.screen().picture().width()
                        && java.util.Arrays.equals(c.pixels(), dbusVm.screen().picture().snapshot()), WAIT);
            }
            transport.close();
        }
    }
}
