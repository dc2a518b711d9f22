package tmc.gateway;

import java.time.Duration;

/**
 * Connection caps and per-session bounds.
 *
 * @param perToken          live sessions one token may hold
 * @param perUser           live sessions one user (token {@code sub}) may hold
 * @param perVm             live sessions one VM may have
 * @param total             live sessions the gateway holds
 * @param handshakeTimeout  to connect to the VM and finish both RFB handshakes
 * @param maxCutTextBytes   largest ClientCutText from a browser
 * @param chunkBytes        most bytes read from a VM at once, sent as one WebSocket message in one frame (it is the
 *                          WebSocket's largest frame too): 256 KiB, four times fewer reads and writes per GB than 64 KiB
 * @param maxInFlightBytes  bytes queued towards one browser before the gateway stops reading its VM
 * @param idleTimeout       a WebSocket with no traffic either way for this long is closed
 * @param pingInterval      how often the gateway pings each browser; one that has not answered for three intervals
 *                          is cut off (a dead or stalled peer). Zero turns pings off.
 * @param viewOnlyGuestClipboard whether view-only sessions may receive what the guest copies (off by default: a
 *                          viewer is shown the screen, not handed the clipboard)
 */
public record Limits(int perToken, int perUser, int perVm, int total, Duration handshakeTimeout, int maxCutTextBytes,
        int chunkBytes, int maxInFlightBytes, Duration idleTimeout, Duration pingInterval,
        boolean viewOnlyGuestClipboard) {
    public static final Limits DEFAULTS = new Limits(2, 8, 16, 1000, Duration.ofSeconds(10), 1 << 20, 256 * 1024,
            256 * 1024, Duration.ofMinutes(30), Duration.ofSeconds(30), false);
}
