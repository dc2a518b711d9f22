package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** Overlays per VNC display on QEMU 10.2 ({@code -Dtmc.qemu.v10_2}). */
class OverlayDisplaysQemu102Test extends OverlayDisplaysTest {
    @Override
    Path qemu() {
        return TestEnv.qemu102();
    }
}
