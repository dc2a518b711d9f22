package tmc.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** A byte stream to an RFB server: a TCP socket, or a WebSocket carrying RFB in binary messages. */
public interface Transport extends AutoCloseable {
    InputStream in();

    /** Each flush ends one outgoing message (matters for WebSocket framing only). */
    OutputStream out();

    @Override
    void close() throws IOException;
}
