package tmc.qmp;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.ProtocolFamily;
import java.nio.file.Path;

/**
 * Where a VM's QMP monitor listens: {@code unix:/path/to/qmp.sock} (or a bare absolute path) or
 * {@code tcp:host:port}.
 */
public sealed interface QmpAddress {
    SocketAddress socketAddress();

    ProtocolFamily family();

    record Unix(Path path) implements QmpAddress {
        @Override
        public SocketAddress socketAddress() {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public ProtocolFamily family() {
            return StandardProtocolFamily.UNIX;
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    record Tcp(String host, int port) implements QmpAddress {
        @Override
        public SocketAddress socketAddress() {
            return new InetSocketAddress(host, port);
        }

        @Override
        public ProtocolFamily family() {
            return host.contains(":") ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        }

        @Override
        public String toString() {
            return "tcp:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    static QmpAddress parse(String s) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("empty QMP address");
        }
        if (s.startsWith("unix:")) {
            return new Unix(Path.of(s.substring(5)));
        }
        if (s.startsWith("/")) {
            return new Unix(Path.of(s));
        }
        if (s.startsWith("tcp:")) {
            String hp = s.substring(4);
            int colon = hp.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("QMP address " + s + " has no port (tcp:host:port)");
            }
            String host = hp.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(hp.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("QMP address " + s + " has a bad port");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("QMP address " + s + " has a bad port");
            }
            return new Tcp(host, port);
        }
        throw new IllegalArgumentException("QMP address " + s + " is neither unix:PATH nor tcp:HOST:PORT");
    }
}
