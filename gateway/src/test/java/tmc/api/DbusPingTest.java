package tmc.api;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.vmscreen.VmScreen;

/**
 * Keepalive for browser sessions of a D-Bus display VM, as for relayed ones: the gateway pings every
 * {@code limits.pingIntervalSeconds}; a browser that answers stays, one that has stopped reading (and so answers no
 * ping) is cut off after three intervals.
 */
class DbusPingTest {
    private static final Duration T = Duration.ofSeconds(60);

    @Test
    void aBrowserThatStopsAnsweringPingsIsCutOffALiveOneIsNot() throws Exception {
        try (TestVm vm = TestVm.builder().name("dbus-ping").dbusDisplay().start();
             ApiFixture f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", "unix:" + vm.qmpSocket(), null)),
                     ApiFixture.tempStore(), "\"limits\": {\"pingIntervalSeconds\": 1}", null)) {
            VmScreen screen = f.gateway.dbusVms().get("vm1").awaitScreen(T);
            assertNotNull(screen, "attached to the D-Bus display");
            long start = System.nanoTime();
            // The live one reads everything (testkit's raw client answers pings as browsers do); the silent one
            // never reads again after its upgrade, so it answers no ping.
            try (RfbClient live = RfbClient.connect(RawWsTransport.connect(f.gateway.port(), "/vnc/vm1",
                    "http://localhost", ApiFixture.token("live", "acme", List.of())), null);
                 RawWsTransport silent = RawWsTransport.connect(f.gateway.port(), "/vnc/vm1", "http://localhost",
                         ApiFixture.token("silent", "acme", List.of()))) {
                live.awaitFrame(c -> c.width() > 0, T);
                ApiFixture.await("both sessions admitted", T, () -> users(f).contains("silent"));
                ApiFixture.await("the silent browser cut off", Duration.ofSeconds(20),
                        () -> !users(f).contains("silent"));
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(millis >= 2_000 && millis < 15_000, "cut off after " + millis + " ms (3 intervals of 1 s)");
                assertTrue(users(f).contains("live"), "the live browser answers pings and stays");
                int mark = live.mark();
                live.requestUpdate(false);
                live.awaitUpdate(mark, T);
                assertTrue(!live.isClosed() && users(f).equals(List.of("live")));
            }
        }
    }

    private static List<String> users(ApiFixture f) {
        return f.gateway.sessions().list().stream().map(s -> s.info().user()).toList();
    }
}
