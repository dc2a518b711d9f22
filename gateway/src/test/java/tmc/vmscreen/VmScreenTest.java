package tmc.vmscreen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tmc.testkit.InputEvent;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * The whole D-Bus path with no patch anywhere: Debian's stock QEMU 7.2 with {@code -display dbus}, the gateway's
 * display client and RFB server, and an RFB viewer (testkit's RfbClient) on TCP. The viewer sees the guest's picture
 * pixel-exact, its keys and clicks reach the guest's input log, and a resolution change reaches the viewer.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VmScreenTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static ScreenFixture fixture;
    private static TestVm vm;
    private static VmScreen screen;
    private static RfbClient viewer;

    @BeforeAll
    static void boot() throws IOException {
        fixture = ScreenFixture.start("vmscreen", WAIT);
        vm = fixture.vm;
        screen = fixture.screen;
        viewer = fixture.viewer;
    }

    @AfterAll
    static void stop() throws IOException {
        if (fixture != null) fixture.close();
    }

    private static boolean same(RfbClient c) {
        return c.width() == screen.picture().width() && Arrays.equals(screen.picture().snapshot(), c.pixels());
    }

    @Test
    @Order(1)
    void theViewerSeesTheGuestsPicturePixelExact() {
        viewer.awaitFrame(VmScreenTest::same, WAIT);
        long lit = Arrays.stream(viewer.pixels()).filter(p -> p != 0).count();
        assertTrue(lit > 500, "the guest's banner is visible: " + lit + " pixels lit");
    }

    @Test
    @Order(2)
    void theGuestsOwnChangesReachTheViewer() {
        vm.serial().command("say viewer-sees-this", WAIT);
        viewer.awaitFrame(VmScreenTest::same, WAIT);
    }

    @Test
    @Order(3)
    void typedKeysReachTheGuestExactly() throws IOException {
        int mark = vm.mark();
        for (char ch : "hello".toCharArray()) viewer.tap(ch); // keysyms only: mapped by Keymap
        vm.serial().awaitInput(mark, e -> e.isKey() && e.code() == 24 && e.value() == 0, WAIT); // KEY_O up
        List<Integer> downs = vm.inputEventsSince(mark).stream().filter(e -> e.isKey() && e.value() == 1)
                .map(InputEvent::code).toList();
        assertEquals(List.of(35, 18, 38, 38, 24), downs, "KEY_H E L L O");
    }

    @Test
    @Order(4)
    void scancodesFromTheViewerWinOverTheKeymap() throws IOException {
        viewer.setEncodings(0, -223, RfbClient.ENCODING_QEMU_EXT_KEY);
        int mark = vm.mark();
        // Keysym "q" with the scancode of Return: the scancode is what the guest gets (layout-independent).
        viewer.qemuKey('q', 0x1c, true);
        viewer.qemuKey('q', 0x1c, false);
        vm.serial().awaitInput(mark, e -> e.isKey() && e.code() == InputEvent.KEY_ENTER && e.value() == 0, WAIT);
        assertEquals(List.of(InputEvent.KEY_ENTER, InputEvent.KEY_ENTER), vm.inputEventsSince(mark).stream()
                .filter(InputEvent::isKey).map(InputEvent::code).toList());
    }

    @Test
    @Order(5)
    void aClickReachesTheGuest() throws IOException {
        int mark = vm.mark();
        viewer.click(100, 100);
        vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
        assertEquals(List.of(1, 0), vm.inputEventsSince(mark).stream().filter(InputEvent::isButton)
                .map(InputEvent::value).toList());
    }

    @Test
    @Order(6)
    void aResolutionChangeReachesTheViewer() {
        vm.setResolution(800, 600);
        viewer.awaitFrame(c -> c.width() == 800 && c.height() == 600 && same(c), WAIT);
    }
}
