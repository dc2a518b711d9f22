package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static tmc.rfb.ClientMessageParserTest.hex;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ClientMessageFilterTest {
    private final ByteArrayOutputStream vm = new ByteArrayOutputStream();

    private String filter(boolean viewOnly, String stream) throws IOException {
        ClientMessageFilter filter = new ClientMessageFilter(vm, viewOnly);
        new ClientMessageParser(filter, 1 << 20).feed(ByteBuffer.wrap(hex(stream)));
        return HexFormat.of().formatHex(vm.toByteArray());
    }

    @Test
    void setEncodingsLosesExtendedMouseButtonsXvpAndAudio() throws IOException {
        String out = filter(false, "0200" + "0005" + "00000000" + "fffffec4" + "fffffecb" + "fffffefd" + "fffffefe");
        assertEquals("0200" + "0002" + "00000000" + "fffffefe", out);
    }

    @Test
    void viewOnlyDropsInputAndClipboardButKeepsUpdates() throws IOException {
        String out = filter(true, ""
                + "0200" + "0003" + "00000000" + "fffffefe" + "fffffecc"
                + "040100000000ff0d"                     // KeyEvent: dropped
                + "050100100020"                         // PointerEvent: dropped
                + "ff0000010000ff0d0000001c"             // QEMU extended key: dropped
                + "06000000" + "00000002" + "6869"       // ClientCutText: dropped
                + "fb00032002580100" + "00000000000000000320025800000000" // SetDesktopSize: dropped
                + "03010000000003200258");               // FramebufferUpdateRequest: passes
        assertEquals("0200" + "0003" + "00000000" + "fffffefe" + "fffffecc" + "03010000000003200258", out);
    }

    @Test
    void fullSessionPassesInput() throws IOException {
        String out = filter(false, "040100000000ff0d" + "050100100020" + "06000000" + "00000002" + "6869");
        assertEquals("040100000000ff0d" + "050100100020" + "06000000" + "00000002" + "6869", out);
    }

    @Test
    void xvpIsDropped() throws IOException {
        assertEquals("", filter(false, "fa000102"));
    }

    @Test
    void extensionsNeedTheirPseudoEncoding() {
        assertEquals("QEMU extended key event sent without negotiating it in SetEncodings",
                assertThrows(RfbProtocolException.class,
                        () -> filter(false, "ff0000010000ff0d0000001c")).getMessage());
        assertEquals("extended ClientCutText sent without negotiating it in SetEncodings",
                assertThrows(RfbProtocolException.class,
                        () -> filter(false, "06000000fffffffc" + "01000000")).getMessage());
        assertEquals("ClientFence sent without negotiating it in SetEncodings",
                assertThrows(RfbProtocolException.class,
                        () -> filter(false, "f8000000" + "00000000" + "00")).getMessage());
    }

    @Test
    void extendedClipboardPassesOnceNegotiated() throws IOException {
        String out = filter(false, "0200" + "0001" + "c0a1e5ce" + "06000000fffffffc" + "01000000");
        assertEquals("0200" + "0001" + "c0a1e5ce" + "06000000fffffffc" + "01000000", out);
    }

    /** A viewer is not handed the guest's clipboard: QEMU sends it only to clients that asked for it. */
    @Test
    void viewOnlySessionsDoNotAskForTheGuestClipboard() throws IOException {
        String setEncodings = "0200" + "0002" + "00000000" + "c0a1e5ce";
        assertEquals("0200" + "0001" + "00000000", filter(true, setEncodings));
        vm.reset();
        assertEquals(setEncodings, filter(false, setEncodings));
        vm.reset();
        new ClientMessageParser(new ClientMessageFilter(vm, true, true), 1 << 20)
                .feed(ByteBuffer.wrap(hex(setEncodings)));
        assertEquals(setEncodings, HexFormat.of().formatHex(vm.toByteArray()), "configured to receive it");
        // Its extended clipboard messages are dropped, as all its clipboard messages are: QEMU never agreed to them.
        vm.reset();
        assertEquals("0200" + "0001" + "00000000", filter(true, setEncodings + "06000000fffffffc" + "01000000"));
    }
}
