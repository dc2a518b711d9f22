package tmc.testkit;

import java.io.DataInputStream;
import java.io.IOException;

/** Zlib (encoding 6): raw pixels through the connection's one zlib stream, preceded by the chunk's length. */
final class ZlibDecoder implements RectDecoder {
    private final ZlibStream zlib = new ZlibStream();

    @Override
    public Decoded decode(DataInputStream in, int width, int height) throws IOException {
        byte[] data = zlib.inflate(RectDecoder.readFully(in, in.readInt(), "zlib"), width * height * 4);
        int[] out = new int[width * height];
        for (int i = 0; i < out.length; i++) out[i] = RectDecoder.pixel32(data, i * 4);
        return new Decoded(out, "zlib");
    }
}
