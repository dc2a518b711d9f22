package tmc.render;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A rendered message: {@code width × height} pixels as Java's 0xAARRGGBB ints (straight alpha, rows top to
 * bottom) and the button rectangles in the bitmap's coordinates.
 */
public record Bitmap(int width, int height, int[] argb, List<Hotspot> hotspots) {
    /** A button's clickable rectangle. */
    public record Hotspot(String id, int x, int y, int width, int height) {
        public boolean contains(int px, int py) {
            return px >= x && py >= y && px < x + width && py < y + height;
        }
    }

    public Bitmap {
        if (argb.length != width * height) {
            throw new IllegalArgumentException("pixel count " + argb.length + " != " + width + "x" + height);
        }
        hotspots = List.copyOf(hotspots);
    }

    public int pixel(int x, int y) {
        return argb[y * width + x];
    }

    /** The QMP {@code argb32} format: 4 bytes a pixel, A, R, G, B (the ints written big-endian). */
    public byte[] argb32() {
        byte[] out = new byte[argb.length * 4];
        for (int i = 0, o = 0; i < argb.length; i++) {
            int p = argb[i];
            out[o++] = (byte) (p >>> 24);
            out[o++] = (byte) (p >>> 16);
            out[o++] = (byte) (p >>> 8);
            out[o++] = (byte) p;
        }
        return out;
    }

    public BufferedImage toImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, width, height, argb, 0, width);
        return img;
    }

    public byte[] png() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(toImage(), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
