package tmc.rfb;

import java.time.Duration;

/**
 * Limits of one relayed session.
 *
 * @param handshakeTimeout time for the VM connection, both handshakes and the browser's first bytes together
 * @param maxCutText       largest ClientCutText accepted from the browser (QEMU's own limit is 1 MiB)
 * @param chunkBytes       bytes read from the VM per WebSocket message
 * @param maxInFlightBytes bytes sent to the browser and not yet written to its socket; when reached, the gateway
 *                         stops reading from the VM
 */
public record RelaySettings(Duration handshakeTimeout, int maxCutText, int chunkBytes, int maxInFlightBytes) {
    public static final RelaySettings DEFAULTS = new RelaySettings(Duration.ofSeconds(10), 1 << 20, 64 * 1024,
            256 * 1024);

    public RelaySettings {
        if (chunkBytes < 1024 || maxInFlightBytes < chunkBytes) {
            throw new IllegalArgumentException("need 1024 <= chunkBytes <= maxInFlightBytes");
        }
    }
}
