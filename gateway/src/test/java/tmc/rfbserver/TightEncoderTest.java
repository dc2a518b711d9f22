package tmc.rfbserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** Tight output decoded the way a viewer decodes it (one inflater for the connection, JPEG through ImageIO). */
class TightEncoderTest {
    /** A minimal Tight decoder for 32-bit TPIXEL clients: what noVNC's tight.js does for these three modes. */
    static final class Decoder {
        private final Inflater stream0 = new Inflater();

        int[] decode(ByteBuffer in, int w, int h) throws Exception {
            int control = in.get() & 0xff;
            int[] out = new int[w * h];
            if (control == TightEncoder.FILL) {
                int rgb = (in.get() & 0xff) << 16 | (in.get() & 0xff) << 8 | (in.get() & 0xff);
                java.util.Arrays.fill(out, rgb);
            } else if (control == TightEncoder.JPEG) {
                byte[] jpeg = new byte[compactLength(in)];
                in.get(jpeg);
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(jpeg));
                img.getRGB(0, 0, w, h, out, 0, w);
                for (int i = 0; i < out.length; i++) out[i] &= 0xffffff;
            } else {
                assertEquals(0, control, "basic, stream 0, copy filter");
                byte[] px = new byte[w * h * 3];
                if (px.length < TightEncoder.MIN_TO_COMPRESS) {
                    in.get(px);
                } else {
                    byte[] z = new byte[compactLength(in)];
                    in.get(z);
                    stream0.setInput(z);
                    assertEquals(px.length, stream0.inflate(px));
                }
                for (int i = 0; i < out.length; i++) {
                    out[i] = (px[3 * i] & 0xff) << 16 | (px[3 * i + 1] & 0xff) << 8 | (px[3 * i + 2] & 0xff);
                }
            }
            return out;
        }

        static int compactLength(ByteBuffer in) {
            int b = in.get() & 0xff;
            int len = b & 0x7f;
            if ((b & 0x80) != 0) {
                b = in.get() & 0xff;
                len |= (b & 0x7f) << 7;
                if ((b & 0x80) != 0) len |= (in.get() & 0xff) << 14;
            }
            return len;
        }
    }

    private static int[] text(int w, int h, long seed) {
        Random r = new Random(seed);
        int[] px = new int[w * h];
        for (int i = 0; i < px.length; i++) px[i] = r.nextInt(10) == 0 ? 0xaaaaaa : 0x000000;
        return px;
    }

    private static int[] photo(int w, int h) {
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) px[y * w + x] = (x * 255 / w) << 16 | (y * 255 / h) << 8 | ((x + y) & 0xff);
        }
        return px;
    }

    @Test
    void oneColourIsAFillOfFourBytes() throws Exception {
        TightEncoder enc = new TightEncoder();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] px = new int[200 * 100];
        java.util.Arrays.fill(px, 0x123456);
        enc.encode(px, 200, 100, PixelFormat.DEFAULT, 6, 6, true, out);
        assertArrayEquals(new byte[] {(byte) 0x80, 0x12, 0x34, 0x56}, out.toByteArray());
    }

    @Test
    void textIsLosslessThroughOneZlibStreamAcrossRects() throws Exception {
        TightEncoder enc = new TightEncoder();
        Decoder dec = new Decoder();
        for (int i = 0; i < 5; i++) {
            int[] px = text(120, 40, i);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            enc.encode(px, 120, 40, PixelFormat.DEFAULT, 6, 6, true, out);
            assertTrue(out.size() < px.length * 3 / 2, "compressed: " + out.size());
            assertArrayEquals(px, dec.decode(ByteBuffer.wrap(out.toByteArray()), 120, 40));
        }
    }

    @Test
    void bigManyColouredAreasGoJpegOnlyWhenAllowed() throws Exception {
        int[] px = photo(256, 128);
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        new TightEncoder().encode(px, 256, 128, PixelFormat.DEFAULT, 8, 6, true, jpeg);
        assertEquals(TightEncoder.JPEG, jpeg.toByteArray()[0] & 0xff);
        int[] back = new Decoder().decode(ByteBuffer.wrap(jpeg.toByteArray()), 256, 128);
        long error = 0;
        for (int i = 0; i < px.length; i++) error += Math.abs((px[i] >> 8 & 0xff) - (back[i] >> 8 & 0xff));
        assertTrue(error / px.length < 6, "mean green error " + error / px.length);

        ByteArrayOutputStream lossless = new ByteArrayOutputStream();
        new TightEncoder().encode(px, 256, 128, PixelFormat.DEFAULT, 8, 6, false, lossless);
        assertEquals(0, lossless.toByteArray()[0], "no JPEG where lossless is required");
        // Without a quality level from the client, no JPEG either.
        ByteArrayOutputStream noQuality = new ByteArrayOutputStream();
        new TightEncoder().encode(px, 256, 128, PixelFormat.DEFAULT, -1, 6, true, noQuality);
        assertEquals(0, noQuality.toByteArray()[0]);
    }

    @Test
    void compactLengthsUseOneToThreeBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TightEncoder.writeCompactLength(0x7f, out);
        TightEncoder.writeCompactLength(0x80, out);
        TightEncoder.writeCompactLength(0x3fffff, out);
        assertArrayEquals(new byte[] {0x7f, (byte) 0x80, 0x01, (byte) 0xff, (byte) 0xff, (byte) 0xff}, out.toByteArray());
    }
}
