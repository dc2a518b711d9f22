package tmc.vmscreen;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;
import tmc.display.DbusDisplay;
import tmc.display.DisplayLink;
import tmc.display.DisplayLinks;
import tmc.display.DisplayEvents;
import tmc.pixels.Cursor;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;
import tmc.rfbserver.RfbDesktop;

/**
 * One VM's screen served by the gateway itself: the VM's picture from QEMU's D-Bus display, messages composited
 * over it ({@link VmOverlays}), served to any number of RFB viewers by an {@link RfbDesktop}, their keyboard and
 * pointer sent back to QEMU unless they answer a message.
 */
public final class VmScreen implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VmScreen.class.getName());

    private final String name;
    private final Forwarder forwarder = new Forwarder();
    private final ScheduledExecutorService timers;
    private DbusDisplay display;
    private VmOverlays overlays;
    private RfbDesktop desktop;

    private VmScreen(String name) {
        this.name = name;
        this.timers = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("overlay-timers " + name)
                .factory());
    }

    /** Attaches to the VM's D-Bus display through its QMP socket and waits for its first picture. */
    public static VmScreen attach(Path qmpSocket, String name, Duration timeout) throws IOException {
        return attach(DisplayLinks.qmp(qmpSocket), qmpSocket.toString(), name, timeout);
    }

    /** Attaches to the VM's D-Bus display through {@code link} ({@code what} names it in errors). */
    public static VmScreen attach(DisplayLink.Opener link, String what, String name, Duration timeout)
            throws IOException {
        VmScreen screen = new VmScreen(name);
        try {
            screen.display = DbusDisplay.attach(link, what, 0, screen.forwarder, timeout);
            screen.wire();
        } catch (IOException | RuntimeException e) {
            // The QMP socket admits one client: an attempt that failed half-way must let go of it.
            if (screen.display != null) screen.display.close();
            screen.timers.shutdownNow();
            throw e;
        }
        return screen;
    }

    /** The compositor and the RFB server over the attached display, and the display's events routed to them. */
    private void wire() {
        // Viewers see the composite: the guest's picture with the messages over it.
        overlays = new VmOverlays(display.framebuffer(), timers, System::currentTimeMillis);
        desktop = new RfbDesktop(overlays.composite(), name,
                client -> new ViewerInput(overlays, new Guest(), client));
        desktop.setLossless(overlays::underAMessage);
        overlays.attach(desktop);
        forwarder.overlays = overlays;
        forwarder.desktop = desktop;
        // A mode switch while the above was wired (QEMU's BIOS picture, then the guest's text mode) went to nobody:
        // take the guest's picture as it is now.
        overlays.guestResized();
    }

    /** The picture as the viewers get it (guest plus messages). */
    public Framebuffer picture() {
        return overlays.composite();
    }

    /** The guest's own picture, without messages. */
    public Framebuffer guestPicture() {
        return display.framebuffer();
    }

    public RfbDesktop desktop() {
        return desktop;
    }

    /** The overlay commands of the patched QEMU's contract, answered here (what the message channel drives). */
    public OverlayCommands overlayCommands() {
        return new OverlayCommands(overlays);
    }

    /** Whether no message is shown (tests, health). */
    public boolean overlayCommandsEmpty() {
        return overlays.query().isEmpty();
    }

    public boolean isClosed() {
        return display.isClosed();
    }

    /** Called once when QEMU goes away (or {@link #close}). */
    public void onClosed(Runnable r) {
        forwarder.onClosed = r;
        if (display.isClosed()) r.run();
    }

    @Override
    public void close() {
        display.close();
        desktop.closeAll();
        timers.shutdownNow();
    }

    /** Passes the display's events on once the compositor exists (nobody watches before). */
    private static final class Forwarder implements DisplayEvents {
        private volatile VmOverlays overlays;
        private volatile RfbDesktop desktop;
        private volatile Runnable onClosed;

        @Override
        public void resized(int width, int height) {
            VmOverlays o = overlays;
            if (o != null) o.guestResized();
        }

        @Override
        public void damaged(Rect area) {
            VmOverlays o = overlays;
            if (o != null) o.guestDamaged(area);
        }

        @Override
        public void cursor(Cursor cursor) {
            RfbDesktop d = desktop;
            if (d != null) d.cursor(cursor);
        }

        @Override
        public void closed(Throwable cause) {
            Runnable r = onClosed;
            if (r != null) r.run();
        }
    }

    /** Input that passed the overlays' rules, to QEMU. */
    private final class Guest implements ViewerInput.Guest {
        @Override
        public void key(int qnum, boolean down) {
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
