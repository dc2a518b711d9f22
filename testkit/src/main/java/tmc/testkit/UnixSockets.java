package tmc.testkit;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/** Connecting to a unix socket a process is about to open (QEMU's serial port, its QMP monitor). */
final class UnixSockets {
    private UnixSockets() {
    }

    /**
     * Connects once {@code socket} accepts, polling every 20 ms for up to 30 s.
     *
     * @param dead says why the process that should open the socket is gone, or null while it runs
     */
    static SocketChannel connect(Path socket, Supplier<String> dead) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            String why = dead.get();
            if (why != null) {
                throw new IOException(why);
            }
            if (Files.exists(socket)) {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    channel.connect(UnixDomainSocketAddress.of(socket));
                    return channel;
                } catch (IOException e) {
                    channel.close();
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("QEMU never opened " + socket);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
    }
}
