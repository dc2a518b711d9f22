package tmc.rfb;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static tmc.rfb.RfbProtocol.*;

/**
 * The client side of the RFB 3.8 handshake, spoken by the gateway to a VM's VNC server: version, security (None or
 * VNC Authentication with the configured password), SecurityResult, ClientInit (always shared, so one session can
 * never disconnect the others), ServerInit. Blocking; the caller bounds the time it may take.
 */
public final class UpstreamHandshake {
    /** Reason strings longer than this are cut; they are only logged. */
    private static final int MAX_REASON_LENGTH = 1024;

    /** Why the handshake failed: {@code authentication} tells a wrong password from a broken server. */
    public static final class HandshakeException extends IOException {
        private final boolean authentication;

        HandshakeException(String message, boolean authentication) {
            super(message);
            this.authentication = authentication;
        }

        public boolean authentication() {
            return authentication;
        }
    }

    private UpstreamHandshake() {}

    /** Performs the handshake; {@code password} may be null for security type None. */
    public static ServerInit perform(DataInputStream in, OutputStream out, String password) throws IOException {
        try {
            return handshake(in, out, password);
        } catch (EOFException e) {
            throw new HandshakeException("the VNC server closed the connection during the handshake", false);
        }
    }

    private static ServerInit handshake(DataInputStream in, OutputStream out, String password) throws IOException {
        byte[] version = new byte[VERSION_LENGTH];
        in.readFully(version);
        String text = new String(version, StandardCharsets.US_ASCII);
        if (!text.startsWith("RFB 003.") || text.compareTo("RFB 003.008\n") < 0) {
            throw new HandshakeException("the VNC server speaks " + printable(text) + ", not RFB 3.8", false);
        }
        out.write(VERSION_3_8);
        out.flush();

        int count = in.readUnsignedByte();
        if (count == 0) {
            throw new HandshakeException("the VNC server refused the connection: " + readReason(in), false);
        }
        byte[] types = new byte[count];
        in.readFully(types);
        int chosen = choose(types, password);
        out.write(chosen);
        out.flush();

        if (chosen == SECURITY_VNC_AUTH) {
            byte[] challenge = new byte[VNC_AUTH_CHALLENGE_LENGTH];
            in.readFully(challenge);
            out.write(VncAuth.response(challenge, password));
            out.flush();
        }
        int result = in.readInt();
        if (result != SECURITY_RESULT_OK) {
            String reason = readReason(in);
            throw new HandshakeException("the VNC server refused authentication: " + reason,
                    chosen == SECURITY_VNC_AUTH);
        }

        out.write(1); // ClientInit: shared-flag = 1
        out.flush();
        return ServerInit.read(in);
    }

    private static int choose(byte[] types, String password) throws HandshakeException {
        boolean none = false;
        boolean vncAuth = false;
        for (byte t : types) {
            none |= t == SECURITY_NONE;
            vncAuth |= t == SECURITY_VNC_AUTH;
        }
        if (vncAuth && password != null) {
            return SECURITY_VNC_AUTH;
        }
        if (none) {
            return SECURITY_NONE;
        }
        if (vncAuth) {
            throw new HandshakeException("the VNC server requires a password and none is configured", true);
        }
        throw new HandshakeException("the VNC server offers no supported security type "
                + Arrays.toString(toUnsigned(types)), false);
    }

    private static int[] toUnsigned(byte[] types) {
        int[] out = new int[types.length];
        for (int i = 0; i < types.length; i++) {
            out[i] = types[i] & 0xff;
        }
        return out;
    }

    private static String readReason(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_REASON_LENGTH) {
            return "(reason of " + Integer.toUnsignedString(length) + " bytes not read)";
        }
        byte[] reason = new byte[length];
        in.readFully(reason);
        return printable(new String(reason, StandardCharsets.UTF_8));
    }

    private static String printable(String s) {
        return s.replaceAll("[\\p{Cntrl}]", "?");
    }
}
