package tmc.qemupatch;

import java.nio.file.Path;
import tmc.testkit.TestEnv;

/** TigerVNC against QEMU 10.2 ({@code -Dtmc.qemu.v10_2}). */
class TigerVncQemu102Test extends TigerVncProofs {
    @Override
    Path qemu() {
        return TestEnv.qemu102();
    }
}
