package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random streams against the parser and filter, with fixed seeds so failures replay: valid message sequences come
 * out the same however they are cut, and garbage only ever ends in {@link RfbProtocolException}.
 */
class ClientStreamRandomTest {
    private static final int[] NEGOTIATED = {0, -258, -308, -312, -313, 0xC0A1E5CE};

    @Test
    void validStreamsSurviveAnyFragmentation() throws IOException {
        for (int seed = 0; seed < 300; seed++) {
            Random random = new Random(seed);
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            stream.writeBytes(setEncodings(NEGOTIATED));
            for (int i = 0; i < 40; i++) {
                stream.writeBytes(randomMessage(random));
            }
            byte[] input = stream.toByteArray();
            byte[] whole = run(input, new int[] {input.length}, false);
            assertArrayEquals(input, whole, "seed " + seed + ": nothing is dropped or changed in a full session");
            int[] cuts = new int[1 + random.nextInt(50)];
            for (int i = 0; i < cuts.length; i++) {
                cuts[i] = 1 + random.nextInt(64);
            }
            assertArrayEquals(whole, run(input, cuts, false), "seed " + seed);
            byte[] viewOnly = run(input, cuts, true);
            assertTrue(viewOnly.length <= whole.length);
        }
    }

    @Test
    void garbageEndsInAProtocolExceptionOnly() {
        for (int seed = 0; seed < 3000; seed++) {
            Random random = new Random(seed);
            byte[] input = new byte[random.nextInt(200)];
            random.nextBytes(input);
            if (random.nextBoolean() && input.length > 0) {
                input[0] = (byte) new int[] {0, 2, 3, 4, 5, 6, 150, 248, 250, 251, 255}[random.nextInt(11)];
            }
            try {
                run(input, new int[] {1 + random.nextInt(16)}, random.nextBoolean());
            } catch (RfbProtocolException expected) {
                // fine: the session would end with a reason
            } catch (IOException | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
        }
    }

    /** Feeds {@code input} cut into pieces of the given sizes (cycled); returns what would reach the VM. */
    private static byte[] run(byte[] input, int[] cuts, boolean viewOnly) throws IOException {
        ByteArrayOutputStream vm = new ByteArrayOutputStream();
        ClientMessageParser parser = new ClientMessageParser(new ClientMessageFilter(vm, viewOnly), 4096);
        int at = 0;
        for (int i = 0; at < input.length; i++) {
            int n = Math.min(cuts[i % cuts.length], input.length - at);
            parser.feed(ByteBuffer.wrap(input, at, n));
            at += n;
        }
        return vm.toByteArray();
    }

    private static byte[] setEncodings(int... encodings) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * encodings.length);
        b.put((byte) 2).put((byte) 0).putShort((short) encodings.length);
        for (int e : encodings) {
            b.putInt(e);
        }
        return b.array();
    }

    private static byte[] randomMessage(Random r) {
        ByteBuffer b;
        switch (r.nextInt(10)) {
            case 0 -> {
                b = ByteBuffer.allocate(20).put((byte) 0);
                b.position(4).put((byte) 32).put((byte) 24);
            }
            case 1 -> b = ByteBuffer.allocate(10).put((byte) 3).put((byte) r.nextInt(2));
            case 2 -> b = ByteBuffer.allocate(8).put((byte) 4).put((byte) r.nextInt(2)).putShort((short) 0)
                    .putInt(r.nextInt());
            case 3 -> b = ByteBuffer.allocate(6).put((byte) 5).put((byte) r.nextInt(128))
                    .putShort((short) r.nextInt(800)).putShort((short) r.nextInt(600));
            case 4 -> {
                int n = r.nextInt(300);
                b = ByteBuffer.allocate(8 + n).put((byte) 6).put(new byte[3]).putInt(n);
            }
            case 5 -> {
                int n = 4 + r.nextInt(100);
                b = ByteBuffer.allocate(8 + n).put((byte) 6).put(new byte[3]).putInt(-n);
            }
            case 6 -> b = ByteBuffer.allocate(10).put((byte) 150).put((byte) 1);
            case 7 -> {
                int n = r.nextInt(65);
                b = ByteBuffer.allocate(9 + n).put((byte) 248).put(new byte[3]).putInt(r.nextInt()).put((byte) n);
            }
            case 8 -> {
                int screens = r.nextInt(4);
                b = ByteBuffer.allocate(8 + 16 * screens).put((byte) 251).put((byte) 0).putShort((short) 800)
                        .putShort((short) 600).put((byte) screens);
            }
            default -> b = ByteBuffer.allocate(12).put((byte) 255).put((byte) 0).putShort((short) r.nextInt(2))
                    .putInt(r.nextInt()).putInt(r.nextInt(256));
        }
        byte[] out = b.array();
        if (out.length > b.position()) {
            byte[] tail = new byte[out.length - b.position()];
            r.nextBytes(tail);
            System.arraycopy(tail, 0, out, b.position(), tail.length);
        }
        return out;
    }
}
