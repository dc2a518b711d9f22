package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** Issue 10's input proofs on the AddressSanitizer build ({@code -Dtmc.qemu.asan}); no ASan report allowed. */
class OverlayInputProofsAsanTest extends OverlayInputProofs {
    @Override
    Path qemu() {
        return TestEnv.qemuAsan();
    }

    @Override
    boolean asan() {
        return true;
    }
}
