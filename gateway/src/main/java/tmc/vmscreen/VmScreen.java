package tmc.vmscreen;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import tmc.display.DbusDisplay;
import tmc.display.DisplayEvents;
import tmc.pixels.Cursor;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;
import tmc.rfbserver.InputSink;
import tmc.rfbserver.RfbDesktop;

/**
 * One VM's screen served by the gateway itself: the VM's picture from QEMU's D-Bus display, served to any number of
 * RFB viewers by an {@link RfbDesktop}, their keyboard and pointer sent back to QEMU.
 */
public final class VmScreen implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VmScreen.class.getName());

    private final String name;
    private final Forwarder forwarder = new Forwarder();
    private DbusDisplay display;
    private RfbDesktop desktop;

    private VmScreen(String name) {
        this.name = name;
    }

    /** Attaches to the VM's D-Bus display through its QMP socket and waits for its first picture. */
    public static VmScreen attach(Path qmpSocket, String name, Duration timeout) throws IOException {
        VmScreen screen = new VmScreen(name);
        screen.display = DbusDisplay.attach(qmpSocket, 0, screen.forwarder, timeout);
        screen.desktop = new RfbDesktop(screen.display.framebuffer(), name, screen.new Input());
        screen.forwarder.desktop = screen.desktop;
        return screen;
    }

    /** The VM's picture as the viewers get it. */
    public Framebuffer picture() {
        return display.framebuffer();
    }

    public RfbDesktop desktop() {
        return desktop;
    }

    public boolean isClosed() {
        return display.isClosed();
    }

    @Override
    public void close() {
        display.close();
    }

    /** Passes the display's events on to the RFB server once it exists (nobody watches before). */
    private static final class Forwarder implements DisplayEvents {
        private volatile RfbDesktop desktop;

        @Override
        public void resized(int width, int height) {
            RfbDesktop d = desktop;
            if (d != null) d.resized();
        }

        @Override
        public void damaged(Rect area) {
            RfbDesktop d = desktop;
            if (d != null) d.damaged(area);
        }

        @Override
        public void cursor(Cursor cursor) {
            RfbDesktop d = desktop;
            if (d != null) d.cursor(cursor);
        }
    }

    /** Viewers' input to QEMU. */
    private final class Input implements InputSink {
        @Override
        public void key(int keysym, int keycode, boolean down) {
            int qnum = keycode > 0 ? keycode : Keymap.qnum(keysym);
            if (qnum <= 0) {
                LOG.fine(() -> name + ": no key number for keysym 0x" + Integer.toHexString(keysym));
                return;
            }
            send(() -> display.key(qnum, down));
        }

        @Override
        public void pointer(int x, int y, int buttonMask) {
            send(() -> display.pointer(x, y, buttonMask));
        }

        private void send(Runnable call) {
            if (display.isClosed()) return;
            try {
                call.run();
            } catch (RuntimeException e) {
                // A D-Bus error for one event (QEMU busy, going away) must not end the viewer's session.
                LOG.log(Level.FINE, name + ": input not delivered", e);
            }
        }
    }
}
