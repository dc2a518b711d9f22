package tmc.rfb;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * How a browser session ends: a WebSocket close code and a reason a person can read. The 4xxx codes are the
 * gateway's public contract (docs/gateway.md); reasons are cut to 123 UTF-8 bytes (RFC 6455 5.5.1) on a character
 * boundary.
 */
public record CloseStatus(int code, String reason) {
    public static final int NORMAL = 1000;
    public static final int GOING_AWAY = 1001;
    /** RFC 6455: the peer broke the protocol; used for RFB violations inside the WebSocket. */
    public static final int PROTOCOL_ERROR = 1002;
    public static final int POLICY_VIOLATION = 1008;
    /** RFC 6455: a message too big to process; used for an oversized ClientCutText. */
    public static final int MESSAGE_TOO_BIG = 1009;
    public static final int INTERNAL_ERROR = 1011;
    /** RFC 6455 1006: never sent, only recorded when the peer vanished without a close frame. */
    public static final int ABNORMAL = 1006;

    public static final int UNAUTHORIZED = 4401;
    public static final int FORBIDDEN = 4403;
    public static final int NOT_FOUND = 4404;
    public static final int TOO_MANY = 4429;
    public static final int UPSTREAM_UNREACHABLE = 4502;

    public static final int MAX_REASON_BYTES = 123;

    public CloseStatus {
        reason = truncate(reason == null ? "" : reason);
    }

    public static String codeName(int code) {
        return switch (code) {
            case NORMAL -> "NORMAL";
            case GOING_AWAY -> "GOING_AWAY";
            case PROTOCOL_ERROR -> "PROTOCOL_ERROR";
            case POLICY_VIOLATION -> "POLICY_VIOLATION";
            case MESSAGE_TOO_BIG -> "MESSAGE_TOO_BIG";
            case INTERNAL_ERROR -> "INTERNAL_ERROR";
            case ABNORMAL -> "ABNORMAL";
            case UNAUTHORIZED -> "UNAUTHORIZED";
            case FORBIDDEN -> "FORBIDDEN";
            case NOT_FOUND -> "NOT_FOUND";
            case TOO_MANY -> "TOO_MANY";
            case UPSTREAM_UNREACHABLE -> "UPSTREAM_UNREACHABLE";
            default -> Integer.toString(code);
        };
    }

    static String truncate(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_REASON_BYTES) {
            return reason;
        }
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        ByteBuffer out = ByteBuffer.allocate(MAX_REASON_BYTES);
        CharBuffer in = CharBuffer.wrap(reason);
        encoder.encode(in, out, true); // stops before the first character that does not fit whole
        return reason.substring(0, in.position());
    }

    @Override
    public String toString() {
        return "{code=" + codeName(code) + "," + reason + "}";
    }
}
