package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tmc.rfb.ClientMessageParserTest.hex;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class BrowserHandshakeTest {
    private final ServerInit init = new ServerInit(800, 600, hex("20180001" + "00ff00ff00ff" + "100800" + "000000"),
            "vm1".getBytes(StandardCharsets.UTF_8));

    @Test
    void fullHandshakeOneByteAtATime() throws RfbProtocolException {
        BrowserHandshake handshake = new BrowserHandshake(init);
        assertArrayEquals("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII), BrowserHandshake.greeting());
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        for (byte b : ("RFB 003.008\n").getBytes(StandardCharsets.US_ASCII)) {
            sent.writeBytes(handshake.feed(ByteBuffer.wrap(new byte[] {b})));
        }
        assertEquals("0101", HexFormat.of().formatHex(sent.toByteArray())); // one type: None
        assertEquals("00000000", HexFormat.of().formatHex(handshake.feed(ByteBuffer.wrap(hex("01")))));
        // ClientInit, then a client message in the same WebSocket message: it is left for the parser.
        ByteBuffer rest = ByteBuffer.wrap(hex("00" + "050100100020"));
        byte[] serverInit = handshake.feed(rest);
        assertEquals("03200258" + "2018000100ff00ff00ff100800000000" + "00000003" + "766d31",
                HexFormat.of().formatHex(serverInit));
        assertTrue(handshake.done());
        assertEquals(6, rest.remaining());
    }

    @Test
    void otherVersionsAreRefused() {
        BrowserHandshake handshake = new BrowserHandshake(init);
        RfbProtocolException e = assertThrows(RfbProtocolException.class, () -> handshake.feed(
                ByteBuffer.wrap("RFB 003.003\n".getBytes(StandardCharsets.US_ASCII))));
        assertEquals("unsupported RFB version from the browser: RFB 003.003 (only 3.8 is offered)", e.getMessage());
    }

    @Test
    void vncAuthIsNotOffered() throws RfbProtocolException {
        BrowserHandshake handshake = new BrowserHandshake(init);
        handshake.feed(ByteBuffer.wrap("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII)));
        RfbProtocolException e = assertThrows(RfbProtocolException.class,
                () -> handshake.feed(ByteBuffer.wrap(hex("02"))));
        assertEquals("the browser chose security type 2; only None (1) is offered", e.getMessage());
    }
}
