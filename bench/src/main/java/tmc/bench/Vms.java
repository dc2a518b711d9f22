package tmc.bench;

import java.io.IOException;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/** Real patched QEMU VMs for the benchmarks that need them. */
final class Vms {
    private Vms() {}

    /** Boots the test guest; Ctrl-C on the benchmark kills the QEMU too. */
    static TestVm start(String name) throws IOException {
        TestVm vm = TestVm.builder().name(name).qemu(TestEnv.qemu()).start();
        long pid = vm.pid();
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly), "stop-" + name));
        return vm;
    }
}
