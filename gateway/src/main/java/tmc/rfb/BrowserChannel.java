package tmc.rfb;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/** The browser's side of a session as the relay sees it: a WebSocket, or a fake in tests. */
public interface BrowserChannel {
    /**
     * Sends one binary message. {@code done} runs once the message left (with null) or failed (with the cause);
     * the relay keeps at most a bounded number of bytes in flight, so this is its backpressure.
     */
    void send(ByteBuffer data, Consumer<Throwable> done);

    /** Closes the WebSocket with this status; later calls do nothing. */
    void close(CloseStatus status);
}
