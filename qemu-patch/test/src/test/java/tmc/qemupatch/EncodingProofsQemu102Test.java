package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** The encoding proofs on QEMU 10.2 ({@code -Dtmc.qemu.v10_2}). */
class EncodingProofsQemu102Test extends EncodingProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu102();
    }
}
