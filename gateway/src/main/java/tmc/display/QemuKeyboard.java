package tmc.display;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusMemberName;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt32;

/** {@code org.qemu.Display1.Keyboard}: keys by QEMU key number ("qnum": the XT scancode, 0xe0 prefix as 0x80 bit). */
@DBusInterfaceName("org.qemu.Display1.Keyboard")
public interface QemuKeyboard extends DBusInterface {
    @DBusMemberName("Press")
    void press(UInt32 keycode);

    @DBusMemberName("Release")
    void release(UInt32 keycode);
}
