package tmc.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The testkit against the real QEMU and guest: what every other test stands on. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TestVmTest {
    static TestVm vm;

    @BeforeAll
    static void boot() throws Exception {
        vm = TestVm.builder().name("testkit").vncPassword("s3cret").start();
    }

    @AfterAll
    static void stop() {
        if (vm != null) vm.close();
    }

    @Test
    @Order(1)
    void rfbClientReadsTheGuestScreenWithVncAuthentication() throws Exception {
        try (RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), "s3cret")) {
            rfb.awaitFrame(c -> {
                int[] px = c.pixels();
                for (int p : px) if (p != 0) return true;
                return false;
            }, Duration.ofSeconds(20));
            assertTrue(rfb.width() >= 640, "width " + rfb.width());
        }
    }

    @Test
    @Order(2)
    void clickReachesTheGuestInputLog() throws Exception {
        try (RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), "s3cret")) {
            int mark = vm.mark();
            rfb.click(100, 100);
            InputEvent down = vm.serial().awaitInput(mark,
                    e -> e.code() == InputEvent.BTN_LEFT && e.value() == 1, Duration.ofSeconds(10));
            assertEquals(InputEvent.EV_KEY, down.type());
            vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, Duration.ofSeconds(10));
        }
    }

    @Test
    @Order(3) // last: the guest's screen is blank in graphics mode afterwards
    void qmpAndResolutionChange() throws Exception {
        assertEquals("running", vm.qmp().execute("query-status").path("status").asText());
        try (RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), "s3cret")) {
            rfb.awaitUpdate(0, Duration.ofSeconds(10));
            vm.setResolution(800, 600);
            rfb.awaitFrame(c -> c.width() == 800 && c.height() == 600, Duration.ofSeconds(10));
            List<RfbClient.Update> updates = rfb.updatesSince(0);
            assertNotEquals(0, updates.size());
        }
    }
}
