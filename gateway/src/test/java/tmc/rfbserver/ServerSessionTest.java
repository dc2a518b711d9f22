package tmc.rfbserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The server's handshake and message parser, fed real bytes, often one byte at a time (as noVNC's tests do). */
class ServerSessionTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final ServerSession.Desktop DESKTOP = new ServerSession.Desktop(640, 480, "vm1");

    /** Feeds {@code hex} one byte per receive; returns all output and messages. */
    private static Result feed(ServerSession s, String hex) {
        Result r = new Result();
        for (byte b : HEX.parseHex(hex.replace(" ", ""))) {
            ServerSession.Effects e = s.receive(ByteBuffer.wrap(new byte[] {b}));
            r.out.writeBytes(e.output());
            r.messages.addAll(e.messages());
            r.ready |= e.ready();
            if (e.failure() != null) r.failure = e.failure();
        }
        return r;
    }

    private static final class Result {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final List<ClientMessage> messages = new ArrayList<>();
        boolean ready;
        String failure;
    }

    private static ServerSession none() {
        return new ServerSession(null, () -> DESKTOP, new SecureRandom());
    }

    @Test
    void securityNoneHandshakeEndsInServerInit() {
        ServerSession s = none();
        assertArrayEquals("RFB 003.008\n".getBytes(), ServerSession.greeting());
        Result r = feed(s, "524642203030332e3030380a"); // "RFB 003.008\n"
        assertEquals("0101", HEX.formatHex(r.out.toByteArray()), "one security type: None");
        r = feed(s, "01");
        assertEquals("00000000", HEX.formatHex(r.out.toByteArray()), "SecurityResult OK");
        r = feed(s, "01"); // ClientInit, shared
        assertTrue(r.ready);
        assertEquals("0280" + "01e0" // 640 x 480
                + "2018000100ff00ff00ff100800000000" // 32 bpp, depth 24, little-endian, true colour, r16 g8 b0
                + "00000003" + "766d31", HEX.formatHex(r.out.toByteArray()));
        assertNull(r.failure);
        assertEquals(ServerSession.State.NORMAL, s.state());
    }

    @Test
    void vncAuthenticationChecksTheResponse() throws Exception {
        byte[] challenge = HEX.parseHex("00112233445566778899aabbccddeeff");
        SecureRandom fixed = new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                System.arraycopy(challenge, 0, bytes, 0, bytes.length);
            }
        };
        ServerSession s = new ServerSession("secret", () -> DESKTOP, fixed);
        assertEquals("0102", HEX.formatHex(feed(s, "524642203030332e3030380a").out.toByteArray()));
        assertEquals(HEX.formatHex(challenge), HEX.formatHex(feed(s, "02").out.toByteArray()));
        byte[] key = new byte[8];
        byte[] pw = "secret".getBytes();
        for (int i = 0; i < pw.length; i++) key[i] = (byte) (Integer.reverse(pw[i]) >>> 24);
        Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
        des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
        Result r = feed(s, HEX.formatHex(des.doFinal(challenge)));
        assertEquals("00000000", HEX.formatHex(r.out.toByteArray()));
    }

    @Test
    void aWrongPasswordFailsWithAReason() {
        ServerSession s = new ServerSession("secret", () -> DESKTOP, new SecureRandom());
        feed(s, "524642203030332e3030380a02");
        Result r = feed(s, "00".repeat(16));
        assertEquals("wrong VNC password", r.failure);
        assertEquals("00000001" + "00000015" + HEX.formatHex("authentication failed".getBytes()),
                HEX.formatHex(r.out.toByteArray()));
        assertEquals(ServerSession.State.FAILED, s.state());
    }

    @Test
    void otherVersionsAreRefused() {
        Result r = feed(none(), "524642203030332e3030330a"); // 3.3
        assertEquals("unsupported RFB version RFB 003.003 (this server speaks 3.8)", r.failure);
    }

    @Test
    void clientMessagesAreParsedWhateverTheFragmentation() {
        ServerSession s = none();
        feed(s, "524642203030332e3030380a0101");
        Result r = feed(s, ""
                + "02 00 0003 00000007 ffffff21 fffffefe" // SetEncodings: Tight, DesktopSize, QEMU ext key
                + "03 01 0000 0000 0280 01e0" // incremental request, whole screen
                + "04 01 0000 00000061" // key down 'a'
                + "05 01 0010 0020" // pointer left at 16,32
                + "ff 00 0000 0000ff0d 0000001c" // QEMU ext key up: Return, scancode 0x1c
                + "06 000000 00000003 616263" // cut text "abc", dropped
                + "00 000000 10 10 00 01 001f 003f 001f 0b 05 00 000000"); // SetPixelFormat rgb565
        assertNull(r.failure);
        assertEquals(6, r.messages.size(), r.messages.toString());
        assertArrayEquals(new int[] {7, -223, -258}, ((ClientMessage.SetEncodings) r.messages.get(0)).encodings());
        assertEquals(new ClientMessage.UpdateRequest(true, 0, 0, 640, 480), r.messages.get(1));
        assertEquals(new ClientMessage.Key(true, 0x61), r.messages.get(2));
        assertEquals(new ClientMessage.Pointer(1, 16, 32), r.messages.get(3));
        assertEquals(new ClientMessage.QemuKey(false, 0xff0d, 0x1c), r.messages.get(4));
        assertEquals(new PixelFormat(16, 16, false, true, 31, 63, 31, 11, 5, 0),
                ((ClientMessage.SetPixelFormat) r.messages.get(5)).format());
    }

    @Test
    void badMessagesFailWithASentence() {
        ServerSession s = none();
        feed(s, "524642203030332e3030380a0101");
        assertEquals("unknown client message type 9", feed(s, "09").failure);
        s = none();
        feed(s, "524642203030332e3030380a0101");
        assertEquals("extended clipboard was not negotiated", feed(s, "06000000fffffff0").failure);
        s = none();
        feed(s, "524642203030332e3030380a0101");
        assertEquals("bad SetPixelFormat: colour-map pixel formats are not supported",
                feed(s, "00000000 08 08 00 00 0007 0007 0003 00 03 06 000000").failure);
    }
}
