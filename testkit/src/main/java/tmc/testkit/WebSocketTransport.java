package tmc.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * RFB over a WebSocket (what noVNC does): binary messages in, binary messages out. The listener asks for one message
 * at a time and only after the reader consumed the previous one, so a test that stops reading exerts real
 * backpressure on the server.
 */
public final class WebSocketTransport implements Transport {
    /** How the server closed the WebSocket: a status code and its reason. */
    public record Close(int code, String reason) {}

    private final WebSocket webSocket;
    private final Listener listener;
    private final InputStream in;
    private final OutputStream out;

    private WebSocketTransport(WebSocket webSocket, Listener listener) {
        this.webSocket = webSocket;
        this.listener = listener;
        this.in = new MessageInputStream(listener, webSocket);
        this.out = new MessageOutput(message -> {
            try {
                webSocket.sendBinary(ByteBuffer.wrap(message), true).get(20, TimeUnit.SECONDS);
            } catch (InterruptedException | ExecutionException | TimeoutException e) {
                throw new IOException("WebSocket send failed", e);
            }
        });
    }

    /**
     * Opens a WebSocket; {@code subprotocols} may be empty (noVNC's default). Throws {@link IOException} when the
     * upgrade itself is refused (the HTTP status is in the message).
     */
    public static WebSocketTransport connect(URI uri, Map<String, String> headers, List<String> subprotocols)
            throws IOException {
        return connect(uri, headers, subprotocols, null);
    }

    /** As above, from {@code localAddress} (e.g. 127.0.0.2: a client a server can tell from a proxy on 127.0.0.1). */
    public static WebSocketTransport connect(URI uri, Map<String, String> headers, List<String> subprotocols,
            java.net.InetAddress localAddress) throws IOException {
        Listener listener = new Listener();
        HttpClient.Builder client = HttpClient.newBuilder();
        if (localAddress != null) {
            client.localAddress(localAddress);
        }
        WebSocket.Builder builder = client.build().newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(10));
        headers.forEach(builder::header);
        if (!subprotocols.isEmpty()) {
            builder.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
        }
        try {
            WebSocket ws = builder.buildAsync(uri, listener).get(20, TimeUnit.SECONDS);
            return new WebSocketTransport(ws, listener);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException h) {
                throw new IOException("WebSocket upgrade refused: HTTP " + h.getResponse().statusCode(), h);
            }
            throw new IOException("WebSocket connect failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IOException("WebSocket connect timed out", e);
        }
    }

    public String subprotocol() {
        return webSocket.getSubprotocol();
    }

    /** Waits for the server's close frame (AssertionError on timeout). */
    public Close awaitClose(Duration timeout) {
        try {
            return listener.closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("WebSocket not closed by the server within " + timeout, e);
        }
    }

    /** The close, if the server has closed already. */
    public Close closeNow() {
        return listener.closed.getNow(null);
    }

    @Override
    public InputStream in() {
        return in;
    }

    @Override
    public OutputStream out() {
        return out;
    }

    @Override
    public void close() {
        if (!webSocket.isOutputClosed()) webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        webSocket.abort();
    }

    private static final class Listener implements WebSocket.Listener {
        /** Guarded by this: complete binary messages not yet read. */
        private final ArrayDeque<ByteBuffer> messages = new ArrayDeque<>();
        private ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private final CompletableFuture<Close> closed = new CompletableFuture<>();

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            partial.writeBytes(bytes);
            if (last) {
                synchronized (this) {
                    messages.add(ByteBuffer.wrap(partial.toByteArray()));
                    notifyAll();
                }
                partial = new ByteArrayOutputStream();
            } else {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(new Close(statusCode, reason));
            synchronized (this) {
                notifyAll();
            }
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(new Close(1006, String.valueOf(error)));
            synchronized (this) {
                notifyAll();
            }
        }
    }

    private static final class MessageInputStream extends InputStream {
        private final Listener listener;
        private final WebSocket webSocket;
        private ByteBuffer current = ByteBuffer.allocate(0);

        MessageInputStream(Listener listener, WebSocket webSocket) {
            this.listener = listener;
            this.webSocket = webSocket;
        }

        private boolean fill() throws IOException {
            if (current.hasRemaining()) return true;
            synchronized (listener) {
                while (listener.messages.isEmpty()) {
                    if (listener.closed.isDone()) return false;
                    try {
                        listener.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                }
                current = listener.messages.poll();
            }
            webSocket.request(1);
            return true;
        }

        @Override
        public int read() throws IOException {
            return fill() ? current.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (!fill()) return -1;
            int n = Math.min(len, current.remaining());
            current.get(b, off, n);
            return n;
        }
    }
}
