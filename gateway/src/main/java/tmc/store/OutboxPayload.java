package tmc.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/** The JSON of an outbox event, built in this one place: what SSE clients and webhooks receive (plus its seq). */
public final class OutboxPayload {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OutboxPayload() {
    }

    /** The stored payload of {@code d}'s current state, which it entered at {@code at}. */
    static String of(Delivery d, long at) throws JsonProcessingException {
        ObjectNode p = JSON.createObjectNode();
        p.put("type", "delivery");
        p.put("message", d.messageId());
        p.put("vm", d.vm());
        p.put("state", d.state().wire());
        p.put("at", Instant.ofEpochMilli(at).toString());
        if (d.state() == DeliveryState.ANSWERED) {
            ObjectNode reply = p.putObject("reply");
            reply.put("button", d.replyButton());
            if (d.replyClient() != null) {
                reply.set("client", JSON.readTree(d.replyClient()));
            } else {
                reply.putNull("client");
            }
        }
        if (d.error() != null) {
            p.put("error", d.error());
        }
        return JSON.writeValueAsString(p);
    }

    /** What is sent for {@code e}: its payload with {@code seq} first (the SSE data and the webhook body). */
    public static String withSeq(OutboxEvent e) {
        try {
            ObjectNode p = JSON.createObjectNode();
            p.put("seq", e.seq());
            p.setAll((ObjectNode) JSON.readTree(e.payload()));
            return JSON.writeValueAsString(p);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("stored outbox payload is not JSON: " + ex.getMessage(), ex);
        }
    }
}
