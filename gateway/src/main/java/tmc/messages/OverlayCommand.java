package tmc.messages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import tmc.render.Bitmap;
import tmc.render.RenderGate;
import tmc.render.RenderRequest;
import tmc.store.Button;
import tmc.store.Message;

/**
 * Builds what goes to QEMU for a message: the rendered bitmap and the arguments of {@code vnc-overlay-add}.
 * Pure functions, except that a message's render and its deflated pixels are kept for the few most recent
 * (message, screen size) pairs: a broadcast to 1,000 VMs of one screen size renders once, not 1,000 times.
 */
public final class OverlayCommand {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Overlay ids are "tmc-" + the message id; anything else on the display is not ours. */
    public static final String OVERLAY_PREFIX = "tmc-";
    /** vnc-overlay-add's limit on {@code timeout}. */
    static final long MAX_QEMU_TIMEOUT_MS = 86_400_000L;
    /** Pixels between an edge-anchored message and the screen's edge. */
    static final int EDGE_MARGIN = 16;

    private OverlayCommand() {
    }

    public static String overlayId(String messageId) {
        return OVERLAY_PREFIX + messageId;
    }

    /** The message id of one of our overlay ids, or null. */
    public static String messageId(String overlayId) {
        return overlayId != null && overlayId.startsWith(OVERLAY_PREFIX) ? overlayId.substring(4) : null;
    }

    public static RenderRequest renderRequest(Message m, int screenWidth, int screenHeight) {
        return renderRequest(m.title(), m.body(), m.severity(), m.buttons(), screenWidth, screenHeight);
    }

    public static RenderRequest renderRequest(String title, String body, String severity, List<Button> buttons,
                                              int screenWidth, int screenHeight) {
        int w = Math.max(RenderRequest.MIN_SCREEN_WIDTH, Math.min(RenderRequest.MAX_SCREEN, screenWidth));
        int h = Math.max(RenderRequest.MIN_SCREEN_HEIGHT, Math.min(RenderRequest.MAX_SCREEN, screenHeight));
        // A screen beyond any real one (a guest can set odd modes): draw for the largest real size instead.
        if (!RenderRequest.fitsRealScreen(w, h)) {
            w = Math.min(w, w >= h ? RenderRequest.MAX_SCREEN : RenderRequest.MAX_SCREEN_SHORT_SIDE);
            h = Math.min(h, h > w ? RenderRequest.MAX_SCREEN : RenderRequest.MAX_SCREEN_SHORT_SIDE);
        }
        return new RenderRequest(title, body, RenderRequest.Severity.valueOf(severity.toUpperCase(Locale.ROOT)),
                buttons.stream().map(b -> new RenderRequest.Label(b.id(), b.label())).toList(), w, h);
    }

    /** The message's bitmap for a screen size; the same instance for every VM with that size (do not modify). */
    public static Bitmap render(Message m, int screenWidth, int screenHeight) {
        return rendered(m, screenWidth, screenHeight).bitmap();
    }

    /**
     * Starts rendering {@code m} for a screen size on a virtual thread, unless that render is cached or under way:
     * a later {@link #render} for the same size takes it from the cache (or waits for it). Failures are left to
     * that later call, which renders again and reports them.
     */
    public static void renderAhead(Message m, int screenWidth, int screenHeight) {
        RenderKey key = new RenderKey(m.id(), screenWidth, screenHeight);
        CompletableFuture<Rendered> f;
        synchronized (RENDERS) {
            if (RENDERS.containsKey(key)) {
                return;
            }
            f = new CompletableFuture<>();
            RENDERS.put(key, f);
        }
        Thread.ofVirtual().name("render-ahead").start(() -> {
            try {
                compute(m, key, f);
            } catch (RuntimeException e) {
                // compute() dropped the failed entry; the VM's thread renders again and records the error.
            }
        });
    }

    // ===== Renders shared between VMs =====
    // A message never changes after it is stored, so (id, screen size) determines the bitmap. Measured with
    // bench/run broadcast: rendering, argb32() and deflate per VM were 3/4 of the gateway's CPU for a broadcast.

    private static final int CACHED_RENDERS = 8;

    private record RenderKey(String messageId, int screenWidth, int screenHeight) {}

    /** A bitmap and its vnc-overlay-add pixels, computed once by whichever thread asked first. */
    private record Rendered(Bitmap bitmap, String pixels) {}

