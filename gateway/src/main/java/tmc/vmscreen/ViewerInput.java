package tmc.vmscreen;

import java.util.HashSet;
import java.util.Set;
import tmc.rfbserver.InputSink;

/**
 * One viewer's keyboard and pointer on their way to the VM, with the overlays' rules applied first (as the patch's
 * vnc_overlay_pointer_event / vnc_overlay_key_event do per VNC client):
 * <ul>
 *   <li>a button pressed on an overlay (on a hot-spot, or anywhere unless click-through), or anywhere while a modal
 *       overlay is shown, is swallowed together with its release; pointer motion always passes;</li>
 *   <li>a left click counts on release inside the same hot-spot of the same overlay;</li>
 *   <li>while a modal overlay is shown no key reaches the guest, and its bound keys answer it; the release of a
 *       swallowed key is swallowed too (and auto-repeat answers once).</li>
 * </ul>
 * Called on the viewer's reader thread only, so the fields need no lock.
 */
final class ViewerInput implements InputSink {
    /** Where unswallowed input goes (the D-Bus display). */
    interface Guest {
        void key(int qnum, boolean down);

        void pointer(int x, int y, int buttonMask);
    }

    private final VmOverlays overlays;
    private final Guest guest;
    private final String client;
    private int buttons;
    private int swallowed;
    private long pressSerial;
    private int pressHotspot = -1;
    private final Set<Integer> keysHeld = new HashSet<>();

    ViewerInput(VmOverlays overlays, Guest guest, String client) {
        this.overlays = overlays;
        this.guest = guest;
        this.client = client;
    }

    @Override
    public void pointer(int x, int y, int mask) {
        int pressed = mask & ~buttons;
        int released = buttons & ~mask & swallowed;
        if (pressed != 0 || released != 0) {
            VmOverlays.Hit hit = overlays.hit(x, y);
            if (pressed != 0) {
                boolean swallow = (hit != null && (hit.hotspot() >= 0 || !hit.placed().overlay().clickThrough()))
                        || overlays.modal() != null;
                if (swallow) swallowed |= pressed;
                if ((pressed & 1) != 0) {
                    pressSerial = swallow && hit != null && hit.hotspot() >= 0 ? hit.placed().overlay().serial() : 0;
                    pressHotspot = hit != null ? hit.hotspot() : -1;
                }
            }
            if (released != 0) {
                swallowed &= ~released;
                if ((released & 1) != 0 && pressSerial != 0) {
                    boolean same = hit != null && hit.placed().overlay().serial() == pressSerial
                            && hit.hotspot() == pressHotspot;
                    long serial = pressSerial;
                    pressSerial = 0;
                    if (same) {
                        overlays.answerClick(serial, hit.placed().overlay().hotspots().get(hit.hotspot()).id(),
                                client);
                    }
                }
            }
        }
        buttons = mask;
        guest.pointer(x, y, mask & ~swallowed);
    }

    @Override
    public void key(int keysym, int keycode, boolean down) {
        int qnum = keycode > 0 ? keycode : Keymap.qnum(keysym);
        if (qnum <= 0) return;
        if (!down) {
            if (!keysHeld.remove(qnum)) guest.key(qnum, false);
            return;
        }
        VmOverlays.Placed modal = overlays.modal();
        if (modal == null) {
            guest.key(qnum, true);
            return;
        }
        if (!keysHeld.add(qnum)) return; // auto-repeat of a swallowed key
        for (Overlay.KeyBinding k : modal.overlay().keys()) {
            if (k.qnum() == qnum) {
                overlays.answerKey(modal.overlay().serial(), k, client);
                return;
            }
        }
    }
}
