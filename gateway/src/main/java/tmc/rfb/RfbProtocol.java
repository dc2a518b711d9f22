package tmc.rfb;

import java.nio.charset.StandardCharsets;

/**
 * Numbers of the RFB protocol (RFC 6143 and the community extensions in rfbproto.rst) that the gateway needs.
 *
 * <p>Client-to-server messages, as noVNC 1.7 ({@code core/rfb.js}, {@code RFB.messages}) and QEMU 10.0
 * ({@code ui/vnc.c}, {@code protocol_client_msg}) frame them:
 * <pre>
 *   type  name                      size in bytes
 *   0     SetPixelFormat            20
 *   2     SetEncodings              4 + 4 * count            (count: u16 at offset 2)
 *   3     FramebufferUpdateRequest  10
 *   4     KeyEvent                  8
 *   5     PointerEvent              6                        (7 with ExtendedMouseButtons, which the gateway
 *                                                            never lets the two sides negotiate)
 *   6     ClientCutText             8 + |length|             (s32 at offset 4; negative = extended clipboard)
 *   150   EnableContinuousUpdates   10
 *   248   ClientFence               9 + length               (u8 at offset 8, at most 64)
 *   250   xvp                       4
 *   251   SetDesktopSize            8 + 16 * screens         (u8 at offset 6)
 *   255   QEMU                      2 + ...                  (subtype u8 at offset 1; 0 = extended key event, 12)
 * </pre>
 */
public final class RfbProtocol {
    private RfbProtocol() {}

    /** RFC 6143 7.1.1: "RFB 003.008\n", twelve bytes. */
    public static final byte[] VERSION_3_8 = "RFB 003.008\n".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION_LENGTH = 12;

    // RFC 6143 7.2 security types.
    public static final int SECURITY_INVALID = 0;
    public static final int SECURITY_NONE = 1;
    public static final int SECURITY_VNC_AUTH = 2;

    /** RFC 6143 7.1.3 SecurityResult. */
    public static final int SECURITY_RESULT_OK = 0;

    /** RFC 6143 7.2.2: the VNC Authentication challenge and response are 16 bytes. */
    public static final int VNC_AUTH_CHALLENGE_LENGTH = 16;

    /** RFC 6143 7.3.2 ServerInit: u16 width, u16 height, 16 bytes of PIXEL_FORMAT, u32 name length, name. */
    public static final int SERVER_INIT_FIXED_LENGTH = 24;
    public static final int PIXEL_FORMAT_LENGTH = 16;

    // Client-to-server message types (RFC 6143 7.5 and rfbproto.rst).
    public static final int MSG_SET_PIXEL_FORMAT = 0;
    public static final int MSG_SET_ENCODINGS = 2;
    public static final int MSG_FRAMEBUFFER_UPDATE_REQUEST = 3;
    public static final int MSG_KEY_EVENT = 4;
    public static final int MSG_POINTER_EVENT = 5;
    public static final int MSG_CLIENT_CUT_TEXT = 6;
    public static final int MSG_ENABLE_CONTINUOUS_UPDATES = 150;
    public static final int MSG_CLIENT_FENCE = 248;
    public static final int MSG_XVP = 250;
    public static final int MSG_SET_DESKTOP_SIZE = 251;
    public static final int MSG_QEMU = 255;

    /** Subtypes of {@link #MSG_QEMU}. */
    public static final int QEMU_EXTENDED_KEY_EVENT = 0;
    public static final int QEMU_AUDIO = 1;

    public static final int LENGTH_SET_PIXEL_FORMAT = 20;
    public static final int LENGTH_SET_ENCODINGS_HEADER = 4;
    public static final int LENGTH_FRAMEBUFFER_UPDATE_REQUEST = 10;
    public static final int LENGTH_KEY_EVENT = 8;
    public static final int LENGTH_POINTER_EVENT = 6;
    public static final int LENGTH_CLIENT_CUT_TEXT_HEADER = 8;
    public static final int LENGTH_ENABLE_CONTINUOUS_UPDATES = 10;
    public static final int LENGTH_CLIENT_FENCE_HEADER = 9;
    public static final int LENGTH_XVP = 4;
    public static final int LENGTH_SET_DESKTOP_SIZE_HEADER = 8;
    public static final int LENGTH_SCREEN = 16;
    public static final int LENGTH_QEMU_HEADER = 2;
    public static final int LENGTH_QEMU_EXTENDED_KEY_EVENT = 12;

    /** rfbproto.rst "ClientFence": the payload is at most 64 bytes. */
    public static final int FENCE_PAYLOAD_MAX = 64;

    // Encodings and pseudo-encodings that matter to the filter (rfbproto.rst "Encodings").
    public static final int ENCODING_QEMU_EXTENDED_KEY_EVENT = -258;
    public static final int ENCODING_QEMU_AUDIO = -259;
    public static final int ENCODING_EXTENDED_DESKTOP_SIZE = -308;
    public static final int ENCODING_XVP = -309;
    public static final int ENCODING_FENCE = -312;
    public static final int ENCODING_CONTINUOUS_UPDATES = -313;
    public static final int ENCODING_EXTENDED_MOUSE_BUTTONS = -316;
    public static final int ENCODING_EXTENDED_CLIPBOARD = 0xC0A1E5CE;

    public static String messageName(int type) {
        return switch (type) {
            case MSG_SET_PIXEL_FORMAT -> "SetPixelFormat";
            case MSG_SET_ENCODINGS -> "SetEncodings";
            case MSG_FRAMEBUFFER_UPDATE_REQUEST -> "FramebufferUpdateRequest";
            case MSG_KEY_EVENT -> "KeyEvent";
            case MSG_POINTER_EVENT -> "PointerEvent";
            case MSG_CLIENT_CUT_TEXT -> "ClientCutText";
            case MSG_ENABLE_CONTINUOUS_UPDATES -> "EnableContinuousUpdates";
            case MSG_CLIENT_FENCE -> "ClientFence";
            case MSG_XVP -> "xvp";
            case MSG_SET_DESKTOP_SIZE -> "SetDesktopSize";
            case MSG_QEMU -> "QEMU";
            default -> "type " + type;
        };
    }

    static int u16(byte[] b, int off) {
        return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
    }

    static int s32(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    static void putS32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}
