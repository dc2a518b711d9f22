package tmc.rfb;

import java.time.Duration;

/**
 * Limits of one relayed session.
 *
 * @param handshakeTimeout time for the VM connection, both handshakes and the browser's first bytes together
 * @param maxCutText       largest ClientCutText accepted from the browser (QEMU's own limit is 1 MiB)
 * @param chunkBytes       most bytes read from the VM at once, sent as one WebSocket message (a pooled direct
 *                         buffer of this size is held only while the VM's bytes flow)
 * @param maxInFlightBytes bytes sent to the browser and not yet written to its socket, at most; the relay keeps
 *                         one message in flight, so this bound holds as long as it is at least chunkBytes
 * @param viewOnlyGuestClipboard whether a view-only session may still ask for the guest's clipboard
 */
public record RelaySettings(Duration handshakeTimeout, int maxCutText, int chunkBytes, int maxInFlightBytes,
        boolean viewOnlyGuestClipboard) {
    /** Settings with the default clipboard rule: view-only sessions get no guest clipboard. */
    public RelaySettings(Duration handshakeTimeout, int maxCutText, int chunkBytes, int maxInFlightBytes) {
        this(handshakeTimeout, maxCutText, chunkBytes, maxInFlightBytes, false);
    }

    public RelaySettings {
        if (chunkBytes < 1024 || maxInFlightBytes < chunkBytes) {
            throw new IllegalArgumentException("need 1024 <= chunkBytes <= maxInFlightBytes");
        }
    }
}
