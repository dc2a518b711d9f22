package tmc.rfbserver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A plain RFB listener on TCP for native viewers (TigerVNC and the like): one virtual thread per viewer. With a
 * password, viewers must pass VNC Authentication; without one, bind it to loopback only.
 */
public final class RfbTcpListener implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RfbTcpListener.class.getName());

    private final ServerSocketChannel server;

    private RfbTcpListener(ServerSocketChannel server) {
        this.server = server;
    }

    public static RfbTcpListener start(RfbDesktop desktop, InetSocketAddress address, String password)
            throws IOException {
        return start(() -> desktop, address, password);
    }

    /**
     * A listener that outlives the pictures it serves: each viewer gets the desktop {@code desktops} gives when it
     * connects (a VM's screen after QEMU restarted), and is disconnected at once while it gives null.
     */
    public static RfbTcpListener start(Supplier<RfbDesktop> desktops, InetSocketAddress address, String password)
            throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open().bind(address);
        RfbTcpListener listener = new RfbTcpListener(server);
        Thread.ofVirtual().name("rfb-listener " + address).start(() -> listener.acceptLoop(desktops, password));
        return listener;
    }

    public int port() {
        try {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException("listener closed", e);
        }
    }

    private void acceptLoop(Supplier<RfbDesktop> desktops, String password) {
        while (server.isOpen()) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().name("rfb-client").start(() -> {
                try (channel) {
                    RfbDesktop desktop = desktops.get();
                    if (desktop == null) return; // the VM's display is away: closing says so
                    channel.socket().setTcpNoDelay(true);
                    desktop.serve(channel, password, false, String.valueOf(channel.getRemoteAddress()));
                } catch (IOException e) {
                    LOG.log(Level.FINE, "RFB viewer disconnected", e);
                }
            });
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
