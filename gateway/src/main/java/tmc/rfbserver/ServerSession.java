package tmc.rfbserver;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server side of one RFB 3.8 connection up to and including parsing the client's messages (RFC 6143 7.1-7.5),
 * with no I/O: {@link #receive} takes whatever bytes arrived, in any fragmentation, and returns what to send back
 * and the messages that completed. The states follow the protocol's order:
 *
 * <pre>
 *   VERSION      12 bytes "RFB 003.008\n"            -> security types
 *   SECURITY     1 byte: the chosen type              -> SecurityResult (None) or a challenge (VNC)
 *   VNC_AUTH     16 bytes: the DES response           -> SecurityResult
 *   CLIENT_INIT  1 byte: shared flag                  -> ServerInit
 *   NORMAL       client messages, one after another
 *   FAILED       after any error; everything is ignored
 * </pre>
 *
 * <p>Not thread safe: one reader owns it.
 */
final class ServerSession {
    enum State { VERSION, SECURITY, VNC_AUTH, CLIENT_INIT, NORMAL, FAILED }

    /** What the caller does after {@link #receive}: write {@code output}, act on {@code messages}, or close. */
    record Effects(byte[] output, List<ClientMessage> messages, boolean ready, String failure) {}

    /** What ServerInit says: the screen size and the desktop's name. */
    record Desktop(int width, int height, String name) {}

    static final byte[] VERSION_3_8 = "RFB 003.008\n".getBytes(StandardCharsets.US_ASCII);
    static final int SECURITY_NONE = 1;
    static final int SECURITY_VNC = 2;
    /** Largest message kept whole: SetEncodings with 65535 entries. Cut text beyond it is skipped, not buffered. */
    static final int MAX_MESSAGE = 4 + 4 * 65535;
    /** Cut text is read and dropped (the VM has no clipboard channel here), up to this size per message. */
    static final long MAX_CUT_TEXT = 10L << 20;

    // Client-to-server message types.
    static final int SET_PIXEL_FORMAT = 0;
    static final int SET_ENCODINGS = 2;
    static final int FRAMEBUFFER_UPDATE_REQUEST = 3;
    static final int KEY_EVENT = 4;
    static final int POINTER_EVENT = 5;
    static final int CLIENT_CUT_TEXT = 6;
    static final int SET_DESKTOP_SIZE = 251;
    static final int QEMU = 255;
    static final int QEMU_EXTENDED_KEY = 0;

    private final byte[] password;
    private final Supplier<Desktop> desktop;
    private final SecureRandom random;
    private State state = State.VERSION;
    private ByteBuffer pending = ByteBuffer.allocate(64);
    private byte[] challenge;
    /** Bytes of cut text still to skip. */
    private long skipping;

    /** {@code password} null: security type None (the gateway authenticated the person already). */
    ServerSession(String password, Supplier<Desktop> desktop, SecureRandom random) {
        this.password = password == null ? null : password.getBytes(StandardCharsets.ISO_8859_1);
        this.desktop = desktop;
        this.random = random;
    }

    State state() {
        return state;
    }

    /** The first bytes the server sends: its protocol version. */
    static byte[] greeting() {
        return VERSION_3_8.clone();
    }

    Effects receive(ByteBuffer in) {
        Out out = new Out();
        List<ClientMessage> messages = new ArrayList<>();
        boolean wasReady = state == State.NORMAL;
        try {
            while (state != State.FAILED) {
                if (skipping > 0) {
                    int n = (int) Math.min(skipping, in.remaining());
                    in.position(in.position() + n);
                    skipping -= n;
                    if (skipping > 0) break;
                }
                append(in);
                pending.flip();
                boolean progressed = step(out, messages);
                pending.compact();
                if (!progressed) {
                    if (!in.hasRemaining()) break;
                    if (!pending.hasRemaining()) throw new ProtocolError("message larger than " + MAX_MESSAGE);
                }
            }
        } catch (ProtocolError e) {
            state = State.FAILED;
            return new Effects(out.bytes(), messages, !wasReady && state == State.NORMAL, e.getMessage());
        }
        return new Effects(out.bytes(), messages, !wasReady && state == State.NORMAL, null);
    }

    /** One step of the state machine; false when it needs more bytes. */
    private boolean step(Out out, List<ClientMessage> messages) {
        return switch (state) {
            case VERSION -> version(out);
            case SECURITY -> security(out);
            case VNC_AUTH -> vncAuth(out);
            case CLIENT_INIT -> clientInit(out);
            case NORMAL -> message(messages);
            case FAILED -> false;
        };
    }

    private boolean version(Out out) {
        if (pending.remaining() < 12) return false;
        byte[] v = new byte[12];
        pending.get(v);
        String version = new String(v, StandardCharsets.US_ASCII);
        if (!version.equals("RFB 003.008\n")) {
            throw new ProtocolError("unsupported RFB version " + version.strip() + " (this server speaks 3.8)");
        }
        out.write(new byte[] {1, (byte) (password == null ? SECURITY_NONE : SECURITY_VNC)});
        state = State.SECURITY;
        return true;
    }

    private boolean security(Out out) {
        if (pending.remaining() < 1) return false;
        int type = pending.get() & 0xff;
        int offered = password == null ? SECURITY_NONE : SECURITY_VNC;
        if (type != offered) {
            out.write(securityFailure("security type " + type + " was not offered"));
            throw new ProtocolError("client chose security type " + type + ", offered " + offered);
        }
        if (type == SECURITY_NONE) {
            out.write(new byte[4]); // SecurityResult OK
            state = State.CLIENT_INIT;
        } else {
            challenge = new byte[16];
            random.nextBytes(challenge);
            out.write(challenge);
            state = State.VNC_AUTH;
        }
        return true;
    }

    private boolean vncAuth(Out out) {
        if (pending.remaining() < 16) return false;
        byte[] response = new byte[16];
        pending.get(response);
        if (!MessageDigest.isEqual(response, encrypt(challenge))) {
            out.write(securityFailure("authentication failed"));
            throw new ProtocolError("wrong VNC password");
        }
        out.write(new byte[4]);
        state = State.CLIENT_INIT;
        return true;
    }

    private boolean clientInit(Out out) {
        if (pending.remaining() < 1) return false;
        pending.get(); // shared flag: every client shares the VM's screen anyway
        Desktop d = desktop.get();
        byte[] name = d.name().getBytes(StandardCharsets.UTF_8);
        ByteBuffer init = ByteBuffer.allocate(24 + name.length);
        init.putShort((short) d.width()).putShort((short) d.height());
        PixelFormat.DEFAULT.write(init);
        init.putInt(name.length).put(name);
        out.write(init.array());
        state = State.NORMAL;
        return true;
    }

    private boolean message(List<ClientMessage> messages) {
        if (pending.remaining() < 1) return false;
        int start = pending.position();
        int type = pending.get(start) & 0xff;
        switch (type) {
            case SET_PIXEL_FORMAT -> {
                if (pending.remaining() < 20) return false;
                pending.position(start + 4);
                try {
                    messages.add(new ClientMessage.SetPixelFormat(PixelFormat.read(pending)));
                } catch (IllegalArgumentException e) {
                    throw new ProtocolError("bad SetPixelFormat: " + e.getMessage());
                }
            }
            case SET_ENCODINGS -> {
                if (pending.remaining() < 4) return false;
                int count = pending.getShort(start + 2) & 0xffff;
                if (pending.remaining() < 4 + 4 * count) return false;
                pending.position(start + 4);
                int[] encodings = new int[count];
                for (int i = 0; i < count; i++) encodings[i] = pending.getInt();
                messages.add(new ClientMessage.SetEncodings(encodings));
            }
            case FRAMEBUFFER_UPDATE_REQUEST -> {
                if (pending.remaining() < 10) return false;
                pending.position(start + 1);
                boolean incremental = pending.get() != 0;
                messages.add(new ClientMessage.UpdateRequest(incremental, pending.getShort() & 0xffff,
                        pending.getShort() & 0xffff, pending.getShort() & 0xffff, pending.getShort() & 0xffff));
            }
            case KEY_EVENT -> {
                if (pending.remaining() < 8) return false;
                pending.position(start + 1);
                boolean down = pending.get() != 0;
                pending.getShort();
                messages.add(new ClientMessage.Key(down, pending.getInt()));
            }
            case POINTER_EVENT -> {
                if (pending.remaining() < 6) return false;
                pending.position(start + 1);
                messages.add(new ClientMessage.Pointer(pending.get() & 0xff, pending.getShort() & 0xffff,
                        pending.getShort() & 0xffff));
            }
            case CLIENT_CUT_TEXT -> {
                if (pending.remaining() < 8) return false;
                int length = pending.getInt(start + 4);
                if (length < 0) throw new ProtocolError("extended clipboard was not negotiated");
                if (length > MAX_CUT_TEXT) throw new ProtocolError("cut text of " + length + " bytes is too long");
                pending.position(start + 8);
                int now = Math.min(length, pending.remaining());
                pending.position(pending.position() + now);
                skipping = length - now;
            }
            case SET_DESKTOP_SIZE -> {
                if (pending.remaining() < 8) return false;
                int screens = pending.get(start + 6) & 0xff;
                if (pending.remaining() < 8 + 16 * screens) return false;
                pending.position(start + 2);
                int w = pending.getShort() & 0xffff;
                int h = pending.getShort() & 0xffff;
                pending.position(start + 8 + 16 * screens);
                messages.add(new ClientMessage.SetDesktopSize(w, h));
            }
            case QEMU -> {
                if (pending.remaining() < 2) return false;
                int subtype = pending.get(start + 1) & 0xff;
                if (subtype != QEMU_EXTENDED_KEY) throw new ProtocolError("QEMU message subtype " + subtype
                        + " is not supported");
                if (pending.remaining() < 12) return false;
                pending.position(start + 2);
                boolean down = pending.getShort() != 0;
                int keysym = pending.getInt();
                int keycode = pending.getInt();
                messages.add(new ClientMessage.QemuKey(down, keysym, keycode));
            }
            default -> throw new ProtocolError("unknown client message type " + type);
        }
        return true;
    }

    private void append(ByteBuffer in) {
        if (pending.remaining() < in.remaining()) {
            int needed = pending.position() + in.remaining();
            if (needed > MAX_MESSAGE + 64) {
                // More than the largest whole message is waiting: take only what fits, the rest stays in `in`.
                needed = MAX_MESSAGE + 64;
            }
            if (needed > pending.capacity()) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(needed, pending.capacity() * 2));
                pending.flip();
                bigger.put(pending);
                pending = bigger;
            }
        }
        int n = Math.min(pending.remaining(), in.remaining());
        ByteBuffer slice = in.slice(in.position(), n);
        pending.put(slice);
        in.position(in.position() + n);
    }

    private static byte[] securityFailure(String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + text.length).putInt(1).putInt(text.length).put(text).array();
    }

    /** VNC Authentication (RFC 6143 7.2.2): DES of the challenge with the password, each key byte bit-reversed. */
    private byte[] encrypt(byte[] data) {
        byte[] key = new byte[8];
        for (int i = 0; i < 8 && i < password.length; i++) key[i] = (byte) (Integer.reverse(password[i] & 0xff) >>> 24);
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DES unavailable", e);
        }
    }

    /** Collects the replies of one {@link #receive}. */
    private static final class Out {
        private byte[] bytes = new byte[0];

        void write(byte[] b) {
            byte[] all = new byte[bytes.length + b.length];
            System.arraycopy(bytes, 0, all, 0, bytes.length);
            System.arraycopy(b, 0, all, bytes.length, b.length);
            bytes = all;
        }

        byte[] bytes() {
            return bytes;
        }
    }

    private static final class ProtocolError extends RuntimeException {
        ProtocolError(String message) {
            super(message, null, false, false);
        }
    }
}
