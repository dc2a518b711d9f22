package tmc.rfb;

import java.io.IOException;
import java.nio.ByteBuffer;

import static tmc.rfb.RfbProtocol.*;

/**
 * A push parser for the client-to-server direction of RFB after the handshake. It frames messages and checks their
 * sizes before buffering anything; what to do with a message is the {@link Listener}'s business.
 *
 * <p>Messages of bounded size are collected whole (at most {@link #MAX_BUFFERED} bytes) and handed over in one call.
 * ClientCutText bodies, which may be large, are streamed through without being collected. Bytes may arrive in any
 * fragmentation, one at a time included.
 *
 * <p>Not thread safe: one thread feeds it.
 */
public final class ClientMessageParser {
    /** The most SetEncodings entries accepted; noVNC 1.7 sends about 30. */
    public static final int MAX_ENCODINGS = 512;
    /** The largest whole message: SetDesktopSize with 255 screens (8 + 255 * 16). */
    static final int MAX_BUFFERED = LENGTH_SET_DESKTOP_SIZE_HEADER + 255 * LENGTH_SCREEN;

    /** Receives framed messages. The array passed to {@link #onMessage} is only valid during the call. */
    public interface Listener {
        void onMessage(int type, byte[] message, int length) throws IOException;

        /** A ClientCutText header; {@code bodyLength} bytes follow through {@link #onCutTextData}. */
        void onCutTextStart(byte[] header, int bodyLength, boolean extended) throws IOException;

        void onCutTextData(ByteBuffer data) throws IOException;

        void onCutTextEnd() throws IOException;
    }

    private final Listener listener;
    private final int maxCutText;

    private final byte[] buffer = new byte[MAX_BUFFERED];
    /** Bytes of the current message collected in {@link #buffer}. */
    private int filled;
    /** How many bytes the current message needs in {@link #buffer} before the next decision; 0 between messages. */
    private int needed;
    /** Remaining ClientCutText body bytes to stream; positive only while streaming. */
    private long cutTextRemaining;
    private boolean streaming;

    public ClientMessageParser(Listener listener, int maxCutText) {
        this.listener = listener;
        this.maxCutText = maxCutText;
    }

    /** Consumes all of {@code data}, calling the listener for each complete message. */
    public void feed(ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            if (streaming) {
                int n = (int) Math.min(cutTextRemaining, data.remaining());
                ByteBuffer slice = data.slice(data.position(), n);
                data.position(data.position() + n);
                cutTextRemaining -= n;
                listener.onCutTextData(slice);
                if (cutTextRemaining == 0) {
                    streaming = false;
                    listener.onCutTextEnd();
                }
                continue;
            }
            if (needed == 0) {
                needed = 1;
            }
            int n = Math.min(needed - filled, data.remaining());
            data.get(buffer, filled, n);
            filled += n;
            if (filled == needed) {
                decide();
            }
        }
    }

    /** True when no message is partly received: the stream is at a message boundary. */
    public boolean atBoundary() {
        return !streaming && filled == 0;
    }

    /** Called when {@code needed} bytes are in the buffer: either asks for more or delivers the message. */
    private void decide() throws IOException {
        int type = buffer[0] & 0xff;
        int total = switch (type) {
            case MSG_SET_PIXEL_FORMAT -> LENGTH_SET_PIXEL_FORMAT;
            case MSG_FRAMEBUFFER_UPDATE_REQUEST -> LENGTH_FRAMEBUFFER_UPDATE_REQUEST;
            case MSG_KEY_EVENT -> LENGTH_KEY_EVENT;
            case MSG_POINTER_EVENT -> LENGTH_POINTER_EVENT;
            case MSG_ENABLE_CONTINUOUS_UPDATES -> LENGTH_ENABLE_CONTINUOUS_UPDATES;
            case MSG_XVP -> LENGTH_XVP;
            case MSG_SET_ENCODINGS -> {
                if (filled < LENGTH_SET_ENCODINGS_HEADER) {
                    yield LENGTH_SET_ENCODINGS_HEADER;
                }
                int count = u16(buffer, 2);
                if (count > MAX_ENCODINGS) {
                    throw new RfbProtocolException(
                            "SetEncodings with " + count + " encodings exceeds the limit of " + MAX_ENCODINGS, true);
                }
                yield LENGTH_SET_ENCODINGS_HEADER + 4 * count;
            }
            case MSG_CLIENT_FENCE -> {
                if (filled < LENGTH_CLIENT_FENCE_HEADER) {
                    yield LENGTH_CLIENT_FENCE_HEADER;
                }
                int length = buffer[8] & 0xff;
                if (length > FENCE_PAYLOAD_MAX) {
                    throw new RfbProtocolException(
                            "ClientFence payload of " + length + " bytes exceeds the limit of " + FENCE_PAYLOAD_MAX);
                }
                yield LENGTH_CLIENT_FENCE_HEADER + length;
            }
            case MSG_SET_DESKTOP_SIZE -> {
                if (filled < LENGTH_SET_DESKTOP_SIZE_HEADER) {
                    yield LENGTH_SET_DESKTOP_SIZE_HEADER;
                }
                yield LENGTH_SET_DESKTOP_SIZE_HEADER + LENGTH_SCREEN * (buffer[6] & 0xff);
            }
            case MSG_QEMU -> {
                if (filled < LENGTH_QEMU_HEADER) {
                    yield LENGTH_QEMU_HEADER;
                }
                int subtype = buffer[1] & 0xff;
                if (subtype != QEMU_EXTENDED_KEY_EVENT) {
                    throw new RfbProtocolException("unsupported QEMU client message subtype " + subtype);
                }
                yield LENGTH_QEMU_EXTENDED_KEY_EVENT;
            }
            case MSG_CLIENT_CUT_TEXT -> {
                if (filled < LENGTH_CLIENT_CUT_TEXT_HEADER) {
                    yield LENGTH_CLIENT_CUT_TEXT_HEADER;
                }
                startCutText();
                yield -1;
            }
            default -> throw new RfbProtocolException("unknown RFB client message type " + type);
        };
        if (total < 0) {
            return; // ClientCutText: the header went out, the body streams.
        }
        if (filled < total) {
            needed = total;
            return;
        }
        filled = 0;
        needed = 0;
        listener.onMessage(type, buffer, total);
    }

    private void startCutText() throws IOException {
        int raw = s32(buffer, 4);
        boolean extended = raw < 0;
        long length = Math.abs((long) raw);
        if (length > maxCutText) {
            throw new RfbProtocolException(
                    "ClientCutText of " + length + " bytes exceeds the limit of " + maxCutText + " bytes", true);
        }
        if (extended && length < 4) {
            throw new RfbProtocolException("extended ClientCutText shorter than its 4-byte flags");
        }
        filled = 0;
        needed = 0;
        listener.onCutTextStart(java.util.Arrays.copyOf(buffer, LENGTH_CLIENT_CUT_TEXT_HEADER), (int) length, extended);
        if (length == 0) {
            listener.onCutTextEnd();
        } else {
            cutTextRemaining = length;
            streaming = true;
        }
    }
}
