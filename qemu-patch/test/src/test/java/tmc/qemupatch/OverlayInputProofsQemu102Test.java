package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** The input proofs on the QEMU 10.2 series ({@code -Dtmc.qemu.v10_2}). */
class OverlayInputProofsQemu102Test extends OverlayInputProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu102();
    }
}
