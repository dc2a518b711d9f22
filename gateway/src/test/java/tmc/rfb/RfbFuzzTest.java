package tmc.rfb;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Jazzer fuzz tests of the RFB code that reads what others send: the browser's client messages (parser and filter),
 * the browser side of the handshake, and the VM side of it against a hostile VNC server. {@code make test} replays
 * the inputs kept under {@code src/test/resources/tmc/rfb/RfbFuzzTestInputs/}; {@code make fuzz} fuzzes each for a
 * set time. Besides "no exception but the protocol's own": what the filter lets through must itself parse, and
 * must not depend on how the bytes were split into WebSocket frames.
 */
class RfbFuzzTest {
    private static final int MAX_CUT_TEXT = 4096;

    @FuzzTest(maxDuration = "5m")
    void clientMessages(FuzzedDataProvider data) throws IOException {
        boolean viewOnly = data.consumeBoolean();
        int chunk = data.consumeInt(1, 64);
        byte[] stream = data.consumeRemainingAsBytes();
        byte[] whole = filter(stream, stream.length == 0 ? 1 : stream.length, viewOnly);
        byte[] split = filter(stream, chunk, viewOnly);
        if (!Arrays.equals(whole, split)) {
            throw new IllegalStateException("the filter's output depends on framing (chunks of " + chunk + ")");
        }
        // What passes to the VM is a well-formed client message stream: parse it again.
        ClientMessageParser again = new ClientMessageParser(new ClientMessageFilter(new ByteArrayOutputStream(),
                false), MAX_CUT_TEXT);
        try {
            again.feed(ByteBuffer.wrap(whole));
        } catch (IOException e) {
            throw new IllegalStateException("the filter let through what does not parse: " + e.getMessage(), e);
        }
    }

    /** The bytes the filter passes for {@code stream} fed in {@code chunk}-byte pieces, up to the first refusal. */
    private static byte[] filter(byte[] stream, int chunk, boolean viewOnly) {
        ByteArrayOutputStream toVm = new ByteArrayOutputStream();
        ClientMessageParser parser = new ClientMessageParser(new ClientMessageFilter(toVm, viewOnly), MAX_CUT_TEXT);
        try {
            for (int i = 0; i < stream.length; i += chunk) {
                parser.feed(ByteBuffer.wrap(stream, i, Math.min(chunk, stream.length - i)));
            }
        } catch (IOException refused) {
            // A refusal ends the session; what went before it stands.
        }
        return toVm.toByteArray();
    }

    @FuzzTest(maxDuration = "5m")
    void browserHandshake(FuzzedDataProvider data) {
        BrowserHandshake handshake = new BrowserHandshake(new ServerInit(1024, 768, new byte[16], new byte[] {'v'}));
        int chunk = data.consumeInt(1, 16);
        byte[] bytes = data.consumeRemainingAsBytes();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            while (in.hasRemaining() && !handshake.done()) {
                ByteBuffer piece = in.slice(in.position(), Math.min(chunk, in.remaining()));
                handshake.feed(piece);
                in.position(in.position() + piece.position());
            }
        } catch (RfbProtocolException refused) {
            return;
        }
        if (handshake.done() && in.position() > 12 + 1 + 1) {
            throw new IllegalStateException("the handshake consumed " + in.position() + " bytes, more than its own");
        }
    }

    @FuzzTest(maxDuration = "5m")
    void hostileVncServer(FuzzedDataProvider data) {
        String password = data.consumeBoolean() ? null : data.consumeString(8);
        if (password != null && password.isEmpty()) {
            password = "pw";
        }
        byte[] server = data.consumeRemainingAsBytes();
        ByteArrayOutputStream toServer = new ByteArrayOutputStream();
        try {
            ServerInit init = UpstreamHandshake.perform(new DataInputStream(new ByteArrayInputStream(server)), toServer,
                    password);
            if (init.width() < 0 || init.height() < 0) {
                throw new IllegalStateException("negative size from ServerInit");
            }
        } catch (IOException refused) {
            // a refusal with words: the session ends with 4502
        }
        if (toServer.size() > 64) {
            throw new IllegalStateException("the gateway sent " + toServer.size() + " bytes during a handshake");
        }
    }
}
