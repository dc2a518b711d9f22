package tmc.vmscreen;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import tmc.qmp.QmpException;

/**
 * Reads {@code vnc-overlay-add} arguments into an {@link Overlay}, with the patch's checks and limits: everything is
 * checked before anything is shown, and bad arguments get the same kind of error QEMU gives (GenericError with a
 * sentence) and change nothing.
 */
final class OverlayArgs {
    static final int MAX_WIDTH = 5120;
    static final int MAX_HEIGHT = 2160;
    static final int MAX_HOTSPOTS = 32;
    static final int MAX_KEYS = 8;
    static final int MAX_OFFSET = 65535;
    static final long MAX_TIMEOUT_MS = 86_400_000L;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Set<String> KNOWN = Set.of("id", "displays", "width", "height", "pixels", "format",
            "anchor", "x-offset", "y-offset", "hotspots", "keys", "modal", "click-through", "dismiss-on-feedback",
            "timeout");

    private OverlayArgs() {}

    static Overlay parse(JsonNode a, long serial) throws QmpException {
        if (a == null || !a.isObject()) throw error("arguments missing");
        for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!KNOWN.contains(f)) throw error("Parameter '" + f + "' is unexpected");
        }
        String id = text(a, "id", null);
        if (id == null || !ID.matcher(id).matches()) throw error("id must be 1 to 64 of [A-Za-z0-9._-]");
        if (a.has("displays")) {
            for (JsonNode d : a.get("displays")) {
                if (!VmOverlays.DISPLAY_ID.equals(d.asText())) throw error("no VNC display '" + d.asText() + "'");
            }
        }
        int width = integer(a, "width", -1);
        int height = integer(a, "height", -1);
        if (width < 1 || width > MAX_WIDTH || height < 1 || height > MAX_HEIGHT) {
            throw error("width and height must be 1 to " + MAX_WIDTH + " and 1 to " + MAX_HEIGHT);
        }
        String format = text(a, "format", "argb32");
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(text(a, "pixels", ""));
        } catch (IllegalArgumentException e) {
            throw error("pixels is not base64");
        }
        int expected = width * height * 4;
        if (format.equals("argb32-zlib")) {
            bytes = inflate(bytes, expected);
        } else if (!format.equals("argb32")) {
            throw error("unknown format '" + format + "'");
        }
        if (bytes.length != expected) {
            throw error("pixels decode to " + bytes.length + " bytes, expected " + expected);
        }
        int[] argb = new int[width * height];
        for (int i = 0, o = 0; i < argb.length; i++, o += 4) {
            argb[i] = (bytes[o] & 0xff) << 24 | (bytes[o + 1] & 0xff) << 16 | (bytes[o + 2] & 0xff) << 8
                    | (bytes[o + 3] & 0xff);
        }
        Overlay.Anchor anchor = Overlay.Anchor.of(text(a, "anchor", "center"));
        if (anchor == null) throw error("unknown anchor '" + a.get("anchor").asText() + "'");
        int xOffset = integer(a, "x-offset", 0);
        int yOffset = integer(a, "y-offset", 0);
        if (Math.abs(xOffset) > MAX_OFFSET || Math.abs(yOffset) > MAX_OFFSET) {
            throw error("offsets must be within -" + MAX_OFFSET + " to " + MAX_OFFSET);
        }
        List<Overlay.Hotspot> hotspots = new ArrayList<>();
        Set<String> hotspotIds = new HashSet<>();
        for (JsonNode h : a.path("hotspots")) {
            if (hotspots.size() == MAX_HOTSPOTS) throw error("at most " + MAX_HOTSPOTS + " hotspots");
            Overlay.Hotspot hs = new Overlay.Hotspot(text(h, "id", ""), integer(h, "x", -1), integer(h, "y", -1),
                    integer(h, "width", 0), integer(h, "height", 0));
            if (hs.id().isEmpty() || hs.x() < 0 || hs.y() < 0 || hs.width() < 1 || hs.height() < 1
                    || hs.x() + hs.width() > width || hs.y() + hs.height() > height) {
                throw error("hotspot '" + hs.id() + "' must be a non-empty rectangle inside the overlay");
            }
            if (!hotspotIds.add(hs.id())) throw error("duplicate hotspot '" + hs.id() + "'");
            hotspots.add(hs);
        }
        List<Overlay.KeyBinding> keys = new ArrayList<>();
        for (JsonNode k : a.path("keys")) {
            if (keys.size() == MAX_KEYS) throw error("at most " + MAX_KEYS + " keys");
            String key = text(k, "key", "");
            int qnum = QKeyCodes.qnum(key);
            if (qnum < 0) throw error("unknown key '" + key + "'");
            String hotspot = text(k, "hotspot", "");
            if (!hotspotIds.contains(hotspot)) throw error("key '" + key + "' names no hotspot '" + hotspot + "'");
            keys.add(new Overlay.KeyBinding(key, qnum, hotspot));
        }
        long timeout = a.has("timeout") ? a.get("timeout").asLong(-1) : 0;
        if (timeout < 0 || timeout > MAX_TIMEOUT_MS) throw error("timeout must be 0 to " + MAX_TIMEOUT_MS);
        return new Overlay(id, width, height, argb, anchor, xOffset, yOffset, List.copyOf(hotspots),
                List.copyOf(keys), bool(a, "modal", false), bool(a, "click-through", false),
                bool(a, "dismiss-on-feedback", true), timeout, serial);
    }

    /** Inflates to at most {@code expected} bytes: anything longer is refused before it is produced (no zip bomb). */
    private static byte[] inflate(byte[] z, int expected) throws QmpException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(z);
            byte[] out = new byte[expected];
            int n = 0;
            while (n < expected && !inflater.finished()) {
                int k = inflater.inflate(out, n, expected - n);
                if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
                n += k;
            }
            if (!inflater.finished()) {
                byte[] probe = new byte[1];
                if (n == expected && inflater.inflate(probe) > 0) throw error("pixels inflate to more than " + expected
                        + " bytes");
                throw error("pixels are not complete zlib data");
            }
            if (n != expected) throw error("pixels inflate to " + n + " bytes, expected " + expected);
            return out;
        } catch (DataFormatException e) {
            throw error("pixels are not zlib data");
        } finally {
            inflater.end();
        }
    }

    private static String text(JsonNode n, String field, String fallback) throws QmpException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isTextual()) throw error(field + " must be a string");
        return v.asText();
    }

    private static int integer(JsonNode n, String field, int fallback) throws QmpException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.canConvertToInt()) throw error(field + " must be an integer");
        return v.asInt();
    }

    private static boolean bool(JsonNode n, String field, boolean fallback) throws QmpException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw error(field + " must be a boolean");
        return v.asBoolean();
    }

    static QmpException error(String sentence) {
        return new QmpException("GenericError", sentence);
    }
}
