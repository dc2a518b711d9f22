package tmc.qmp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Jazzer fuzz tests of what the gateway reads from QEMU's monitor: the bounded line reader, and the whole QMP client
 * (greeting, negotiation, replies, events) against a hostile QMP server on a real unix socket. A hostile server may
 * cost its connection, never the gateway: only IOException and QmpException may come out, and a client that
 * connected must end when the server hangs up.
 */
class QmpFuzzTest {
    private static final int LIMIT = 256;

    @FuzzTest(maxDuration = "5m")
    void lineReader(byte[] bytes) {
        LineReader reader = new LineReader(new ByteArrayInputStream(bytes), LIMIT);
        try {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.indexOf('\n') >= 0 || line.length() > LIMIT) {
                    throw new IllegalStateException("a line of " + line.length() + " characters came out");
                }
            }
        } catch (IOException refused) {
            // an unterminated or too long line: the connection ends
        }
    }

    @FuzzTest(maxDuration = "5m")
    void hostileQmpServer(FuzzedDataProvider data) throws Exception {
        byte[] script = data.consumeRemainingAsBytes();
        Path dir = Files.createTempDirectory("qmp-fuzz");
        Path socket = dir.resolve("qmp.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(socket));
            Thread qemu = Thread.ofVirtual().start(() -> {
                try (SocketChannel peer = server.accept(); OutputStream out = Channels.newOutputStream(peer)) {
                    out.write(script);
                } catch (IOException ignored) {
                    // the client hung up first
                }
            });
            CountDownLatch closed = new CountDownLatch(1);
            QmpClient client = null;
            try {
                client = QmpClient.connect(new QmpAddress.Unix(socket), new QmpClient.Listener() {
                    @Override
                    public void onEvent(String event, JsonNode eventData, JsonNode timestamp) {
                        if (event == null) {
                            throw new IllegalStateException("an event without a name was delivered");
                        }
                    }

                    @Override
                    public void onClosed(Throwable cause) {
                        closed.countDown();
                    }
                }, Duration.ofSeconds(5));
            } catch (IOException | QmpException refused) {
                return;
            } finally {
                qemu.join();
            }
            if (!closed.await(5, TimeUnit.SECONDS)) {
                client.close();
                throw new IllegalStateException("the client did not notice the server hanging up");
            }
            client.close();
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }
}
