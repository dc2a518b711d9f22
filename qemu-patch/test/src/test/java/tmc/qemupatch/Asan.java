package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import tmc.testkit.TestVm;

/** The check every AddressSanitizer proof runs after each test. */
final class Asan {
    private Asan() {}

    /**
     * ASan's log may hold its start-up warning about QEMU's coroutines (makecontext/swapcontext); a report is an
     * {@code ERROR: AddressSanitizer} block or a sanitizer {@code runtime error}.
     */
    static void assertNoReport(TestVm vm) throws IOException {
        String log = vm.asanReports();
        List<String> reports = log.lines()
                .filter(l -> l.contains("ERROR: AddressSanitizer") || l.contains("SUMMARY: AddressSanitizer")
                        || l.contains("runtime error:"))
                .toList();
        assertEquals(List.of(), reports, "AddressSanitizer report in " + vm.logDir() + ":\n" + log);
        assertTrue(vm.isAlive(), "QEMU died; log in " + vm.qemuLog());
    }
}
