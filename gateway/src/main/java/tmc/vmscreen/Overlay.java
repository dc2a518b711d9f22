package tmc.vmscreen;

import java.util.List;
import tmc.pixels.Rect;

/**
 * One message bitmap over a D-Bus display VM's screen, with exactly the meaning of the patched QEMU's
 * {@code vnc-overlay-add} arguments (docs/messages.md, qemu-patch/README.md): straight-alpha 0xAARRGGBB pixels,
 * an anchor with offsets, hot-spots in overlay coordinates, keys that answer while it is modal, and its flags.
 * {@code serial} tells a re-added overlay of the same id from the one before (a press on the old one does not count
 * on the new one).
 */
record Overlay(String id, int width, int height, int[] argb, Anchor anchor, int xOffset, int yOffset,
        List<Hotspot> hotspots, List<KeyBinding> keys, boolean modal, boolean clickThrough, boolean dismiss,
        long timeoutMs, long serial) {

    record Hotspot(String id, int x, int y, int width, int height) {
        boolean contains(int px, int py) {
            return px >= x && py >= y && px < x + width && py < y + height;
        }
    }

    /** A key (QKeyCode name and QEMU key number) that answers with a hot-spot while the overlay is modal. */
    record KeyBinding(String key, int qnum, String hotspot) {}

    /** Which screen edge (-1 start, 0 middle, 1 end) each anchor sits at, horizontally and vertically. */
    enum Anchor {
        TOP_LEFT("top-left", -1, -1), TOP("top", 0, -1), TOP_RIGHT("top-right", 1, -1),
        LEFT("left", -1, 0), CENTER("center", 0, 0), RIGHT("right", 1, 0),
        BOTTOM_LEFT("bottom-left", -1, 1), BOTTOM("bottom", 0, 1), BOTTOM_RIGHT("bottom-right", 1, 1);

        final String qapiName;
        final int hside;
        final int vside;

        Anchor(String qapiName, int hside, int vside) {
            this.qapiName = qapiName;
            this.hside = hside;
            this.vside = vside;
        }

        static Anchor of(String name) {
            for (Anchor a : values()) {
                if (a.qapiName.equals(name)) return a;
            }
            return null;
        }
    }

    /** Where the overlay sits on a screen of this size (may stick out: it is clipped when drawn). */
    Rect placement(int screenWidth, int screenHeight) {
        return new Rect(axis(screenWidth, width, anchor.hside, xOffset), axis(screenHeight, height, anchor.vside,
                yOffset), width, height);
    }

    /** As vnc_overlay_axis in the patch: offsets point inwards for edge anchors; kept on screen when it fits. */
    private static int axis(int screen, int size, int side, int offset) {
        int pos;
        if (side < 0) {
            pos = offset;
        } else if (side == 0) {
            pos = (screen - size) / 2 + offset;
        } else {
            pos = screen - size - offset;
        }
        if (size <= screen) pos = Math.max(0, Math.min(pos, screen - size));
        return pos;
    }

    /** The index of the hot-spot at overlay coordinates (ox, oy), or -1. */
    int hotspotAt(int ox, int oy) {
        for (int i = 0; i < hotspots.size(); i++) {
            if (hotspots.get(i).contains(ox, oy)) return i;
        }
        return -1;
    }
}
