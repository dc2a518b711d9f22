package tmc.rfb;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The server's side of an RFB 3.8 handshake with security None, as the fake VNC servers of the relay tests speak it
 * (RfbRelayTest, tmc.gateway.RelaySocketTest): version, security None, SecurityResult OK, ClientInit read, then a
 * 640x480 ServerInit with the given desktop name.
 */
public final class FakeServerHandshake {
    /** The connection's streams, positioned after ServerInit. */
    public record Streams(DataInputStream in, OutputStream out) {}

    private FakeServerHandshake() {
    }

    public static Streams greet(SocketChannel c, String name) throws IOException {
        DataInputStream in = new DataInputStream(Channels.newInputStream(c));
        OutputStream out = Channels.newOutputStream(c);
        out.write(RfbProtocol.VERSION_3_8);
        in.readFully(new byte[12]);
        out.write(new byte[] {1, 1});
        in.readUnsignedByte();
        out.write(new byte[] {0, 0, 0, 0});
        in.readUnsignedByte(); // ClientInit
        out.write(new ServerInit(640, 480, new byte[16], name.getBytes(StandardCharsets.UTF_8)).encode());
        return new Streams(in, out);
    }
}
