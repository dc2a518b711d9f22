package tmc.rfb;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

import static tmc.rfb.RfbProtocol.*;

/**
 * The gateway's policy for client-to-server messages: which pass to the VM, which are dropped, which end the
 * session. It sits behind a {@link ClientMessageParser} and writes what passes to the VM's stream.
 *
 * <ul>
 *   <li>SetEncodings loses the pseudo-encodings the gateway does not relay: ExtendedMouseButtons (it would change
 *       PointerEvent's length on a signal only the server-to-client stream carries), xvp (power control is not a
 *       tenant's business through a desktop session) and QEMU audio.
 *   <li>Extension messages pass only after the client asked for the matching pseudo-encoding, as QEMU's
 *       {@code vnc_has_feature} checks do: extended clipboard, QEMU extended key events, SetDesktopSize,
 *       ClientFence, EnableContinuousUpdates.
 *   <li>A view-only session drops KeyEvent, PointerEvent, QEMU extended key events, ClientCutText and
 *       SetDesktopSize: nothing it sends can change the guest.
 *   <li>xvp messages are dropped.
 * </ul>
 *
 * <p>Not thread safe: the parser's thread drives it.
 */
public final class ClientMessageFilter implements ClientMessageParser.Listener {
    private final OutputStream upstream;
    private final boolean viewOnly;
    /** Whether the session may ask for the guest's clipboard (the extended-clipboard pseudo-encoding). */
    private final boolean guestClipboard;
    /** Pseudo-encodings the client has asked for, from its latest SetEncodings. */
    private final Set<Integer> requested = new HashSet<>();
    private boolean passingCutText;
    private long droppedMessages;

    /** A view-only session gets no guest clipboard; a full session does. */
    public ClientMessageFilter(OutputStream upstream, boolean viewOnly) {
        this(upstream, viewOnly, !viewOnly);
    }

    /**
     * {@code guestClipboard} false: the extended-clipboard pseudo-encoding is taken out of SetEncodings. QEMU sends
     * the guest's clipboard (ServerCutText) only to clients that asked for it (ui/vnc-clipboard.c registers the
     * clipboard peer in vnc_server_cut_text_caps), so such a session never receives what the guest copied; a viewer
     * is shown the screen, not handed the clipboard.
     */
    public ClientMessageFilter(OutputStream upstream, boolean viewOnly, boolean guestClipboard) {
        this.upstream = upstream;
        this.viewOnly = viewOnly;
        this.guestClipboard = guestClipboard;
    }

    /** Messages dropped so far (view-only input, xvp). */
    public long droppedMessages() {
        return droppedMessages;
    }

    @Override
    public void onMessage(int type, byte[] message, int length) throws IOException {
        switch (type) {
            case MSG_SET_PIXEL_FORMAT, MSG_FRAMEBUFFER_UPDATE_REQUEST -> upstream.write(message, 0, length);
            case MSG_SET_ENCODINGS -> writeSetEncodings(message, length);
            case MSG_KEY_EVENT, MSG_POINTER_EVENT -> passUnlessViewOnly(message, length);
            case MSG_QEMU -> {
                require(ENCODING_QEMU_EXTENDED_KEY_EVENT, "QEMU extended key event");
                passUnlessViewOnly(message, length);
            }
            case MSG_SET_DESKTOP_SIZE -> {
                require(ENCODING_EXTENDED_DESKTOP_SIZE, "SetDesktopSize");
                passUnlessViewOnly(message, length);
            }
            case MSG_CLIENT_FENCE -> {
                require(ENCODING_FENCE, "ClientFence");
                upstream.write(message, 0, length);
            }
            case MSG_ENABLE_CONTINUOUS_UPDATES -> {
                require(ENCODING_CONTINUOUS_UPDATES, "EnableContinuousUpdates");
                upstream.write(message, 0, length);
            }
            case MSG_XVP -> droppedMessages++;
            default -> throw new RfbProtocolException("unknown RFB client message type " + type);
        }
    }

    @Override
    public void onCutTextStart(byte[] header, int bodyLength, boolean extended) throws IOException {
        if (extended) {
            require(ENCODING_EXTENDED_CLIPBOARD, "extended ClientCutText");
        }
        passingCutText = !viewOnly && (guestClipboard || !extended);
        if (passingCutText) {
            upstream.write(header, 0, LENGTH_CLIENT_CUT_TEXT_HEADER);
        } else {
            droppedMessages++;
        }
    }

    @Override
    public void onCutTextData(ByteBuffer data) throws IOException {
        if (!passingCutText) {
            return;
        }
        if (data.hasArray()) {
            upstream.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
        } else {
            byte[] copy = new byte[data.remaining()];
            data.get(copy);
            upstream.write(copy);
        }
    }

    @Override
    public void onCutTextEnd() {
        passingCutText = false;
    }

    private void passUnlessViewOnly(byte[] message, int length) throws IOException {
        if (viewOnly) {
            droppedMessages++;
        } else {
            upstream.write(message, 0, length);
        }
    }

    private void require(int encoding, String what) throws RfbProtocolException {
        if (!requested.contains(encoding)) {
            throw new RfbProtocolException(what + " sent without negotiating it in SetEncodings");
        }
    }

    private void writeSetEncodings(byte[] message, int length) throws IOException {
        int count = (length - LENGTH_SET_ENCODINGS_HEADER) / 4;
        byte[] out = new byte[length];
        System.arraycopy(message, 0, out, 0, LENGTH_SET_ENCODINGS_HEADER);
        requested.clear();
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int encoding = s32(message, LENGTH_SET_ENCODINGS_HEADER + 4 * i);
            if (encoding == ENCODING_EXTENDED_MOUSE_BUTTONS || encoding == ENCODING_XVP
                    || encoding == ENCODING_QEMU_AUDIO) {
                continue;
            }
            if (encoding == ENCODING_EXTENDED_CLIPBOARD && !guestClipboard) {
                // The client may go on to send extended ClientCutText: it is dropped (QEMU never agreed to it).
                requested.add(encoding);
                continue;
            }
            requested.add(encoding);
            putS32(out, LENGTH_SET_ENCODINGS_HEADER + 4 * kept, encoding);
            kept++;
        }
        out[2] = (byte) (kept >>> 8);
        out[3] = (byte) kept;
        upstream.write(out, 0, LENGTH_SET_ENCODINGS_HEADER + 4 * kept);
    }
}
