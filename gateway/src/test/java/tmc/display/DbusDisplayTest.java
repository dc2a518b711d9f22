package tmc.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;
import tmc.testkit.InputEvent;
import tmc.testkit.TestVm;

/**
 * The D-Bus display client against Debian's stock QEMU 7.2 ({@code -Dtmc.stockqemu}) booting the test guest: the
 * picture arrives, damage follows the guest's screen, keys and clicks reach the guest (its serial input log), a
 * resolution change is followed, and QEMU going away is noticed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DbusDisplayTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static TestVm vm;
    private static DisplayRecorder recorder;
    private static DbusDisplay display;

    @BeforeAll
    static void boot() throws IOException {
        vm = TestVm.builder().name("dbus-display").dbusDisplay().start();
        recorder = new DisplayRecorder();
        display = DbusDisplay.attach(vm.qmpSocket(), 0, recorder, WAIT);
    }

    @AfterAll
    static void stop() {
        if (display != null) display.close();
        if (vm != null) vm.close();
    }

    @Test
    @Order(1)
    void theGuestsPictureArrives() {
        recorder.await(e -> e instanceof DisplayRecorder.Resized, WAIT, "first picture");
        Framebuffer fb = display.framebuffer();
        assertTrue(fb.width() >= 640 && fb.height() >= 400, fb.width() + "x" + fb.height());
        // The guest's banner is on screen: some pixels are not black.
        long lit = java.util.Arrays.stream(fb.snapshot()).filter(p -> p != 0).count();
        assertTrue(lit > 500, "banner pixels lit: " + lit);
    }

    @Test
    @Order(2)
    void damageFollowsTheGuestsScreen() {
        int[] before = display.framebuffer().snapshot();
        recorder.clear();
        vm.serial().command("say XXXXXXXXXXXXXXXXXXXXXXXX", WAIT);
        DisplayRecorder.Damaged damaged = (DisplayRecorder.Damaged) recorder.await(
                e -> e instanceof DisplayRecorder.Damaged, WAIT, "damage for the guest's text");
        Rect r = damaged.area();
        Framebuffer fb = display.framebuffer();
        int[] after = fb.snapshot();
        int changedInside = 0;
        for (int y = r.y(); y < r.bottom(); y++) {
            for (int x = r.x(); x < r.right(); x++) {
                if (before[y * fb.width() + x] != after[y * fb.width() + x]) changedInside++;
            }
        }
        assertTrue(changedInside > 0, "the damaged area " + r + " holds changed pixels");
    }

    @Test
    @Order(3)
    void aKeyReachesTheGuest() {
        int mark = vm.mark();
        display.key(0x1e, true); // qnum 0x1e: the "a" key (Linux KEY_A = 30)
        display.key(0x1e, false);
        vm.serial().awaitInput(mark, e -> e.isKey() && e.code() == 30 && e.value() == 0, WAIT);
        List<InputEvent> keys = vm.inputEventsSince(mark).stream().filter(InputEvent::isKey).toList();
        assertEquals(List.of(1, 0), keys.stream().map(InputEvent::value).toList(), keys.toString());
        assertTrue(keys.stream().allMatch(e -> e.code() == 30), keys.toString());
    }

    @Test
    @Order(4)
    void aClickReachesTheGuestAtItsPlace() {
        int mark = vm.mark();
        Framebuffer fb = display.framebuffer();
        display.pointer(fb.width() / 2, fb.height() / 4, 1);
        display.pointer(fb.width() / 2, fb.height() / 4, 0);
        vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
        List<InputEvent> events = vm.inputEventsSince(mark);
        assertEquals(List.of(1, 0), events.stream().filter(InputEvent::isButton).map(InputEvent::value).toList());
        // The tablet reports absolute X (code 0) scaled to 0..32767: the middle of the screen.
        InputEvent absX = events.stream().filter(e -> e.type() == InputEvent.EV_ABS && e.code() == 0)
                .findFirst().orElseThrow(() -> new AssertionError("no absolute X in " + events));
        // QEMU scales the pixel to the tablet range 0..32767 over the console width.
        int expected = (int) ((long) (fb.width() / 2) * 0x7fff / (fb.width() - 1));
        assertTrue(Math.abs(absX.value() - expected) < 100, "ABS_X " + absX.value() + ", expected about " + expected
                + " for x " + fb.width() / 2 + " of " + fb.width() + "; " + events);
    }

    @Test
    @Order(5)
    void aResolutionChangeIsFollowed() {
        recorder.clear();
        vm.setResolution(800, 600);
        recorder.await(e -> e instanceof DisplayRecorder.Resized r && r.width() == 800 && r.height() == 600,
                WAIT, "resize to 800x600");
        assertEquals(Rect.ofSize(800, 600), display.framebuffer().bounds());
    }

    @Test
    @Order(6)
    void qemuGoingAwayIsNoticed() throws InterruptedException {
        recorder.clear();
        vm.kill();
        recorder.await(e -> e instanceof DisplayRecorder.Closed, WAIT, "closed");
        assertTrue(display.isClosed());
    }
}
