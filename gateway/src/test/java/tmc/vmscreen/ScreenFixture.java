package tmc.vmscreen;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import tmc.rfbserver.RfbTcpListener;
import tmc.testkit.RfbClient;
import tmc.testkit.TestVm;

/** A stock QEMU VM with the D-Bus display, the gateway's screen for it, and one RFB viewer on loopback TCP. */
final class ScreenFixture implements AutoCloseable {
    final TestVm vm;
    final VmScreen screen;
    final RfbTcpListener listener;
    final RfbClient viewer;

    private ScreenFixture(TestVm vm, VmScreen screen, RfbTcpListener listener, RfbClient viewer) {
        this.vm = vm;
        this.screen = screen;
        this.listener = listener;
        this.viewer = viewer;
    }

    static ScreenFixture start(String name, Duration timeout) throws IOException {
        TestVm vm = TestVm.builder().name(name).dbusDisplay().start();
        VmScreen screen = null;
        RfbTcpListener listener = null;
        try {
            screen = VmScreen.attach(vm.qmpSocket(), name, timeout);
            listener = RfbTcpListener.start(screen.desktop(),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
            return new ScreenFixture(vm, screen, listener, RfbClient.connect("127.0.0.1", listener.port(), null));
        } catch (IOException | RuntimeException e) {
            if (listener != null) listener.close();
            if (screen != null) screen.close();
            vm.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        viewer.close();
        listener.close();
        screen.close();
        vm.close();
    }
}
