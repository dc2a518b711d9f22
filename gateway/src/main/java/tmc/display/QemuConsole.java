package tmc.display;

import org.freedesktop.dbus.FileDescriptor;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusMemberName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/**
 * {@code org.qemu.Display1.Console} as QEMU 7.2 exports it at {@code /org/qemu/Display1/Console_N} (introspected from
 * Debian 12's qemu-system-x86 7.2; the properties Label, Head, Type, Width, Height, DeviceAddress are not used).
 */
@DBusInterfaceName("org.qemu.Display1.Console")
public interface QemuConsole extends DBusInterface {
    /**
     * Hands QEMU one end of a socket; QEMU authenticates on it as the D-Bus server and then calls
     * {@link QemuListener} methods on {@code /org/qemu/Display1/Listener} at the other end.
     */
    @DBusMemberName("RegisterListener")
    void registerListener(FileDescriptor listener);
}
