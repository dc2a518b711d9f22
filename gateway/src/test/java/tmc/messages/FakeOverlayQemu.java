package tmc.messages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import tmc.qmp.FakeQmpServer;
import tmc.qmp.QmpAddress;

/**
 * A stand-in for the patched QEMU's overlay commands, for lifecycle tests that need faults and timings a real
 * QEMU makes slow (the real one is used by the end-to-end tests). Keeps overlays by id, answers
 * query-vnc-overlays, and sends VNC_OVERLAY_FEEDBACK on demand, dismissing like QEMU does.
 */
public final class FakeOverlayQemu implements AutoCloseable {
    public final FakeQmpServer server;
    public final Map<String, JsonNode> overlays = new ConcurrentHashMap<>();
    public final List<String> log = new CopyOnWriteArrayList<>();
    public volatile String failAddWith;
    /** The next vnc-overlay-add gets no answer at all (a QEMU that hangs). */
    public volatile boolean hangNextAdd;
    /** The screen size query-vnc-overlay-displays reports; {@link #resize} changes it. */
    private volatile int width = 800;
    private volatile int height = 600;

    public FakeOverlayQemu() throws IOException {
        this(new FakeQmpServer());
    }

    public static FakeOverlayQemu at(java.nio.file.Path path) throws IOException {
        return new FakeOverlayQemu(FakeQmpServer.at(path));
    }

    private FakeOverlayQemu(FakeQmpServer server) {
        this.server = server;
        server.onCommand = (cmd, conn) -> {
            String name = cmd.path("execute").asText();
            JsonNode args = cmd.path("arguments");
            String id = cmd.get("id").toString();
            switch (name) {
                case "vnc-overlay-add" -> {
                    if (hangNextAdd) {
                        hangNextAdd = false;
                        log.add("hung " + args.path("id").asText());
                        return;
                    }
                    if (failAddWith != null) {
                        conn.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"" + failAddWith + "\"}, "
                                + "\"id\": " + id + "}");
                        return;
                    }
                    overlays.put(args.path("id").asText(), args);
                    log.add("add " + args.path("id").asText());
                    conn.send("{\"return\": {}, \"id\": " + id + "}");
                }
                case "vnc-overlay-remove" -> {
                    if (overlays.remove(args.path("id").asText()) == null) {
                        conn.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no overlay\"}, \"id\": "
                                + id + "}");
                        return;
                    }
                    log.add("remove " + args.path("id").asText());
                    conn.send("{\"return\": {}, \"id\": " + id + "}");
                }
                case "query-vnc-overlays" -> {
                    StringBuilder b = new StringBuilder("[");
                    for (String ov : overlays.keySet()) {
                        b.append(b.length() > 1 ? "," : "").append("{\"id\": \"").append(ov).append("\"}");
                    }
                    conn.send("{\"return\": " + b + "], \"id\": " + id + "}");
                }
                case "query-vnc-overlay-displays" ->
                        conn.send("{\"return\": [{\"id\": \"default\", \"width\": " + width + ", \"height\": "
                                + height + "}], \"id\": " + id + "}");
                default -> conn.send("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command " + name
                        + " has not been found\"}, \"id\": " + id + "}");
            }
        };
    }

    public QmpAddress address() {
        return server.address();
    }

    /** A click on a hot-spot: QEMU dismisses the overlay and reports it. */
    public void click(String overlayId, String hotspot) {
        overlays.remove(overlayId);
        server.current.send("{\"event\": \"VNC_OVERLAY_FEEDBACK\", \"data\": {\"id\": \"" + overlayId
                + "\", \"display\": \"default\", \"reason\": \"click\", \"hotspot\": \"" + hotspot
                + "\", \"client\": {\"host\": \"127.0.0.1\", \"service\": \"40000\", \"family\": \"ipv4\", "
                + "\"websocket\": false}}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
    }

    public void key(String overlayId, String key) {
        overlays.remove(overlayId);
        server.current.send("{\"event\": \"VNC_OVERLAY_FEEDBACK\", \"data\": {\"id\": \"" + overlayId
                + "\", \"display\": \"default\", \"reason\": \"key\", \"key\": \"" + key
                + "\"}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
    }

    /** The guest changed its resolution: QEMU reports the new size with an event (and no longer to queries). */
    public void resize(int w, int h) {
        width = w;
        height = h;
        server.current.send("{\"event\": \"VNC_OVERLAY_DISPLAY_RESIZED\", \"data\": {\"display\": \"default\", "
                + "\"width\": " + w + ", \"height\": " + h + "}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
    }

    /** QEMU died and came back: overlays gone, connection dropped. */
    public void restart() throws IOException {
        overlays.clear();
        server.current.close();
    }

    public ObjectNode only() {
        if (overlays.size() != 1) {
            throw new AssertionError("expected one overlay, have " + overlays.keySet());
        }
        return (ObjectNode) overlays.values().iterator().next();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
