package tmc.qemupatch;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import tmc.testkit.Transport;

/** RFB over a unix socket (a VNC display started with {@code -vnc unix:PATH}). */
final class UnixTransport implements Transport {
    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;

    private UnixTransport(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedInputStream(Channels.newInputStream(channel), 1 << 16);
        this.out = Channels.newOutputStream(channel);
    }

    static UnixTransport connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return new UnixTransport(channel);
    }

    @Override
    public InputStream in() {
        return in;
    }

    @Override
    public OutputStream out() {
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
