package tmc.rfb;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static tmc.rfb.RfbProtocol.*;

/** RFC 6143 7.3.2 ServerInit: the framebuffer's size, its pixel format and the desktop's name. */
public record ServerInit(int width, int height, byte[] pixelFormat, byte[] name) {
    /** Desktop names longer than this are refused; QEMU's are at most 1 KiB. */
    public static final int MAX_NAME_LENGTH = 4096;

    public ServerInit {
        if (pixelFormat.length != PIXEL_FORMAT_LENGTH) {
            throw new IllegalArgumentException("pixel format must be 16 bytes");
        }
        pixelFormat = pixelFormat.clone();
        name = name.clone();
    }

    public static ServerInit read(DataInputStream in) throws IOException {
        int width = in.readUnsignedShort();
        int height = in.readUnsignedShort();
        byte[] format = new byte[PIXEL_FORMAT_LENGTH];
        in.readFully(format);
        int nameLength = in.readInt();
        if (nameLength < 0 || nameLength > MAX_NAME_LENGTH) {
            throw new RfbProtocolException("ServerInit name of " + Integer.toUnsignedString(nameLength)
                    + " bytes exceeds the limit of " + MAX_NAME_LENGTH);
        }
        byte[] name = new byte[nameLength];
        in.readFully(name);
        return new ServerInit(width, height, format, name);
    }

    public byte[] encode() {
        byte[] out = new byte[SERVER_INIT_FIXED_LENGTH + name.length];
        out[0] = (byte) (width >>> 8);
        out[1] = (byte) width;
        out[2] = (byte) (height >>> 8);
        out[3] = (byte) height;
        System.arraycopy(pixelFormat, 0, out, 4, PIXEL_FORMAT_LENGTH);
        putS32(out, 20, name.length);
        System.arraycopy(name, 0, out, SERVER_INIT_FIXED_LENGTH, name.length);
        return out;
    }

    public String nameString() {
        return new String(name, StandardCharsets.UTF_8);
    }

    @Override
    public byte[] pixelFormat() {
        return pixelFormat.clone();
    }

    @Override
    public byte[] name() {
        return name.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerInit other && width == other.width && height == other.height
                && Arrays.equals(pixelFormat, other.pixelFormat) && Arrays.equals(name, other.name);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return "ServerInit{" + width + "x" + height + ", name=" + nameString() + "}";
    }
}
