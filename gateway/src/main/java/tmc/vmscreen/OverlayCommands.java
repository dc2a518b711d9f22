package tmc.vmscreen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.function.BiConsumer;
import tmc.qmp.QmpCommands;
import tmc.qmp.QmpException;

/**
 * The patched QEMU's overlay commands, answered by the gateway for a D-Bus display VM: {@code vnc-overlay-add},
 * {@code vnc-overlay-remove}, {@code query-vnc-overlays}, {@code query-vnc-overlay-displays}, and the
 * {@code VNC_OVERLAY_FEEDBACK} event. This is how the message service stays unaware of the backend: it drives a
 * {@link QmpCommands} either way.
 */
public final class OverlayCommands implements QmpCommands {
    private final VmOverlays overlays;

    OverlayCommands(VmOverlays overlays) {
        this.overlays = overlays;
    }

    /** Where {@code VNC_OVERLAY_FEEDBACK} events go: (event name, data). */
    public void onEvent(BiConsumer<String, JsonNode> events) {
        overlays.onFeedback(data -> events.accept("VNC_OVERLAY_FEEDBACK", data));
    }

    @Override
    public JsonNode execute(String command, ObjectNode arguments, Duration timeout) throws QmpException {
        switch (command) {
            case "vnc-overlay-add" -> overlays.add(OverlayArgs.parse(arguments, overlays.nextSerial()));
            case "vnc-overlay-remove" -> {
                JsonNode id = arguments == null ? null : arguments.get("id");
                if (id == null || !id.isTextual()) throw OverlayArgs.error("id missing");
                overlays.remove(id.asText());
            }
            case "query-vnc-overlays" -> {
                return overlays.query();
            }
            case "query-vnc-overlay-displays" -> {
                return overlays.displays();
            }
            default -> throw new QmpException("CommandNotFound", "The command " + command + " has not been found");
        }
        return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    }

    /** Nothing to give up: the commands live as long as the screen. */
    @Override
    public void close() {}
}
