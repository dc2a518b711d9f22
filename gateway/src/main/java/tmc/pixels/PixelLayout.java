package tmc.pixels;

/**
 * The pixman formats QEMU's D-Bus display sends pixels in ({@code pixman_format_code_t}: bpp in bits 24-31, type in
 * 16-23, then 4 bits each for A, R, G, B). Pixels are host-endian words; tmc runs on little-endian x86-64/arm64.
 */
public enum PixelLayout {
    /** PIXMAN_x8r8g8b8: the std VGA at 32 bpp and text mode. */
    X8R8G8B8(0x20020888, 4),
    /** PIXMAN_a8r8g8b8: same bytes, alpha ignored (the guest's picture is opaque). */
    A8R8G8B8(0x20028888, 4),
    /** PIXMAN_r5g6b5: guests at 16 bpp. */
    R5G6B5(0x10020565, 2);

    private final int pixman;
    private final int bytesPerPixel;

    PixelLayout(int pixman, int bytesPerPixel) {
        this.pixman = pixman;
        this.bytesPerPixel = bytesPerPixel;
    }

    public int bytesPerPixel() {
        return bytesPerPixel;
    }

    public int pixmanCode() {
        return pixman;
    }

    public static PixelLayout ofPixman(int code) {
        for (PixelLayout l : values()) {
            if (l.pixman == code) return l;
        }
        throw new IllegalArgumentException("unsupported pixman format 0x" + Integer.toHexString(code));
    }

    /** The pixel at byte {@code offset} of {@code data} as 0x00RRGGBB. */
    int rgb(byte[] data, int offset) {
        if (bytesPerPixel == 4) {
            return (data[offset] & 0xff) | (data[offset + 1] & 0xff) << 8 | (data[offset + 2] & 0xff) << 16;
        }
        int v = (data[offset] & 0xff) | (data[offset + 1] & 0xff) << 8;
        int r = (v >> 11) & 0x1f;
        int g = (v >> 5) & 0x3f;
        int b = v & 0x1f;
        return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
    }
}
