package tmc.testkit;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Connecting to a unix socket a process is about to open (QEMU's serial port, its QMP monitor, libvirtd's socket).
 * The wait is woken by the file system ({@link FileWatch}) or by the process's exit, never by a timer.
 */
final class UnixSockets {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private UnixSockets() {
    }

    /**
     * Connects once {@code socket} accepts, waiting up to 30 s for it to appear.
     *
     * @param owner the process that opens the socket, or null when another process reports its failure
     * @param dead says why {@code owner} is gone (called once it has exited)
     */
    static SocketChannel connect(Path socket, ProcessHandle owner, Supplier<String> dead) throws IOException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        FileWatch.awaitFile(socket, owner, dead, TIMEOUT);
        while (true) {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
                return channel;
            } catch (IOException refused) {
                // bind() made the file; listen() follows at once in the same thread of the owner.
                channel.close();
            }
            if (owner != null && !owner.isAlive()) {
                throw new IOException(dead.get());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("nothing accepts on " + socket);
            }
            Thread.yield();
        }
    }
}
