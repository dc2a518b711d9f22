package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** TigerVNC against QEMU 10.0 ({@code -Dtmc.qemu}). */
class TigerVncTest extends TigerVncProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu();
    }
}
