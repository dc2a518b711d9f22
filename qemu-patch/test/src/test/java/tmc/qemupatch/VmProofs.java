package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.TestInstance;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/**
 * What the proof classes share: one VM for the class (booted by the subclass), no overlay left behind by a test,
 * and on the AddressSanitizer build no ASan report.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class VmProofs {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String FEEDBACK = "VNC_OVERLAY_FEEDBACK";

    TestVm vm;
    QmpClient qmp;

    /** The qemu-system-x86_64 under test. */
    abstract Path qemu();

    /** True for the AddressSanitizer build: every test must then leave QEMU's ASan log free of reports. */
    boolean asan() {
        return false;
    }

    @AfterEach
    void leaveNoOverlay() throws Exception {
        assertTrue(vm.isAlive(), "QEMU died; log in " + vm.qemuLog());
        if (asan()) Asan.assertNoReport(vm);
        Qmp.clear(qmp);
    }

    RfbClient connect() throws Exception {
        RfbClient rfb = RfbClient.connect("127.0.0.1", vm.vncPort(), null);
        rfb.awaitFrame(c -> c.mark() > 0, WAIT);
        return rfb;
    }
}