    private static final Map<RenderKey, CompletableFuture<Rendered>> RENDERS = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RenderKey, CompletableFuture<Rendered>> eldest) {
            return size() > CACHED_RENDERS;
        }
    };

    private static Rendered rendered(Message m, int screenWidth, int screenHeight) {
        RenderKey key = new RenderKey(m.id(), screenWidth, screenHeight);
        CompletableFuture<Rendered> f;
        boolean mine = false;
        synchronized (RENDERS) {
            f = RENDERS.get(key);
            if (f == null) {
                f = new CompletableFuture<>();
                RENDERS.put(key, f);
                mine = true;
            }
        }
        if (mine) {
            compute(m, key, f);
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** Renders into {@code f}, which the caller claimed in {@link #RENDERS}; a failure removes the entry. */
    private static void compute(Message m, RenderKey key, CompletableFuture<Rendered> f) {
        try {
            Bitmap b = RenderGate.render(renderRequest(m, key.screenWidth(), key.screenHeight()));
            f.complete(new Rendered(b, pixels(b)));
        } catch (RuntimeException e) {
            synchronized (RENDERS) {
                RENDERS.remove(key, f);
            }
            f.completeExceptionally(e);
            throw e;
        }
    }

    /** The pixels argument: from the shared render when {@code b} is one, else computed. */
    private static String pixels(Message m, Bitmap b) {
        synchronized (RENDERS) {
            for (Map.Entry<RenderKey, CompletableFuture<Rendered>> e : RENDERS.entrySet()) {
                Rendered r = e.getKey().messageId().equals(m.id()) ? e.getValue().getNow(null) : null;
                if (r != null && r.bitmap() == b) {
                    return r.pixels();
                }
            }
        }
        return pixels(b);
    }

    private static String pixels(Bitmap b) {
        return Base64.getEncoder().encodeToString(deflate(b.argb32()));
    }

    /** The button Escape answers with: the one marked cancel, else one with id "cancel"; null if none. */
    public static Button cancelButton(List<Button> buttons) {
        for (Button b : buttons) {
            if (b.cancel()) {
                return b;
            }
        }
        for (Button b : buttons) {
            if (b.id().equals("cancel")) {
                return b;
            }
        }
        return null;
    }

    /** Arguments of vnc-overlay-add; {@code timeoutMs} ≤ 0 means none. */
    public static ObjectNode addArguments(Message m, Bitmap b, long timeoutMs) {
        ObjectNode a = JSON.createObjectNode();
        a.put("id", overlayId(m.id()));
        a.put("width", b.width());
        a.put("height", b.height());
        a.put("format", "argb32-zlib");
        a.put("pixels", pixels(m, b));
        a.put("anchor", m.position());
        // Keep a margin from the screen edges the anchor touches (offsets point inwards for edge anchors).
        String p = m.position();
        if (p.endsWith("left") || p.endsWith("right")) {
            a.put("x-offset", EDGE_MARGIN);
        }
        if (p.startsWith("top") || p.startsWith("bottom")) {
            a.put("y-offset", EDGE_MARGIN);
        }
        ArrayNode hs = a.putArray("hotspots");
        for (Bitmap.Hotspot h : b.hotspots()) {
            ObjectNode o = hs.addObject();
            o.put("id", h.id());
            o.put("x", h.x());
            o.put("y", h.y());
            o.put("width", h.width());
            o.put("height", h.height());
        }
        ArrayNode keys = a.putArray("keys");
        ObjectNode ret = keys.addObject();
        ret.put("key", "ret");
        ret.put("hotspot", m.buttons().get(0).id());
        Button cancel = cancelButton(m.buttons());
        if (cancel != null) {
            ObjectNode esc = keys.addObject();
            esc.put("key", "esc");
            esc.put("hotspot", cancel.id());
        }
        a.put("modal", m.modal());
        if (timeoutMs > 0) {
            // QEMU takes at most a day; longer TTLs are ended by the gateway's own expiry sweep.
            a.put("timeout", Math.min(timeoutMs, MAX_QEMU_TIMEOUT_MS));
        }
        return a;
    }

    static byte[] deflate(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 8 + 64);
        Deflater d = new Deflater(6);
        try (DeflaterOutputStream z = new DeflaterOutputStream(out, d)) {
            z.write(raw);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e); // a ByteArrayOutputStream does not fail
        } finally {
            d.end();
        }
        return out.toByteArray();
    }
}
