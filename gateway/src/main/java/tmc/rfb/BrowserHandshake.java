package tmc.rfb;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static tmc.rfb.RfbProtocol.*;

/**
 * The server side of the RFB 3.8 handshake, spoken by the gateway to the browser: it offers only security type None
 * (the JWT already decided who may connect) and answers ClientInit with the VM's own ServerInit.
 *
 * <pre>
 *   gateway: "RFB 003.008\n"        browser: "RFB 003.008\n"
 *   gateway: [1, None]              browser: None
 *   gateway: SecurityResult OK      browser: ClientInit (shared flag, ignored: the VM side is always shared)
 *   gateway: the VM's ServerInit    then client messages
 * </pre>
 *
 * A push state machine: {@link #feed} consumes what the current step needs and returns the bytes to send. Not thread
 * safe.
 */
public final class BrowserHandshake {
    public enum State { VERSION, SECURITY, CLIENT_INIT, DONE }

    private final ServerInit serverInit;
    private State state = State.VERSION;
    private final byte[] pending = new byte[VERSION_LENGTH];
    private int filled;

    public BrowserHandshake(ServerInit serverInit) {
        this.serverInit = serverInit;
    }

    /** What the gateway sends first. */
    public static byte[] greeting() {
        return VERSION_3_8.clone();
    }

    public State state() {
        return state;
    }

    public boolean done() {
        return state == State.DONE;
    }

    /**
     * Consumes handshake bytes from {@code data}, leaving any bytes after the handshake in it, and returns what to
     * send to the browser (possibly nothing).
     */
    public byte[] feed(ByteBuffer data) throws RfbProtocolException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (state != State.DONE && data.hasRemaining()) {
            int want = state == State.VERSION ? VERSION_LENGTH : 1;
            int n = Math.min(want - filled, data.remaining());
            data.get(pending, filled, n);
            filled += n;
            if (filled < want) {
                break;
            }
            filled = 0;
            switch (state) {
                case VERSION -> {
                    String version = new String(pending, 0, VERSION_LENGTH, StandardCharsets.US_ASCII);
                    if (!version.equals("RFB 003.008\n")) {
                        throw new RfbProtocolException("unsupported RFB version from the browser: "
                                + version.strip().replaceAll("\\p{Cntrl}", "?") + " (only 3.8 is offered)");
                    }
                    out.writeBytes(new byte[] {1, SECURITY_NONE});
                    state = State.SECURITY;
                }
                case SECURITY -> {
                    int type = pending[0] & 0xff;
                    if (type != SECURITY_NONE) {
                        throw new RfbProtocolException("the browser chose security type " + type
                                + "; only None (1) is offered");
                    }
                    out.writeBytes(new byte[] {0, 0, 0, SECURITY_RESULT_OK});
                    state = State.CLIENT_INIT;
                }
                case CLIENT_INIT -> {
                    out.writeBytes(serverInit.encode());
                    state = State.DONE;
                }
                case DONE -> throw new AssertionError();
            }
        }
        return out.toByteArray();
    }
}
