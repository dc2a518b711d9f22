package tmc.display;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.freedesktop.dbus.spi.message.IMessageReader;
import org.freedesktop.dbus.transport.junixsocket.JUnixSocketSocketProvider;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * dbus-java's socket provider (its {@code ISocketProvider} SPI, registered in META-INF/services) for the gateway:
 * junixsocket's, plus the display listener's fast path. A connection to a socket a {@link DbusDisplay} registered
 * with {@link #expect} gets a {@link ListenerReader}; every other connection is junixsocket's unchanged.
 *
 * <p>dbus-java asks the providers in class path order and takes the first that serves the socket, so the gateway's
 * jar must come before dbus-java-transport-junixsocket (it does with {@code java -jar tmc-gateway.jar}, whose
 * manifest lists the libraries after it). {@link DbusDisplay} notices when it did not and says so.
 */
public final class ListenerSocketProvider extends JUnixSocketSocketProvider {
    /** Listener sockets about to be connected, by their address. */
    private static final Map<SocketAddress, ListenerSink> EXPECTED = new ConcurrentHashMap<>();

    /** The next connection to {@code address} is a display listener whose calls go to {@code sink}. */
    static void expect(SocketAddress address, ListenerSink sink) {
        EXPECTED.put(address, sink);
    }

    /** Forgets {@code address}; true when a connection to it took the fast path. */
    static boolean forget(SocketAddress address) {
        return EXPECTED.remove(address) == null;
    }

    @Override
    public IMessageReader createReader(SocketChannel socket) {
        IMessageReader reader = super.createReader(socket);
        if (reader == null || !(socket instanceof AFUNIXSocketChannel unix)) return reader;
        ListenerSink sink;
        try {
            sink = EXPECTED.remove(unix.getRemoteAddress());
        } catch (IOException e) {
            return reader;
        }
        return sink == null ? reader : new ListenerReader(reader, unix, sink);
    }
}
