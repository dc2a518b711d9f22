package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** The encoding proofs on QEMU 10.0 ({@code -Dtmc.qemu}). */
class EncodingProofsTest extends EncodingProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu();
    }
}
