package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** Issue 2's proofs against the QEMU 10.2 series ({@code -Dtmc.qemu.v10_2}). */
class OverlayProofsQemu102Test extends OverlayProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu102();
    }
}
