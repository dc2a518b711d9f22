package tmc.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import tmc.messages.NewMessage;
import tmc.store.Button;
import tmc.store.Delivery;
import tmc.store.Message;

/** The API's JSON: strict parsing of requests (types checked, unknown fields refused) and the response shapes. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32)
                .maxStringLength(64 * 1024).build());
    }

    private static final Set<String> MESSAGE_FIELDS = Set.of("vms", "tenant", "title", "body", "severity", "buttons",
            "modal", "position", "ttlSeconds");
    private static final Set<String> RENDER_FIELDS = Set.of("title", "body", "severity", "buttons", "width", "height");
    private static final Set<String> BUTTON_FIELDS = Set.of("id", "label", "cancel");

    private Json() {
    }

    static ObjectNode parseObject(byte[] body) {
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (IOException e) {
            throw bad("bad_json", "the body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (n == null || !n.isObject()) {
            throw bad("bad_json", "the body must be a JSON object");
        }
        return (ObjectNode) n;
    }

    static NewMessage newMessage(ObjectNode o) {
        checkFields(o, MESSAGE_FIELDS);
        List<String> vms = null;
        if (o.has("vms")) {
            JsonNode a = o.get("vms");
            if (!a.isArray()) {
                throw bad("bad_target", "vms must be an array of VM ids");
            }
            vms = new ArrayList<>();
            for (JsonNode v : a) {
                if (!v.isTextual()) {
                    throw bad("bad_target", "vms must be an array of VM ids (strings)");
                }
                vms.add(v.asText());
            }
        }
        String tenant = o.has("tenant") ? string(o, "tenant", null) : null;
        return new NewMessage(vms, tenant, string(o, "title", null), string(o, "body", ""),
                string(o, "severity", "info"), buttons(o), bool(o, "modal", false), string(o, "position", "center"),
                integer(o, "ttlSeconds", NewMessage.DEFAULT_TTL_SECONDS));
    }

    /** A render request: the message fields that affect the picture, plus the screen size. */
    record RenderInput(String title, String body, String severity, List<Button> buttons, int width, int height) {
    }

    static RenderInput renderInput(ObjectNode o) {
        checkFields(o, RENDER_FIELDS);
        String title = string(o, "title", "");
        String severity = string(o, "severity", "info");
        if (!NewMessage.SEVERITIES.contains(severity)) {
            throw bad("bad_severity", "severity must be one of " + NewMessage.SEVERITIES);
        }
        return new RenderInput(title, string(o, "body", ""), severity, buttons(o),
                (int) integer(o, "width", 1024), (int) integer(o, "height", 768));
    }

    private static List<Button> buttons(ObjectNode o) {
        if (!o.has("buttons")) {
            return List.of(new Button("ok", "OK", false));
        }
        JsonNode a = o.get("buttons");
        if (!a.isArray()) {
            throw bad("bad_buttons", "buttons must be an array of {id, label}");
        }
        List<Button> out = new ArrayList<>();
        for (JsonNode b : a) {
            if (!b.isObject()) {
                throw bad("bad_buttons", "each button must be an object {id, label}");
            }
            checkFields((ObjectNode) b, BUTTON_FIELDS);
            String id = string((ObjectNode) b, "id", null);
            String label = string((ObjectNode) b, "label", null);
            if (id == null || label == null) {
                throw bad("bad_buttons", "each button needs an id and a label");
            }
            out.add(new Button(id, label, bool((ObjectNode) b, "cancel", false)));
        }
        return out;
    }

    private static void checkFields(ObjectNode o, Set<String> allowed) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw bad("unknown_field", "unknown field '" + abbreviate(f) + "'");
            }
        }
    }

    private static String string(ObjectNode o, String field, String dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw bad("bad_type", field + " must be a string");
        }
        return n.asText();
    }

    private static boolean bool(ObjectNode o, String field, boolean dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw bad("bad_type", field + " must be true or false");
        }
        return n.asBoolean();
    }

    private static long integer(ObjectNode o, String field, long dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw bad("bad_type", field + " must be an integer");
        }
        return n.asLong();
    }

    // ===== responses =====

    static ObjectNode error(String error, String detail) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("error", error);
        o.put("detail", detail);
        return o;
    }

    static ObjectNode created(Message m, List<Delivery> ds) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", m.id());
        ArrayNode a = o.putArray("deliveries");
        for (Delivery d : ds) {
            // With the gateway's times: a page that heard a later state on the event stream before this answer
            // came back can tell which report is newer.
            a.add(delivery(d));
        }
        return o;
    }

    static ObjectNode message(Message m, List<Delivery> ds) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", m.id());
        o.put("createdAt", time(m.createdAt()));
        o.put("expiresAt", time(m.expiresAt()));
        o.put("title", m.title());
        o.put("body", m.body());
        o.put("severity", m.severity());
        ArrayNode bs = o.putArray("buttons");
        for (Button b : m.buttons()) {
            ObjectNode x = bs.addObject();
            x.put("id", b.id());
            x.put("label", b.label());
            if (b.cancel()) {
                x.put("cancel", true);
            }
        }
        o.put("modal", m.modal());
        o.put("position", m.position());
        o.put("ttlSeconds", m.ttlSeconds());
        try {
            o.set("target", MAPPER.readTree(m.target()));
        } catch (IOException e) {
            o.put("target", m.target());
        }
        ArrayNode a = o.putArray("deliveries");
        for (Delivery d : ds) {
            a.add(delivery(d));
        }
        return o;
    }

    static ObjectNode delivery(Delivery d) {
        ObjectNode x = MAPPER.createObjectNode();
        x.put("vm", d.vm());
        x.put("state", d.state().wire());
        x.put("queuedAt", time(d.queuedAt()));
        x.put("shownAt", time(d.shownAt()));
        x.put("finishedAt", time(d.finishedAt()));
        if (d.replyButton() != null) {
            ObjectNode r = x.putObject("reply");
            r.put("button", d.replyButton());
            try {
                r.set("client", d.replyClient() == null ? null : MAPPER.readTree(d.replyClient()));
            } catch (IOException e) {
                r.put("client", d.replyClient());
            }
            r.put("at", time(d.finishedAt()));
        } else {
            x.putNull("reply");
        }
        x.put("error", d.error());
        return x;
    }

    static String time(Long millis) {
        return millis == null ? null : Instant.ofEpochMilli(millis).toString();
    }

    static ApiError bad(String error, String detail) {
        return new ApiError(400, error, detail);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return abbreviate(nl >= 0 ? s.substring(0, nl) : s);
    }

    private static String abbreviate(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100) + "...";
    }
}
