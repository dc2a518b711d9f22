package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** Issue 2's proofs against the normal build ({@code -Dtmc.qemu}). */
class OverlayProofsTest extends OverlayProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu();
    }
}
