package tmc.pixels;

/** The guest's pointer shape: {@code argb} holds width*height pixels as 0xAARRGGBB (straight alpha), row by row. */
public record Cursor(int width, int height, int hotX, int hotY, int[] argb) {
    /** Cursors beyond this are not real pointer shapes (QEMU's own limit for hardware cursors is 256x256). */
    public static final int MAX_SIZE = 256;

    public Cursor {
        if (width <= 0 || height <= 0 || width > MAX_SIZE || height > MAX_SIZE) {
            throw new IllegalArgumentException("cursor " + width + "x" + height + " outside 1.." + MAX_SIZE);
        }
        if (argb.length != width * height) throw new IllegalArgumentException("cursor pixels do not match its size");
        if (hotX < 0 || hotY < 0 || hotX >= width || hotY >= height) {
            hotX = Math.clamp(hotX, 0, width - 1);
            hotY = Math.clamp(hotY, 0, height - 1);
        }
    }

    /** From QEMU's CursorDefine bytes: host-endian (little-endian) 0xAARRGGBB words. */
    public static Cursor fromQemu(int width, int height, int hotX, int hotY, byte[] data) {
        if ((long) width * height * 4 != data.length) {
            throw new IllegalArgumentException(data.length + " cursor bytes for " + width + "x" + height);
        }
        int[] argb = new int[width * height];
        for (int i = 0, o = 0; i < argb.length; i++, o += 4) {
            argb[i] = (data[o] & 0xff) | (data[o + 1] & 0xff) << 8 | (data[o + 2] & 0xff) << 16 | (data[o + 3] & 0xff) << 24;
        }
        return new Cursor(width, height, hotX, hotY, argb);
    }
}
