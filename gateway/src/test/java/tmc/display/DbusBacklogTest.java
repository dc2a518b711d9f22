package tmc.display;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;
import tmc.pixels.Region;
import tmc.testkit.QmpClient;
import tmc.testkit.TestVm;

/**
 * A gateway that lags behind stock QEMU 7.2's D-Bus display keeps no backlog. QEMU sends {@code Update}s without
 * waiting for answers; the owner of the display (compositor, RFB encoders) is stalled on purpose in its first
 * change while the guest floods its console. The gateway must still read and apply everything QEMU sends (its
 * picture equals QEMU's own screendump while the owner is still stalled: nothing waits in a queue), hold at most one
 * screen of pending damage, and hand the stalled owner all of it afterwards in a few coalesced rectangles (the
 * owner's copy, kept only from those, equals the picture).
 */
class DbusBacklogTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int FLOOD_LINES = 300;

    @Test
    void aStalledOwnerGetsCoalescedChangesAndNothingQueues() throws Exception {
        try (TestVm vm = TestVm.builder().name("dbus-backlog").dbusDisplay().start()) {
            Owner owner = new Owner();
            try (DbusDisplay display = DbusDisplay.attach(vm.qmpSocket(), 0, owner, WAIT)) {
                owner.display = display;
                // Changes passed on before the owner knew the display went nowhere: start from the picture as it is.
                owner.resized(0, 0);
                assertTrue(display.fastPath(), "QEMU's picture calls take the fast path (ListenerReader)");
                owner.awaitInSync(WAIT);

                owner.stallNextChange();
                for (int i = 0; i < FLOOD_LINES; i++) {
                    vm.serial().send("say flood-" + i + " the quick brown fox jumps over the lazy dog " + i);
                }
                // The guest handles its commands in order: when it answers, every line is on its screen.
                vm.serial().command("ping", WAIT);
                assertTrue(owner.stalled.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the owner got a change");
                long appliedAtStall = owner.appliedAtStall;

                int[] qemu = screendump(vm.qmp(), vm.logDir().resolve("backlog.ppm"));
                awaitPicture(display, qemu);
                long appliedWhileStalled = display.changesApplied() - appliedAtStall;
                Framebuffer fb = display.framebuffer();
                assertTrue(display.pendingArea() <= (long) fb.width() * fb.height(),
                        "pending " + display.pendingArea() + " pixels");
                assertTrue(appliedWhileStalled >= FLOOD_LINES / 10, "QEMU's updates applied while the owner was"
                        + " stalled: " + appliedWhileStalled);
                assertTrue(owner.changes() == 0, "the stalled owner got no other change: " + owner.changes());

                owner.release();
                owner.awaitInSync(WAIT);
                // The stalled change and the rest of its batch, then one batch for all that QEMU sent meanwhile: each
                // batch is one region of at most MAX_RECTS rectangles.
                int after = owner.changes();
                System.out.printf("DbusBacklogTest: %d updates applied while the owner was stalled, passed on as %d"
                        + " changes%n", appliedWhileStalled, after);
                assertTrue(after <= 1 + 2 * Region.MAX_RECTS, appliedWhileStalled + " updates from QEMU reached the"
                        + " owner as " + after + " changes after it came back (coalesced)");
            }
        }
    }

    /** Waits until the display's picture equals QEMU's, woken by every update applied (not by time). */
    private static void awaitPicture(DbusDisplay display, int[] qemu) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            long seen = display.changesApplied();
            if (Arrays.equals(display.framebuffer().snapshot(), qemu)) return;
            long left = deadline - System.nanoTime();
            if (left <= 0 || !display.awaitChangesApplied(seen, Duration.ofNanos(left))) {
                fail("the gateway's picture did not reach QEMU's own within " + WAIT + " while its owner was"
                        + " stalled (" + display.changesApplied() + " updates applied): QEMU's updates queue");
            }
        }
    }

    /** QEMU's own picture of the console (screendump, PPM P6) as 0x00RRGGBB. */
    static int[] screendump(QmpClient qmp, Path file) throws IOException {
        ObjectNode args = QmpClient.JSON.createObjectNode().put("filename", file.toString());
        qmp.execute("screendump", args);
        byte[] ppm = Files.readAllBytes(file);
        int[] pos = {0};
        String magic = token(ppm, pos);
        if (!magic.equals("P6")) throw new IOException("not a P6 PPM: " + magic);
        int w = Integer.parseInt(token(ppm, pos));
        int h = Integer.parseInt(token(ppm, pos));
        int max = Integer.parseInt(token(ppm, pos));
        if (max != 255) throw new IOException("PPM max " + max);
        int p = pos[0] + 1; // one whitespace byte after the header
        int[] rgb = new int[w * h];
        for (int i = 0; i < rgb.length; i++, p += 3) {
            rgb[i] = (ppm[p] & 0xff) << 16 | (ppm[p + 1] & 0xff) << 8 | (ppm[p + 2] & 0xff);
        }
        return rgb;
    }

    private static String token(byte[] b, int[] pos) {
        int p = pos[0];
        while (Character.isWhitespace(b[p])) p++;
        int start = p;
        while (!Character.isWhitespace(b[p])) p++;
        pos[0] = p;
        return new String(b, start, p - start, StandardCharsets.US_ASCII);
    }

    /**
     * The display's owner: keeps its own copy of the picture from nothing but the changes it is told about, and can
     * be stalled in the next one.
     */
    private static final class Owner implements DisplayEvents {
        volatile DbusDisplay display;
        final CountDownLatch stalled = new CountDownLatch(1);
        private final CountDownLatch gate = new CountDownLatch(1);
        private volatile boolean stallNext;
        volatile long appliedAtStall;
        // Guarded by this.
        private int[] copy = new int[0];
        private int width;
        private int changes;

        synchronized int changes() {
            return changes;
        }

        void stallNextChange() {
            synchronized (this) {
                changes = 0;
            }
            stallNext = true;
        }

        void release() {
            gate.countDown();
        }

        /** Copies the whole picture as it is now (the size passed may already be gone again). */
        @Override
        public void resized(int w, int h) {
            DbusDisplay d = display;
            if (d == null) return;
            synchronized (this) {
                Framebuffer fb = d.framebuffer();
                synchronized (fb) {
                    copy = new int[fb.width() * fb.height()];
                    width = fb.width();
                    fb.read(fb.bounds(), copy);
                }
                notifyAll();
            }
        }

        @Override
        public void damaged(Rect area) {
            if (stallNext) {
                stallNext = false;
                appliedAtStall = display.changesApplied();
                stalled.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            DbusDisplay d = display;
            if (d == null) return;
            synchronized (this) {
                changes++;
                int[] px = new int[area.width() * area.height()];
                d.framebuffer().read(area, px);
                for (int row = 0; row < area.height(); row++) {
                    System.arraycopy(px, row * area.width(), copy, (area.y() + row) * width + area.x(),
                            area.width());
                }
                notifyAll();
            }
        }

        /** Waits until the copy kept from the changes equals the display's picture. */
        synchronized void awaitInSync(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                int[] now = display.framebuffer().snapshot();
                if (Arrays.equals(copy, now)) return;
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    assertArrayEquals(now, copy, "the owner's copy, kept from the changes it was told of");
                }
                // Woken by the next change passed on (every change of the picture is passed on, coalesced).
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
