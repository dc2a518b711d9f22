package tmc.rfb;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Where a VM's VNC or QMP server listens: {@code tcp:host:port} or {@code unix:/path}. */
public record ServerAddress(String host, int port, Path path) {

    public static ServerAddress tcp(String host, int port) {
        return new ServerAddress(host, port, null);
    }

    public static ServerAddress unix(Path path) {
        return new ServerAddress(null, 0, path);
    }

    /** Parses the textual form; the message of the exception says what is wrong. */
    public static ServerAddress parse(String text) {
        return parse(text, 1);
    }

    /** Parses an address to listen on: as {@link #parse}, and port 0 means any free port. */
    public static ServerAddress parseListen(String text) {
        return parse(text, 0);
    }

    private static ServerAddress parse(String text, int minPort) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("expected tcp:HOST:PORT or unix:/PATH, got nothing");
        }
        if (text.startsWith("unix:")) {
            String path = text.substring(5);
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("expected an absolute path after unix:, got '" + text + "'");
            }
            return unix(Path.of(path));
        }
        if (text.startsWith("tcp:")) {
            String rest = text.substring(4);
            int colon = rest.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("expected tcp:HOST:PORT, got '" + text + "'");
            }
            String host = rest.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(rest.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < minPort || port > 65535) {
                throw new IllegalArgumentException("expected a port " + minPort + "-65535 in '" + text + "'");
            }
            return tcp(host, port);
        }
        throw new IllegalArgumentException("expected tcp:HOST:PORT or unix:/PATH, got '" + text + "'");
    }

    public boolean isUnix() {
        return path != null;
    }

    /**
     * Opens a blocking channel and connects it. The channel is handed to {@code opened} before connecting so that a
     * watchdog can close it to abandon a connect that hangs.
     */
    public SocketChannel connect(Consumer<SocketChannel> opened) throws IOException {
        SocketAddress target = isUnix() ? UnixDomainSocketAddress.of(path) : new InetSocketAddress(host, port);
        if (target instanceof InetSocketAddress inet && inet.isUnresolved()) {
            throw new IOException("cannot resolve " + host);
        }
        SocketChannel channel = isUnix() ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        opened.accept(channel);
        try {
            channel.connect(target);
            if (!isUnix()) {
                channel.socket().setTcpNoDelay(true);
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    @Override
    public String toString() {
        return isUnix() ? "unix:" + path : "tcp:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
