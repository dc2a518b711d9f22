package tmc.pixels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FramebufferTest {
    /** x8r8g8b8 bytes as QEMU sends them on x86: B, G, R, X per pixel. */
    static byte[] xrgb(int w, int h, int stride, int rgb) {
        byte[] data = new byte[stride * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = y * stride + x * 4;
                data[o] = (byte) rgb;
                data[o + 1] = (byte) (rgb >> 8);
                data[o + 2] = (byte) (rgb >> 16);
                data[o + 3] = (byte) 0xee; // padding byte: must be ignored
            }
        }
        return data;
    }

    @Test
    void anUpdateReportsOnlyThePixelsThatChanged() {
        Framebuffer fb = new Framebuffer(64, 48);
        byte[] block = xrgb(16, 16, 16 * 4 + 8, 0x000000);
        // Same pixels as already there: nothing changed, nothing to send.
        assertNull(fb.update(8, 8, 16, 16, 16 * 4 + 8, PixelLayout.X8R8G8B8, block));
        // One pixel in the middle differs.
        int o = 5 * (16 * 4 + 8) + 7 * 4;
        block[o] = 0x12;
        block[o + 1] = 0x34;
        block[o + 2] = 0x56;
        assertEquals(new Rect(15, 13, 1, 1), fb.update(8, 8, 16, 16, 16 * 4 + 8, PixelLayout.X8R8G8B8, block));
        assertEquals(0x563412, fb.pixel(15, 13));
    }

    @Test
    void resetChangesTheSizeAndTheGeneration() {
        Framebuffer fb = new Framebuffer(10, 10);
        long before = fb.generation();
        assertTrue(fb.reset(20, 5, 80, PixelLayout.X8R8G8B8, xrgb(20, 5, 80, 0xff0000)));
        assertEquals(Rect.ofSize(20, 5), fb.bounds());
        assertEquals(0xff0000, fb.pixel(19, 4));
        assertTrue(fb.generation() > before);
    }

    @Test
    void resizeKeepsTheSharedTopLeftPart() {
        Framebuffer fb = new Framebuffer(4, 4);
        fb.update(0, 0, 4, 4, 16, PixelLayout.X8R8G8B8, xrgb(4, 4, 16, 0x00ff00));
        assertTrue(fb.resize(6, 2));
        assertEquals(0x00ff00, fb.pixel(3, 1));
        assertEquals(0, fb.pixel(5, 1));
        assertTrue(!fb.resize(6, 2), "same size: no change");
        assertTrue(fb.covers(0, 0, 6, 2) && !fb.covers(0, 0, 6, 3));
    }

    @Test
    void rgb565IsWidenedToEightBitsAChannel() {
        Framebuffer fb = new Framebuffer(1, 1);
        // 0xf800 little-endian = pure red at 5 bits.
        fb.update(0, 0, 1, 1, 2, PixelLayout.R5G6B5, new byte[] {0x00, (byte) 0xf8});
        assertEquals(0xff0000, fb.pixel(0, 0));
    }

    @Test
    void badUpdatesAreRefusedAndChangeNothing() {
        Framebuffer fb = new Framebuffer(10, 10);
        int[] before = fb.snapshot();
        assertThrows(IllegalArgumentException.class,
                () -> fb.update(5, 5, 10, 10, 40, PixelLayout.X8R8G8B8, new byte[400]));
        assertThrows(IllegalArgumentException.class,
                () -> fb.update(0, 0, 10, 10, 40, PixelLayout.X8R8G8B8, new byte[399]));
        assertThrows(IllegalArgumentException.class,
                () -> fb.update(0, 0, 10, 10, 39, PixelLayout.X8R8G8B8, new byte[400]));
        assertThrows(IllegalArgumentException.class, () -> PixelLayout.ofPixman(0x12345678));
        assertThrows(IllegalArgumentException.class,
                () -> fb.reset(0, 10, 0, PixelLayout.X8R8G8B8, new byte[0]));
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(fb.snapshot()));
    }
}
