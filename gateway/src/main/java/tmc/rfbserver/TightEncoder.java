package tmc.rfbserver;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Tight encoding (rfbproto.rst "Tight Encoding") of one rectangle at a time, for one connection: its zlib stream
 * lives as long as the connection, as the client's inflater does.
 *
 * <pre>
 *   compression control byte
 *     1000 0000  fill: one TPIXEL follows                       (one-colour rects: a few bytes whatever the size)
 *     1001 0000  JPEG: compact length, then a JPEG image         (big many-coloured rects, when the client allows)
 *     00ss 0000  basic, stream ss, copy filter: TPIXELs, zlib'd  (everything else; lossless)
 *                (under 12 bytes of pixels the data goes uncompressed, without a length)
 *   compact length: 1-3 bytes, 7 bits each, low first, high bit = "another byte follows"
 * </pre>
 *
 * Not thread safe: one writer per connection.
 */
final class TightEncoder {
    static final int FILL = 0x80;
    static final int JPEG = 0x90;
    static final int BASIC_STREAM_0 = 0x00;
    /** Below this many bytes of pixel data Tight sends them as they are. */
    static final int MIN_TO_COMPRESS = 12;
    /** Rects are split to at most this width (TigerVNC refuses wider) and this many pixels. */
    static final int MAX_WIDTH = 2048;
    static final int MAX_PIXELS = 65536;
    /** JPEG only pays for large areas with many colours (photos, video, gradients); text stays lossless. */
    static final int JPEG_MIN_PIXELS = 64 * 64;
    static final int JPEG_MIN_COLOURS = 64;
    /** JPEG quality per RFB quality level 0..9, as TigerVNC maps them. */
    private static final int[] JPEG_QUALITY = {15, 29, 41, 42, 62, 77, 79, 86, 92, 100};

    private final Deflater zlib;
    private int level = -1;

    TightEncoder() {
        this.zlib = new Deflater(6);
    }

    /** Appends the Tight data of one rect (at most {@link #MAX_WIDTH} wide and {@link #MAX_PIXELS} big). */
    void encode(int[] rgb, int width, int height, PixelFormat format, int jpegQuality, int compressLevel,
            boolean allowLossy, ByteArrayOutputStream out) {
        if (width > MAX_WIDTH || (long) width * height > MAX_PIXELS) {
            throw new IllegalArgumentException("Tight rect " + width + "x" + height + " too big; split it first");
        }
        int n = width * height;
        int first = rgb[0];
        boolean solid = true;
        for (int i = 1; i < n && solid; i++) solid = rgb[i] == first;
        if (solid) {
            out.write(FILL);
            ByteBuffer px = ByteBuffer.allocate(4);
            format.putTight(first, px);
            out.write(px.array(), 0, px.position());
            return;
        }
        if (allowLossy && jpegQuality >= 0 && format.tightCompact() && n >= JPEG_MIN_PIXELS
                && colours(rgb, n, JPEG_MIN_COLOURS) >= JPEG_MIN_COLOURS) {
            byte[] jpeg = jpeg(rgb, width, height, JPEG_QUALITY[jpegQuality]);
            out.write(JPEG);
            writeCompactLength(jpeg.length, out);
            out.write(jpeg, 0, jpeg.length);
            return;
        }
        ByteBuffer px = ByteBuffer.allocate(n * format.tightPixelSize());
        for (int i = 0; i < n; i++) format.putTight(rgb[i], px);
        out.write(BASIC_STREAM_0);
        if (px.position() < MIN_TO_COMPRESS) {
            out.write(px.array(), 0, px.position());
            return;
        }
        byte[] compressed = deflate(px.array(), px.position(), compressLevel);
        writeCompactLength(compressed.length, out);
        out.write(compressed, 0, compressed.length);
    }

    void end() {
        zlib.end();
    }

    /** Counts distinct colours, stopping at {@code enough}. */
    static int colours(int[] rgb, int n, int enough) {
        java.util.HashSet<Integer> seen = new java.util.HashSet<>();
        // A sample is enough to tell text from pictures: every 7th pixel.
        for (int i = 0; i < n && seen.size() < enough; i += 7) seen.add(rgb[i]);
        return seen.size();
    }

    private byte[] deflate(byte[] data, int length, int compressLevel) {
        if (compressLevel != level) {
            zlib.setLevel(compressLevel);
            level = compressLevel;
        }
        zlib.setInput(data, 0, length);
        ByteArrayOutputStream out = new ByteArrayOutputStream(length / 2 + 64);
        byte[] buf = new byte[Math.max(1024, length / 4)];
        // SYNC_FLUSH: everything so far reaches the client now, and the stream goes on for the next rect.
        while (true) {
            int k = zlib.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
            out.write(buf, 0, k);
            if (k < buf.length && zlib.needsInput()) break;
        }
        return out.toByteArray();
    }

    private static byte[] jpeg(int[] rgb, int width, int height, int quality) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, width, height, rgb, 0, width);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(stream);
                ImageWriteParam param = writer.getDefaultWriteParam();
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(quality / 100f);
                writer.write(null, new IIOImage(image, null, null), param);
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG encoding failed", e);
        } finally {
            writer.dispose();
        }
    }

    static void writeCompactLength(int length, ByteArrayOutputStream out) {
        if (length < 0 || length > 0x3fffff) throw new IllegalArgumentException("Tight length " + length);
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x4000) {
            out.write(0x80 | (length & 0x7f));
            out.write(length >> 7);
        } else {
            out.write(0x80 | (length & 0x7f));
            out.write(0x80 | ((length >> 7) & 0x7f));
            out.write(length >> 14);
        }
    }
}
