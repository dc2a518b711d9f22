package tmc.vmscreen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import tmc.pixels.Framebuffer;
import tmc.pixels.Rect;
import tmc.qmp.QmpException;
import tmc.rfbserver.RfbDesktop;

/**
 * The messages over one D-Bus display VM's screen, composited by the gateway: what the patched QEMU's VNC server
 * does with overlays, done here with the same contract. The guest's picture stays untouched in its own framebuffer;
 * viewers are served a second one, the guest with the overlays drawn over it, kept up to date rectangle by rectangle
 * (guest damage, an overlay added, replaced or removed, a resize that re-anchors them).
 *
 * <p>Thread safe: one monitor guards the overlays and the composited picture; the guest's framebuffer is only read.
 */
final class VmOverlays {
    /** The one "VNC display" of a D-Bus display VM, as named in overlay arguments and feedback. */
    static final String DISPLAY_ID = "default";
    /** The patch's limits: 8 overlays per display, 64 MiB of decoded pixels. */
    static final int MAX_OVERLAYS = 8;
    static final long MAX_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An overlay where it is now. */
    record Placed(Overlay overlay, Rect at, long deadlineMillis) {}

    /** What is under a screen point: the topmost overlay there and the hot-spot index (or -1). */
    record Hit(Placed placed, int hotspot) {}

    private final Framebuffer guest;
    private final Framebuffer composite;
    private final ScheduledExecutorService timers;
    private final LongSupplier clock;
    private volatile Consumer<ObjectNode> feedback = f -> {};
    private volatile RfbDesktop desktop;

    // Guarded by this.
    private final List<Placed> overlays = new ArrayList<>();
    private long serial;

    VmOverlays(Framebuffer guest, ScheduledExecutorService timers, LongSupplier clockMillis) {
        this.guest = guest;
        this.timers = timers;
        this.clock = clockMillis;
        this.composite = new Framebuffer(guest.width(), guest.height());
        synchronized (this) {
            compose(guest.bounds());
        }
    }

    /** The picture viewers get. */
    Framebuffer composite() {
        return composite;
    }

    void attach(RfbDesktop desktop) {
        this.desktop = desktop;
    }

    /** Where VNC_OVERLAY_FEEDBACK event data goes. */
    void onFeedback(Consumer<ObjectNode> sink) {
        this.feedback = sink;
    }

    long nextSerial() {
        synchronized (this) {
            return ++serial;
        }
    }

    // ===== the contract: add, remove, query =====

    /** vnc-overlay-add: replaces an overlay of the same id atomically; the last added is on top. */
    synchronized void add(Overlay ov) throws QmpException {
        Placed old = find(ov.id());
        long bytes = (long) ov.width() * ov.height() * 4;
        for (Placed p : overlays) {
            if (p != old) bytes += (long) p.overlay().width() * p.overlay().height() * 4;
        }
        if (old == null && overlays.size() >= MAX_OVERLAYS) {
            throw OverlayArgs.error("at most " + MAX_OVERLAYS + " overlays per display");
        }
        if (bytes > MAX_BYTES) throw OverlayArgs.error("overlays would exceed " + (MAX_BYTES >> 20) + " MiB");
        long deadline = ov.timeoutMs() > 0 ? clock.getAsLong() + ov.timeoutMs() : 0;
        Placed placed = new Placed(ov, ov.placement(composite.width(), composite.height()), deadline);
        if (old != null) overlays.remove(old);
        overlays.add(placed);
        if (ov.timeoutMs() > 0) {
            // A replaced or removed overlay's timer finds no overlay of its serial and does nothing.
            timers.schedule(() -> expire(ov.id(), ov.serial()), ov.timeoutMs(), TimeUnit.MILLISECONDS);
        }
        redraw(old == null ? placed.at() : old.at().union(placed.at()));
    }

    /** vnc-overlay-remove. */
    synchronized void remove(String id) throws QmpException {
        Placed p = find(id);
        if (p == null) throw OverlayArgs.error("no overlay '" + id + "'");
        overlays.remove(p);
        redraw(p.at());
    }

    /** query-vnc-overlays: bottom to top. */
    synchronized ArrayNode query() {
        ArrayNode list = JSON.createArrayNode();
        long now = clock.getAsLong();
        for (Placed p : overlays) {
            ObjectNode o = list.addObject();
            o.put("id", p.overlay().id());
            o.put("display", DISPLAY_ID);
            o.put("x", p.at().x());
            o.put("y", p.at().y());
            o.put("width", p.at().width());
            o.put("height", p.at().height());
            o.put("modal", p.overlay().modal());
            ArrayNode hs = o.putArray("hotspots");
            for (Overlay.Hotspot h : p.overlay().hotspots()) {
                hs.addObject().put("id", h.id()).put("x", h.x()).put("y", h.y()).put("width", h.width())
                        .put("height", h.height());
            }
            if (p.deadlineMillis() > 0) o.put("remaining-ms", Math.max(0, p.deadlineMillis() - now));
        }
        return list;
    }

    /** query-vnc-overlay-displays. */
    ArrayNode displays() {
        ArrayNode list = JSON.createArrayNode();
        list.addObject().put("id", DISPLAY_ID).put("width", composite.width()).put("height", composite.height());
        return list;
    }

