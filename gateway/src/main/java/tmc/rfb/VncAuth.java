package tmc.rfb;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * RFC 6143 7.2.2 VNC Authentication: the response is the 16-byte challenge encrypted with DES, keyed by the first 8
 * bytes of the password (zero padded) with the bits of each key byte mirrored, as every VNC implementation does.
 */
public final class VncAuth {
    private VncAuth() {}

    public static byte[] response(byte[] challenge, String password) {
        if (challenge.length != RfbProtocol.VNC_AUTH_CHALLENGE_LENGTH) {
            throw new IllegalArgumentException("challenge must be 16 bytes");
        }
        byte[] key = new byte[8];
        byte[] pw = password.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < key.length && i < pw.length; i++) {
            key[i] = (byte) (Integer.reverse(pw[i] & 0xff) >>> 24);
        }
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DES is not available in this JDK", e);
        }
    }
}
