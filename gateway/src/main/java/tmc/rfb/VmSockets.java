package tmc.rfb;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The gateway's sockets to the VMs' VNC servers once their handshake is done: Jetty's selector loop, shared by every
 * session, instead of a thread blocked in {@code read} per session. A VM's bytes are read on the selector thread and
 * handed straight to the browser's WebSocket, which writes them at once when its socket has room: no thread hand-off
 * on the way, and an idle session holds no buffer (one is taken from {@link #pool()} only while bytes flow).
 */
public final class VmSockets extends ContainerLifeCycle {
    private final ByteBufferPool pool;
    private final SelectorManager selectors;

    /**
     * @param executor  runs the selector loops (each keeps one thread); VM reads run on them and never block
     * @param scheduler Jetty's timer
     * @param pool      where read buffers come from; should pool buffers of a relay's {@code chunkBytes}
     * @param selectors selector loops (one per core or two is plenty: they only move bytes)
     */
    public VmSockets(Executor executor, Scheduler scheduler, ByteBufferPool pool, int selectors) {
        this.pool = pool;
        this.selectors = new SelectorManager(executor, scheduler, selectors) {
            @Override
            protected EndPoint newEndPoint(SelectableChannel channel, ManagedSelector selector, SelectionKey key) {
                SocketChannelEndPoint endPoint = new SocketChannelEndPoint((SocketChannel) channel, selector, key,
                        getScheduler());
                // A VM may stay silent for hours (an idle desktop); the browser side has the idle timeout.
                endPoint.setIdleTimeout(0);
                return endPoint;
            }

            @Override
            public Connection newConnection(SelectableChannel channel, EndPoint endPoint, Object attachment) {
                return ((RfbRelay) attachment).newVmConnection(endPoint, getExecutor());
            }
        };
        addBean(this.selectors);
    }

    ByteBufferPool pool() {
        return pool;
    }

    /** Hands a connected channel (handshake done) to a selector; the relay's connection opens on its thread. */
    void register(SocketChannel channel, RfbRelay relay) throws IOException {
        channel.configureBlocking(false);
        selectors.accept(channel, relay);
    }
}
