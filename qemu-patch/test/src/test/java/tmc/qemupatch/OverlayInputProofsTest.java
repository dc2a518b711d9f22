package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** Issue 10's input proofs against the normal build ({@code -Dtmc.qemu}). */
class OverlayInputProofsTest extends OverlayInputProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu();
    }
}
