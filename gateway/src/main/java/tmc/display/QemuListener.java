package tmc.display;

import org.freedesktop.dbus.FileDescriptor;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusMemberName;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.UInt64;

/**
 * {@code org.qemu.Display1.Listener}, which the gateway exports and QEMU 7.2 calls (ui/dbus-listener.c). Pixels come
 * inline as byte arrays in a pixman format; the DMABUF variants are only used with {@code gl=on}, which tmc never
 * asks for, and are refused.
 */
@DBusInterfaceName("org.qemu.Display1.Listener")
public interface QemuListener extends DBusInterface {
    @DBusMemberName("Scanout")
    void scanout(UInt32 width, UInt32 height, UInt32 stride, UInt32 pixmanFormat, byte[] data);

    @DBusMemberName("Update")
    void update(int x, int y, int width, int height, UInt32 stride, UInt32 pixmanFormat, byte[] data);

    @DBusMemberName("ScanoutDMABUF")
    void scanoutDmabuf(FileDescriptor dmabuf, UInt32 width, UInt32 height, UInt32 stride, UInt32 fourcc,
            UInt64 modifier, boolean y0Top);

    @DBusMemberName("UpdateDMABUF")
    void updateDmabuf(int x, int y, int width, int height);

    @DBusMemberName("Disable")
    void disable();

    @DBusMemberName("MouseSet")
    void mouseSet(int x, int y, int on);

    @DBusMemberName("CursorDefine")
    void cursorDefine(int width, int height, int hotX, int hotY, byte[] data);
}
