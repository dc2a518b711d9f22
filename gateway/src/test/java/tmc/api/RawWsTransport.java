package tmc.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import tmc.testkit.RawWebSocket;
import tmc.testkit.Transport;

/**
 * RFB over testkit's {@link RawWebSocket} to the gateway's /vnc endpoint with a bearer token. (It stood in for the
 * JDK's WebSocket client, whose handshake stalled in a JVM whose common ForkJoinPool a junixsocket poll held: fixed
 * in DbusVm, see docs/dbus-display.md; DbusGatewayTest uses the JDK's client again.)
 */
final class RawWsTransport implements Transport {
    private final Transport transport;

    private RawWsTransport(Transport transport) {
        this.transport = transport;
    }

    static RawWsTransport connect(int port, String path, String origin, String bearer) throws IOException {
        return new RawWsTransport(RawWebSocket.connect("127.0.0.1", port, path,
                Map.of("Origin", origin, "Authorization", "Bearer " + bearer), Duration.ofSeconds(60)).transport());
    }

    @Override
    public InputStream in() {
        return transport.in();
    }

    @Override
    public OutputStream out() {
        return transport.out();
    }

    @Override
    public void close() throws IOException {
        transport.close();
    }
}
