package tmc.gateway;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.rfb.RfbProtocol;
import tmc.rfb.ServerAddress;
import tmc.rfb.VencryptHandshake;

/**
 * Stands between the relay and a VM whose VNC server speaks VeNCrypt x509 TLS. The relay connects to this bridge's
 * private unix socket as to any VNC server (security type None); for each connection the bridge opens the VM's TLS
 * session first ({@link VencryptHandshake}: the VM's pinned CA and name, the VNC password inside TLS), then offers
 * the relay None and copies bytes both ways. So the relay, its selector and its buffers stay as they are, and the VM
 * connection is encrypted end to end across the network.
 *
 * <p>The socket lives in a directory only the gateway's user can enter (mode 700). A failed TLS session closes the
 * relay's connection: the browser gets 4502, the gateway log the reason.
 */
final class VncTlsBridge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("tmc.gateway.tls");

    private final VmConfig vm;
    private final SSLContext tls;
    private final String serverName;
    private final Duration timeout;
    private final Path dir;
    private final Path socket;
    private final ServerSocketChannel server;
    private volatile boolean closed;

    VncTlsBridge(VmConfig vm, Duration timeout) throws IOException {
        this.vm = vm;
        this.tls = vm.vncTls().context();
        this.serverName = vm.vncTls().serverName() != null ? vm.vncTls().serverName() : vm.vnc().host();
        this.timeout = timeout;
        this.dir = Files.createTempDirectory("tmc-vnc-tls-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        this.socket = dir.resolve("vnc.sock");
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("vnc-tls " + vm.id()).start(this::accept);
    }

    /** The VM as the relay sees it: this bridge's socket, no password (the bridge authenticated). */
    VmConfig relayed() {
        return new VmConfig(vm.id(), vm.tenant(), vm.name(), ServerAddress.unix(socket), null, vm.qmp());
    }

    private void accept() {
        while (!closed) {
            SocketChannel relay;
            try {
                relay = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread.ofVirtual().name("vnc-tls " + vm.id()).start(() -> serve(relay));
        }
    }

    private void serve(SocketChannel relay) {
        SSLSocket vmSocket;
        try {
            vmSocket = VencryptHandshake.open(vm.vnc(), tls, serverName, vm.vncPassword(), timeout);
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=vnc-tls-failed vm={} error=\"{}\"", vm.id(), e.getMessage());
            closeQuietly(relay);
            return;
        }
        try (relay; vmSocket) {
            InputStream fromRelay = Channels.newInputStream(relay);
            OutputStream toRelay = Channels.newOutputStream(relay);
            // The relay's handshake with us: RFB 3.8, security None.
            toRelay.write(RfbProtocol.VERSION_3_8);
            toRelay.flush();
            new DataInputStream(fromRelay).readFully(new byte[RfbProtocol.VERSION_LENGTH]);
            toRelay.write(new byte[] {1, (byte) RfbProtocol.SECURITY_NONE});
            toRelay.flush();
            if (fromRelay.read() != RfbProtocol.SECURITY_NONE) {
                return;
            }
            toRelay.write(new byte[] {0, 0, 0, 0}); // SecurityResult OK; ClientInit and the rest go through
            toRelay.flush();
            Runnable closeBoth = () -> {
                closeQuietly(relay);
                closeQuietly(vmSocket);
            };
            OutputStream toVm = vmSocket.getOutputStream();
            Thread up = Thread.ofVirtual().start(() -> copy(fromRelay, toVm, closeBoth));
            copy(vmSocket.getInputStream(), toRelay, closeBoth);
            up.join();
        } catch (IOException | InterruptedException e) {
            // one side went away: both are closed
        }
    }

    /** Copies until either side ends, then closes both (so that the other copy ends too). */
    private static void copy(InputStream from, OutputStream to, Runnable closeBoth) {
        byte[] buffer = new byte[64 * 1024];
        try {
            for (int n = from.read(buffer); n >= 0; n = from.read(buffer)) {
                to.write(buffer, 0, n);
                to.flush();
            }
        } catch (IOException e) {
            // closed
        } finally {
            closeBoth.run();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        try {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temp directory left behind
        }
    }
}
