package tmc.testkit;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * Tight (RFC 6143 section 7.7.6 as TightVNC defines it) and QEMU's TightPNG variant. The compression-control byte
 * picks fill, JPEG, PNG or basic compression (copy, palette or gradient filter over one of four zlib streams). With
 * the client's 32 bpp depth 24 format a TPIXEL is three bytes: red, green, blue. The decoded kind names the
 * method, so tests can tell a JPEG rectangle from a lossless one.
 */
final class TightDecoder implements RectDecoder {
    private static final int FILL = 0x8;
    private static final int JPEG = 0x9;
    private static final int PNG = 0xA;
    private static final int FILTER_COPY = 0;
    private static final int FILTER_PALETTE = 1;
    private static final int FILTER_GRADIENT = 2;
    /** Basic compression sends data shorter than this uncompressed. */
    private static final int MIN_TO_COMPRESS = 12;

    private final ZlibStream[] streams = {new ZlibStream(), new ZlibStream(), new ZlibStream(), new ZlibStream()};
    private final boolean png;

    TightDecoder(boolean png) {
        this.png = png;
    }

    @Override
    public Decoded decode(DataInputStream in, int width, int height) throws IOException {
        int control = in.readUnsignedByte();
        for (int i = 0; i < 4; i++) {
            if ((control >> i & 1) != 0) streams[i].reset();
        }
        int method = control >> 4;
        int[] out = new int[width * height];
        if (method == FILL) {
            Arrays.fill(out, tpixel(in));
            return new Decoded(out, "fill");
        }
        if (method == JPEG || method == PNG && png) {
            byte[] data = RectDecoder.readFully(in, compactLength(in), "tight image");
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(data));
            String kind = method == JPEG ? "jpeg" : "png";
            if (image == null) throw new IOException("tight " + kind + " data is no image");
            if (image.getWidth() != width || image.getHeight() != height) {
                throw new IOException("tight " + kind + " is " + image.getWidth() + "x" + image.getHeight()
                        + " for a " + width + "x" + height + " rectangle");
            }
            image.getRGB(0, 0, width, height, out, 0, width);
            for (int i = 0; i < out.length; i++) out[i] &= 0xffffff;
            return new Decoded(out, kind);
        }
        if ((method & 0x8) != 0) throw new IOException("bad tight compression control 0x" + Integer.toHexString(control));
        ZlibStream stream = streams[method & 3];
        int filter = (method & 0x4) != 0 ? in.readUnsignedByte() : FILTER_COPY;
        switch (filter) {
            case FILTER_COPY -> {
                byte[] d = data(in, stream, width * height * 3);
                for (int i = 0; i < out.length; i++) out[i] = rgb(d, i * 3);
                return new Decoded(out, "copy");
            }
            case FILTER_PALETTE -> {
                int n = in.readUnsignedByte() + 1;
                int[] palette = new int[n];
                for (int i = 0; i < n; i++) palette[i] = tpixel(in);
                if (n == 2) {
                    int rowBytes = (width + 7) / 8;
                    byte[] d = data(in, stream, rowBytes * height);
                    for (int y = 0; y < height; y++) {
                        for (int x = 0; x < width; x++) {
                            out[y * width + x] = palette[(d[y * rowBytes + x / 8] >> (7 - x % 8)) & 1];
                        }
                    }
                } else {
                    byte[] d = data(in, stream, width * height);
                    for (int i = 0; i < out.length; i++) {
                        int index = d[i] & 0xff;
                        if (index >= n) throw new IOException("tight palette index " + index + " of " + n);
                        out[i] = palette[index];
                    }
                }
                return new Decoded(out, "palette");
            }
            case FILTER_GRADIENT -> {
                byte[] d = data(in, stream, width * height * 3);
                gradient(d, out, width, height);
                return new Decoded(out, "gradient");
            }
            default -> throw new IOException("bad tight filter " + filter);
        }
    }

    /** Undoes the gradient filter: each component is its residual plus clamp(left + above - above-left). */
    private static void gradient(byte[] d, int[] out, int width, int height) {
        int[] prev = new int[width * 3];
        int[] cur = new int[width * 3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    int left = x > 0 ? cur[(x - 1) * 3 + c] : 0;
                    int up = prev[x * 3 + c];
                    int upLeft = x > 0 ? prev[(x - 1) * 3 + c] : 0;
                    int predicted = Math.max(0, Math.min(255, left + up - upLeft));
                    cur[x * 3 + c] = (predicted + d[(y * width + x) * 3 + c]) & 0xff;
                }
                out[y * width + x] = cur[x * 3] << 16 | cur[x * 3 + 1] << 8 | cur[x * 3 + 2];
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
    }

    /** Basic compression's data: raw when shorter than 12 bytes, else a compact length and a zlib chunk. */
    private static byte[] data(DataInputStream in, ZlibStream stream, int length) throws IOException {
        if (length < MIN_TO_COMPRESS) return RectDecoder.readFully(in, length, "tight");
        return stream.inflate(RectDecoder.readFully(in, compactLength(in), "tight zlib"), length);
    }

    /** 1 to 3 bytes, 7 bits each, least significant first; the high bit says another byte follows. */
    static int compactLength(DataInputStream in) throws IOException {
        int b = in.readUnsignedByte();
        int length = b & 0x7f;
        if ((b & 0x80) != 0) {
            b = in.readUnsignedByte();
            length |= (b & 0x7f) << 7;
            if ((b & 0x80) != 0) length |= in.readUnsignedByte() << 14;
        }
        return length;
    }

    private static int tpixel(DataInputStream in) throws IOException {
        int r = in.readUnsignedByte();
        int g = in.readUnsignedByte();
        return r << 16 | g << 8 | in.readUnsignedByte();
    }

    private static int rgb(byte[] d, int i) {
        return (d[i] & 0xff) << 16 | (d[i + 1] & 0xff) << 8 | (d[i + 2] & 0xff);
    }
}
