package tmc.bench;

import java.io.IOException;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/** Real patched QEMU VMs for the benchmarks that need them. */
final class Vms {
    private Vms() {}

    /** Boots the test guest; Ctrl-C on the benchmark kills the QEMU too. */
    static TestVm start(String name) throws IOException {
        return watch(name, TestVm.builder().name(name).qemu(TestEnv.qemu()).start());
    }

    /** Boots the test guest on Debian's stock QEMU with the D-Bus display ({@code -Dtmc.stockqemu}). */
    static TestVm startDbus(String name) throws IOException {
        return watch(name, TestVm.builder().name(name).dbusDisplay().start());
    }

    private static TestVm watch(String name, TestVm vm) {
        long pid = vm.pid();
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly), "stop-" + name));
        return vm;
    }
}
