package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/**
 * Issue 2's proofs again on the AddressSanitizer build ({@code qemu-patch/build.sh --asan}, passed as
 * {@code -Dtmc.qemu.asan}): every test must pass and QEMU must write no ASan report. Fails, never skips, when the
 * ASan build is missing.
 */
class OverlayProofsAsanTest extends OverlayProofs {
    @Override
    Path qemu() {
        return TestEnv.qemuAsan();
    }

    @Override
    boolean asan() {
        return true;
    }
}
