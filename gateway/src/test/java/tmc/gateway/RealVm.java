package tmc.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;

/** Helpers for tests through the gateway to a real QEMU VM. */
final class RealVm {
    private RealVm() {}

    /** A gateway serving {@code vm} as VM id "vm1" of tenant "acme". */
    static GatewayFixture gateway(TestVm vm, String password, ObjectNode limits) throws Exception {
        ObjectNode config = GatewayFixture.config();
        GatewayFixture.addVm(config, "vm1", "acme", "tcp:127.0.0.1:" + vm.vncPort(), password);
        if (limits != null) {
            config.set("limits", limits);
        }
        return GatewayFixture.start(config);
    }

    /** Closes what a test class started (either may be null when its start failed). */
    static void close(GatewayFixture gateway, TestVm vm) {
        if (gateway != null) {
            gateway.close();
        }
        if (vm != null) {
            vm.close();
        }
    }

    /** Waits until the guest's screen shows something (the guest prints its name on boot). */
    static void awaitNonBlank(RfbClient rfb) {
        rfb.awaitFrame(c -> {
            for (int p : c.pixels()) {
                if (p != 0) {
                    return true;
                }
            }
            return false;
        }, Duration.ofSeconds(30));
    }

    /**
     * Does the browser's half of the RFB handshake by hand and returns the ServerInit's width and height; for
     * clients that must misbehave afterwards (stop reading, send garbage).
     */
    static int[] rawHandshake(WebSocketTransport ws) throws IOException {
        DataInputStream in = new DataInputStream(ws.in());
        OutputStream out = ws.out();
        byte[] version = new byte[12];
        in.readFully(version);
        if (!new String(version, StandardCharsets.US_ASCII).equals("RFB 003.008\n")) {
            throw new IOException("unexpected version " + new String(version, StandardCharsets.US_ASCII));
        }
        out.write(version);
        out.flush();
        int count = in.readUnsignedByte();
        byte[] types = new byte[count];
        in.readFully(types);
        out.write(1);
        out.flush();
        if (in.readInt() != 0) {
            throw new IOException("security result not OK");
        }
        out.write(1);
        out.flush();
        int width = in.readUnsignedShort();
        int height = in.readUnsignedShort();
        in.readFully(new byte[16]);
        in.readFully(new byte[in.readInt()]);
        return new int[] {width, height};
    }

    /** A full-screen, non-incremental FramebufferUpdateRequest: the server answers with the whole screen. */
    static byte[] fullUpdateRequest(int width, int height) {
        return new byte[] {3, 0, 0, 0, 0, 0, (byte) (width >> 8), (byte) width, (byte) (height >> 8), (byte) height};
    }
}
