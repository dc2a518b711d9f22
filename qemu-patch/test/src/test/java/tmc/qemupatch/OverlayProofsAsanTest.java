package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
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

    /**
     * ASan's log may hold its start-up warning about QEMU's coroutines (makecontext/swapcontext); a report is an
     * {@code ERROR: AddressSanitizer} block or a sanitizer {@code runtime error}.
     */
    @AfterEach
    void noAsanReport() throws Exception {
        String log = vm.asanReports();
        List<String> reports = log.lines()
                .filter(l -> l.contains("ERROR: AddressSanitizer") || l.contains("SUMMARY: AddressSanitizer")
                        || l.contains("runtime error:"))
                .toList();
        assertEquals(List.of(), reports, "AddressSanitizer report in " + vm.logDir() + ":\n" + log);
        assertTrue(vm.isAlive(), "QEMU died; log in " + vm.qemuLog());
    }
}
