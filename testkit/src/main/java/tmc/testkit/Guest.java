package tmc.testkit;

import java.time.Duration;
import java.util.List;

/**
 * A running test guest, however it was started ({@link TestVm} by hand, {@link LibvirtDomain} through libvirt): its
 * serial port, which logs the input it receives and takes commands, and the test's own QMP monitor.
 */
public interface Guest {
    SerialConsole serial();

    /** The test's own QMP connection (a second monitor; events reach both it and the product's). */
    QmpClient qmp();

    /** Shortcut for {@code serial().mark()}. */
    default int mark() {
        return serial().mark();
    }

    default List<InputEvent> inputEventsSince(int mark) {
        return serial().inputEventsSince(mark);
    }

    /** Asks the guest to switch its screen to width x height x 32 and waits until it says it did. */
    default void setResolution(int width, int height) {
        serial().command("setres " + width + " " + height, Duration.ofSeconds(30));
    }
}
