package tmc.qemupatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import tmc.testkit.QmpClient;

/** Builds the arguments of the overlay commands (qapi/ui.json as patched) and reads their answers. */
final class Qmp {
    private Qmp() {}

    static ObjectNode overlay(String id, Bitmap bitmap) {
        return QmpClient.args().put("id", id).put("width", bitmap.width()).put("height", bitmap.height())
                .put("pixels", bitmap.base64());
    }

    static ObjectNode hotspot(String id, int x, int y, int width, int height) {
        return QmpClient.args().put("id", id).put("x", x).put("y", y).put("width", width).put("height", height);
    }

    static ObjectNode key(String qkeycode, String hotspot) {
        return QmpClient.args().put("key", qkeycode).put("hotspot", hotspot);
    }

    static ObjectNode withHotspots(ObjectNode overlay, ObjectNode... hotspots) {
        ArrayNode list = overlay.putArray("hotspots");
        for (ObjectNode h : hotspots) list.add(h);
        return overlay;
    }

    static ObjectNode withKeys(ObjectNode overlay, ObjectNode... keys) {
        ArrayNode list = overlay.putArray("keys");
        for (ObjectNode k : keys) list.add(k);
        return overlay;
    }

    static void remove(QmpClient qmp, String id) {
        qmp.execute("vnc-overlay-remove", QmpClient.args().put("id", id));
    }

    /** Removes every overlay (between tests). */
    static void clear(QmpClient qmp) {
        for (JsonNode o : qmp.execute("query-vnc-overlays")) {
            try {
                remove(qmp, o.path("id").asText());
            } catch (RuntimeException alreadyGone) {
                // Shown on several displays: listed once per display.
            }
        }
    }

    /** The entry of query-vnc-overlays for this id (first display). */
    static JsonNode find(QmpClient qmp, String id) {
        for (JsonNode o : qmp.execute("query-vnc-overlays")) {
            if (o.path("id").asText().equals(id)) return o;
        }
        throw new AssertionError("overlay " + id + " not in query-vnc-overlays");
    }
}
