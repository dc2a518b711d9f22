package tmc.display;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusMemberName;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt32;

/**
 * {@code org.qemu.Display1.Mouse}. Buttons are QEMU's InputButton numbers (0 left, 1 middle, 2 right, 3 wheel up,
 * 4 wheel down). {@code SetAbsPosition} fails while the guest has no absolute pointer (before its tablet driver
 * loads); then only relative motion works.
 */
@DBusInterfaceName("org.qemu.Display1.Mouse")
public interface QemuMouse extends DBusInterface {
    @DBusMemberName("Press")
    void press(UInt32 button);

    @DBusMemberName("Release")
    void release(UInt32 button);

    @DBusMemberName("SetAbsPosition")
    void setAbsPosition(UInt32 x, UInt32 y);

    @DBusMemberName("RelMotion")
    void relMotion(int dx, int dy);
}
