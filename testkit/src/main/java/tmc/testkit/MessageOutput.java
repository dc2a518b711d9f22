package tmc.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * What a {@link Transport} over messages writes to: buffers until flush, then hands the bytes over as one message
 * (a WebSocket binary message), as {@link Transport#out()} promises.
 */
public final class MessageOutput extends OutputStream {
    /** Sends one message. */
    public interface Sender {
        void send(byte[] message) throws IOException;
    }

    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Sender sender;

    public MessageOutput(Sender sender) {
        this.sender = sender;
    }

    @Override
    public synchronized void write(int b) {
        buffer.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        buffer.write(b, off, len);
    }

    @Override
    public synchronized void flush() throws IOException {
        if (buffer.size() > 0) {
            byte[] message = buffer.toByteArray();
            buffer.reset();
            sender.send(message);
        }
    }
}
