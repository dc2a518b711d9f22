package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tmc.testkit.TestVm;
import tmc.testkit.WebSocketTransport;

/**
 * View-only sessions do not receive the guest's clipboard. QEMU sends the guest clipboard (ServerCutText) only to
 * clients that negotiated the extended-clipboard pseudo-encoding (ui/vnc-clipboard.c registers the clipboard peer
 * in {@code vnc_server_cut_text_caps}, and then answers at once with its capabilities in a ServerCutText); the
 * gateway strips that pseudo-encoding from a view-only session's SetEncodings. Proven against the real QEMU: asked
 * for SetEncodings [Raw, extended clipboard] then a full update, a full session's first server message is QEMU's
 * clipboard capabilities (ServerCutText), a view-only session's is the FramebufferUpdate.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ViewOnlyClipboardTest {
    private static final int EXTENDED_CLIPBOARD = 0xC0A1E5CE;
    private static final int SERVER_CUT_TEXT = 3;
    private static final int FRAMEBUFFER_UPDATE = 0;

    private TestVm vm;
    private GatewayFixture gateway;

    @BeforeAll
    void start() throws Exception {
        vm = TestVm.builder().name("gw-clipboard").start();
        gateway = RealVm.gateway(vm, null, null);
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (vm != null) {
            vm.close();
        }
    }

    @Test
    void aFullSessionIsOfferedTheGuestClipboard() throws Exception {
        assertEquals(SERVER_CUT_TEXT, firstServerMessage(Tokens.hs256(Tokens.claims("editor", "acme"))));
    }

    @Test
    void aViewOnlySessionIsNot() throws Exception {
        assertEquals(FRAMEBUFFER_UPDATE, firstServerMessage(Tokens.hs256(Tokens.claims("watcher", "acme")
                .claim("view_only", true))));
    }

    private int firstServerMessage(String token) throws Exception {
        try (WebSocketTransport ws = gateway.open("vm1", token)) {
            int[] size = RealVm.rawHandshake(ws);
            OutputStream out = ws.out();
            ByteBuffer setEncodings = ByteBuffer.allocate(4 + 8);
            setEncodings.put((byte) 2).put((byte) 0).putShort((short) 2).putInt(0).putInt(EXTENDED_CLIPBOARD);
            out.write(setEncodings.array());
            out.write(RealVm.fullUpdateRequest(size[0], size[1]));
            out.flush();
            return new DataInputStream(ws.in()).readUnsignedByte();
        }
    }
}
