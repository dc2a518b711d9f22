package tmc.qemupatch;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import tmc.testkit.QmpClient;

/** Requests the overlay commands must refuse without changing anything (issue 2, proof 6). */
final class BadRequests {
    record Case(String name, String command, ObjectNode arguments) {
        @Override
        public String toString() {
            return name;
        }
    }

    private BadRequests() {}

    /** A valid 16 x 8 request with one hot-spot, changed by {@code edit}. */
    private static Case add(String name, Consumer<ObjectNode> edit) {
        ObjectNode args = Qmp.withHotspots(Qmp.overlay("bad", Bitmap.pattern(16, 8)), Qmp.hotspot("ok", 0, 0, 8, 8));
        edit.accept(args);
        return new Case(name, "vnc-overlay-add", args);
    }

    private static String zlib(byte[] data) {
        return Base64.getEncoder().encodeToString(data);
    }

    static List<Case> all() {
        Bitmap b = Bitmap.pattern(16, 8);
        byte[] raw = b.bytes();
        byte[] deflated = Bitmap.deflate(raw);
        List<Case> cases = new ArrayList<>();

        cases.add(add("empty id", a -> a.put("id", "")));
        cases.add(add("id of 65 characters", a -> a.put("id", "x".repeat(65))));
        cases.add(add("id with a space", a -> a.put("id", "a b")));
        cases.add(add("id with a slash", a -> a.put("id", "../x")));
        cases.add(add("width 0", a -> a.put("width", 0)));
        cases.add(add("height 0", a -> a.put("height", 0)));
        cases.add(add("width above the VNC maximum", a -> a.put("width", 5121)));
        cases.add(add("height above the VNC maximum", a -> a.put("height", 2161)));
        cases.add(add("width beyond uint16", a -> a.put("width", 70000)));
        cases.add(add("negative height", a -> a.put("height", -8)));
        cases.add(add("pixels one pixel short", a -> a.put("pixels",
                Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(raw, raw.length - 4)))));
        cases.add(add("pixels with trailing data", a -> a.put("pixels",
                Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(raw, raw.length + 3)))));
        cases.add(add("pixels not base64", a -> a.put("pixels", "!".repeat(b.base64().length()))));
        cases.add(add("pixels missing", a -> a.remove("pixels")));
        cases.add(add("size and pixels disagree", a -> a.put("width", 8)));
        cases.add(add("zlib stream of too few bytes", a -> a.put("format", "argb32-zlib")
                .put("pixels", zlib(Bitmap.deflate(java.util.Arrays.copyOf(raw, raw.length - 1))))));
        cases.add(add("zlib bomb", a -> a.put("width", 64).put("height", 64).put("format", "argb32-zlib")
                .put("pixels", zlib(Bitmap.deflate(new byte[10 << 20])))));
        cases.add(add("zlib stream with trailing data", a -> {
            byte[] trailing = java.util.Arrays.copyOf(deflated, deflated.length + 2);
            a.put("format", "argb32-zlib").put("pixels", zlib(trailing));
        }));
        cases.add(add("zlib stream truncated", a -> a.put("format", "argb32-zlib")
                .put("pixels", zlib(java.util.Arrays.copyOf(deflated, deflated.length / 2)))));
        cases.add(add("not a zlib stream", a -> a.put("format", "argb32-zlib").put("pixels", b.base64())));
        cases.add(add("compressed pixels longer than raw could be", a -> a.put("format", "argb32-zlib")
                .put("pixels", zlib(new byte[4096]))));
        cases.add(add("unknown format", a -> a.put("format", "png")));
        cases.add(add("unknown anchor", a -> a.put("anchor", "middle")));
        cases.add(add("x-offset out of range", a -> a.put("x-offset", 65536)));
        cases.add(add("y-offset out of range", a -> a.put("y-offset", -65536)));
        cases.add(add("timeout longer than a day", a -> a.put("timeout", 86_400_001L)));
        cases.add(add("33 hot-spots", a -> {
            ArrayNode list = a.putArray("hotspots");
            for (int i = 0; i < 33; i++) list.add(Qmp.hotspot("h" + i, 0, 0, 1, 1));
        }));
        cases.add(add("hot-spot outside the overlay", a -> Qmp.withHotspots(a, Qmp.hotspot("ok", 10, 0, 8, 8))));
        cases.add(add("empty hot-spot", a -> Qmp.withHotspots(a, Qmp.hotspot("ok", 0, 0, 0, 8))));
        cases.add(add("duplicate hot-spot ids", a -> Qmp.withHotspots(a,
                Qmp.hotspot("ok", 0, 0, 4, 4), Qmp.hotspot("ok", 4, 4, 4, 4))));
        cases.add(add("malformed hot-spot id", a -> Qmp.withHotspots(a, Qmp.hotspot("o k", 0, 0, 4, 4))));
        cases.add(add("9 key bindings", a -> {
            ArrayNode list = a.putArray("keys");
            for (String k : List.of("a", "b", "c", "d", "e", "f", "g", "h", "i")) list.add(Qmp.key(k, "ok"));
        }));
        cases.add(add("key bound to an unknown hot-spot", a -> Qmp.withKeys(a, Qmp.key("ret", "nope"))));
        cases.add(add("key bound twice", a -> Qmp.withKeys(a, Qmp.key("ret", "ok"), Qmp.key("ret", "ok"))));
        cases.add(add("unknown key name", a -> Qmp.withKeys(a, Qmp.key("enter-please", "ok"))));
        cases.add(add("unknown display", a -> a.putArray("displays").add("nope")));
        cases.add(add("display listed twice", a -> a.putArray("displays").add("default").add("default")));
        cases.add(add("replacing 'keep' with bad pixels", a -> a.put("id", "keep").put("pixels", "AAAA")));
        cases.add(new Case("remove an unknown id", "vnc-overlay-remove", QmpClient.args().put("id", "nope")));
        cases.add(new Case("remove without id", "vnc-overlay-remove", QmpClient.args()));
        return cases;
    }
}