    // ===== the guest's picture =====

    synchronized void guestDamaged(Rect r) {
        redraw(r);
    }

    /** The guest changed resolution: the overlays are anchored again and the whole picture drawn anew. */
    synchronized void guestResized() {
        composite.resize(guest.width(), guest.height());
        overlays.replaceAll(p -> new Placed(p.overlay(), p.overlay().placement(guest.width(), guest.height()),
                p.deadlineMillis()));
        compose(composite.bounds());
        RfbDesktop d = desktop;
        if (d != null) d.resized();
    }

    /** Whether {@code r} touches a message (kept lossless: no JPEG there). */
    synchronized boolean underAMessage(Rect r) {
        for (Placed p : overlays) {
            if (p.at().intersects(r)) return true;
        }
        return false;
    }

    // ===== answers =====

    /** The topmost overlay at screen point (x, y), or null. */
    synchronized Hit hit(int x, int y) {
        for (int i = overlays.size() - 1; i >= 0; i--) {
            Placed p = overlays.get(i);
            if (p.at().contains(x, y)) return new Hit(p, p.overlay().hotspotAt(x - p.at().x(), y - p.at().y()));
        }
        return null;
    }

    /** The topmost modal overlay, or null. */
    synchronized Placed modal() {
        for (int i = overlays.size() - 1; i >= 0; i--) {
            if (overlays.get(i).overlay().modal()) return overlays.get(i);
        }
        return null;
    }

    /** A click on a hot-spot of an overlay that is still the one clicked (same serial). */
    synchronized void answerClick(long overlaySerial, String hotspot, String client) {
        Placed p = bySerial(overlaySerial);
        if (p != null) answer(p, "click", hotspot, null, client);
    }

    synchronized void answerKey(long overlaySerial, Overlay.KeyBinding key, String client) {
        Placed p = bySerial(overlaySerial);
        if (p != null) answer(p, "key", key.hotspot(), key.key(), client);
    }

    private void expire(String id, long overlaySerial) {
        synchronized (this) {
            Placed p = bySerial(overlaySerial);
            if (p == null) return;
            overlays.remove(p);
            redraw(p.at());
            emit(id, "timeout", null, null, null);
        }
    }

    private void answer(Placed p, String reason, String hotspot, String key, String client) {
        if (p.overlay().dismiss()) {
            overlays.remove(p);
            redraw(p.at());
        }
        emit(p.overlay().id(), reason, hotspot, key, client);
    }

    private void emit(String id, String reason, String hotspot, String key, String client) {
        ObjectNode data = JSON.createObjectNode();
        data.put("id", id);
        data.put("display", DISPLAY_ID);
        data.put("reason", reason);
        if (hotspot != null) data.put("hotspot", hotspot);
        if (key != null) data.put("key", key);
        if (client != null) data.putObject("client").put("host", client);
        feedback.accept(data);
    }

    // ===== compositing =====

    private Placed find(String id) {
        for (Placed p : overlays) {
            if (p.overlay().id().equals(id)) return p;
        }
        return null;
    }

    private Placed bySerial(long s) {
        for (Placed p : overlays) {
            if (p.overlay().serial() == s) return p;
        }
        return null;
    }

    /** Composes {@code r} and tells the viewers what changed. */
    private void redraw(Rect r) {
        Rect changed = compose(r);
        RfbDesktop d = desktop;
        if (changed != null && d != null) d.damaged(changed);
    }

    /** The guest's pixels of {@code r} with every overlay over them, bottom to top, into the composite. */
    private Rect compose(Rect r) {
        Rect area;
        int[] px;
        // QEMU's threads resize the guest's picture whenever the guest switches modes: its size and its pixels are
        // read under its own lock, in one go (the lock order is always overlays, then the guest's picture).
        synchronized (guest) {
            area = r.intersection(composite.bounds());
            if (area != null) area = area.intersection(guest.bounds());
            if (area == null) return null;
            px = new int[area.width() * area.height()];
            guest.read(area, px);
        }
        for (Placed p : overlays) {
            Rect o = p.at().intersection(area);
            if (o == null) continue;
            int[] src = p.overlay().argb();
            int ow = p.overlay().width();
            for (int y = o.y(); y < o.bottom(); y++) {
                int s = (y - p.at().y()) * ow + (o.x() - p.at().x());
                int d = (y - area.y()) * area.width() + (o.x() - area.x());
                for (int x = o.x(); x < o.right(); x++, s++, d++) px[d] = over(src[s], px[d]);
            }
        }
        return composite.write(area, px);
    }

    /** Straight-alpha 0xAARRGGBB over opaque 0x00RRGGBB. */
    static int over(int argb, int rgb) {
        int a = argb >>> 24;
        if (a == 255) return argb & 0xffffff;
        if (a == 0) return rgb;
        int na = 255 - a;
        int r = (((argb >> 16) & 0xff) * a + ((rgb >> 16) & 0xff) * na + 127) / 255;
        int g = (((argb >> 8) & 0xff) * a + ((rgb >> 8) & 0xff) * na + 127) / 255;
        int b = ((argb & 0xff) * a + (rgb & 0xff) * na + 127) / 255;
        return r << 16 | g << 8 | b;
    }
}
