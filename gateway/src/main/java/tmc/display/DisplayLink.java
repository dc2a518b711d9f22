package tmc.display;

import java.io.FileDescriptor;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * How the gateway reaches one QEMU's D-Bus display and learns that QEMU went away: through the VM's QMP socket
 * ({@code add_client @dbus-display} with the socket passed, {@link QmpLink}), or through libvirt for a domain with
 * {@code <graphics type='dbus' p2p='yes'/>} ({@code virDomainOpenGraphics}, which does the same through libvirt's
 * own monitor).
 */
public interface DisplayLink extends AutoCloseable {
    /** Makes QEMU's D-Bus display serve a peer-to-peer connection on {@code fd} (a copy is passed). */
    void addDbusClient(FileDescriptor fd) throws IOException;

    /** From now on, calls {@code onGone} once when QEMU is gone (its monitor closed, its domain stopped). */
    void watch(Consumer<IOException> onGone) throws IOException;

    @Override
    void close();

    /** Opens a link to the VM's QEMU, giving up after {@code timeout}. */
    @FunctionalInterface
    interface Opener {
        DisplayLink open(Duration timeout) throws IOException;
    }
}
