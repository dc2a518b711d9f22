package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClientMessageParserTest {
    private final Recorder recorder = new Recorder();
    private final ClientMessageParser parser = new ClientMessageParser(recorder, 1 << 20);

    @AfterEach
    void exhausted() {
        recorder.assertExhausted();
    }

    @Test
    void framesEveryMessageNoVncSends() throws IOException {
        String stream = ""
                + "00000000" + "20180001" + "00ff00ff00ff" + "100800" + "000000" // SetPixelFormat 32bpp
                + "0200" + "0002" + "00000000" + "fffffefe"                     // SetEncodings Raw, QEMU ext key
                + "03" + "01" + "0000" + "0000" + "0320" + "0258"               // FramebufferUpdateRequest
                + "04" + "01" + "0000" + "0000ff0d"                             // KeyEvent Return down
                + "05" + "01" + "0010" + "0020"                                 // PointerEvent
                + "ff" + "00" + "0001" + "0000ff0d" + "0000001c"                // QEMU extended key event
                + "96" + "01" + "0000" + "0000" + "0320" + "0258"               // EnableContinuousUpdates
                + "f8" + "000000" + "80000000" + "02" + "abcd"                  // ClientFence, 2-byte payload
                + "fa" + "00" + "01" + "02"                                     // xvp
                + "fb" + "00" + "0320" + "0258" + "01" + "00"                   // SetDesktopSize, one screen
                + "00000000" + "0000" + "0000" + "0320" + "0258" + "00000000"
                + "06" + "000000" + "00000003" + "616263";                      // ClientCutText "abc"
        feedOneByteAtATime(stream);

        recorder.assertMessage("0000000020180001" + "00ff00ff00ff100800000000");
        recorder.assertMessage("02000002" + "00000000fffffefe");
        recorder.assertMessage("03010000000003200258");
        recorder.assertMessage("040100000000ff0d");
        recorder.assertMessage("050100100020");
        recorder.assertMessage("ff0000010000ff0d0000001c");
        recorder.assertMessage("96010000000003200258");
        recorder.assertMessage("f8000000800000000" + "2abcd");
        recorder.assertMessage("fa000102");
        recorder.assertMessage("fb00032002580100" + "00000000000000000320025800000000");
        recorder.assertEvent("cut-start 06000000" + "00000003 length=3 extended=false");
        recorder.assertEvent("cut-data 61");
        recorder.assertEvent("cut-data 62");
        recorder.assertEvent("cut-data 63");
        recorder.assertEvent("cut-end");
        assertTrue(parser.atBoundary());
    }

    @Test
    void wholeStreamInOneBuffer() throws IOException {
        parser.feed(ByteBuffer.wrap(hex("050100100020" + "06000000fffffff8" + "1000000000000003" + "040100000000ff0d")));
        recorder.assertMessage("050100100020");
        recorder.assertEvent("cut-start 06000000fffffff8 length=8 extended=true");
        recorder.assertEvent("cut-data 1000000000000003");
        recorder.assertEvent("cut-end");
        recorder.assertMessage("040100000000ff0d");
    }

    @Test
    void emptyCutText() throws IOException {
        parser.feed(ByteBuffer.wrap(hex("0600000000000000")));
        recorder.assertEvent("cut-start 0600000000000000 length=0 extended=false");
        recorder.assertEvent("cut-end");
    }

    @Test
    void unknownTypeIsRefused() {
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> parser.feed(ByteBuffer.wrap(hex("07"))));
        assertEquals("unknown RFB client message type 7", e.getMessage());
    }

    @Test
    void qemuAudioIsRefused() {
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> parser.feed(ByteBuffer.wrap(hex("ff01"))));
        assertEquals("unsupported QEMU client message subtype 1", e.getMessage());
    }

    @Test
    void oversizedCutTextIsRefusedBeforeAnyBodyArrives() {
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> parser.feed(ByteBuffer.wrap(hex("0600000000100001"))));
        assertEquals("ClientCutText of 1048577 bytes exceeds the limit of 1048576 bytes", e.getMessage());
        assertTrue(e.tooBig());
    }

    @Test
    void mostNegativeCutTextLengthIsRefused() {
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> parser.feed(ByteBuffer.wrap(hex("0600000080000000"))));
        assertEquals("ClientCutText of 2147483648 bytes exceeds the limit of 1048576 bytes", e.getMessage());
    }

    @Test
    void tooManyEncodingsAreRefused() {
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> parser.feed(ByteBuffer.wrap(hex("02000201"))));
        assertEquals("SetEncodings with 513 encodings exceeds the limit of 512", e.getMessage());
    }

    @Test
    void oversizedFenceIsRefused() {
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> parser.feed(ByteBuffer.wrap(hex("f8000000" + "00000000" + "41"))));
        assertEquals("ClientFence payload of 65 bytes exceeds the limit of 64", e.getMessage());
    }

    @Test
    void partialMessageIsHeldUntilComplete() throws IOException {
        parser.feed(ByteBuffer.wrap(hex("0501")));
        assertTrue(!parser.atBoundary());
        parser.feed(ByteBuffer.wrap(hex("00100020")));
        recorder.assertMessage("050100100020");
    }

    private void feedOneByteAtATime(String hex) throws IOException {
        for (byte b : hex(hex)) {
            parser.feed(ByteBuffer.wrap(new byte[] {b}));
        }
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    /** Records parser events as strings; cut-text data is recorded per call. */
    static final class Recorder implements ClientMessageParser.Listener {
        final List<String> events = new ArrayList<>();

        @Override
        public void onMessage(int type, byte[] message, int length) {
            events.add("message " + HexFormat.of().formatHex(message, 0, length));
        }

        @Override
        public void onCutTextStart(byte[] header, int bodyLength, boolean extended) {
            events.add("cut-start " + HexFormat.of().formatHex(header) + " length=" + bodyLength + " extended="
                    + extended);
        }

        @Override
        public void onCutTextData(ByteBuffer data) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (data.hasRemaining()) {
                out.write(data.get());
            }
            events.add("cut-data " + HexFormat.of().formatHex(out.toByteArray()));
        }

        @Override
        public void onCutTextEnd() {
            events.add("cut-end");
        }

        void assertMessage(String hex) {
            assertEvent("message " + hex);
        }

        void assertEvent(String event) {
            assertTrue(!events.isEmpty(), "no more events; expected " + event);
            assertEquals(event, events.remove(0));
        }

        void assertExhausted() {
            assertEquals(List.of(), events);
        }
    }
}
