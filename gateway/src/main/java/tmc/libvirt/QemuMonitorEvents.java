package tmc.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The part of libvirt's QEMU API that the Java binding (org.libvirt:libvirt 0.5.3) lacks:
 * {@code virConnectDomainQemuMonitorEventRegister}, which delivers a domain's QMP events (here
 * {@code VNC_OVERLAY_FEEDBACK}) through libvirt's event loop. Declared over the same JNA and the same
 * {@code libvirt-qemu.so.0} the binding loads.
 */
interface QemuMonitorEvents extends Library {
    QemuMonitorEvents QEMU = Native.load("virt-qemu", QemuMonitorEvents.class);

    /** {@code virConnectDomainQemuMonitorEventCallback}; runs on libvirt's event loop thread. */
    interface EventCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, String event, long seconds, int micros, String details,
                    Pointer opaque);
    }

    /** @return a callback id (≥ 0), or -1 with libvirt's last error set */
    int virConnectDomainQemuMonitorEventRegister(Pointer conn, Pointer dom, String event, EventCallback cb,
                                                 Pointer opaque, Pointer freecb, int flags);

    int virConnectDomainQemuMonitorEventDeregister(Pointer conn, int callbackId);

    /** From libvirt.so.0, what the binding lacks besides. */
    interface Virt extends Library {
        Virt LIBVIRT = Native.load("virt", Virt.class);

        /** The name of the domain an event is about (owned by the domain object). */
        String virDomainGetName(Pointer domain);

        /** A new reference to a domain (free it with {@link #virDomainFree}), or null with libvirt's error set. */
        Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);

        int virDomainFree(Pointer domain);

        /**
         * Passes socket {@code fd} (a copy) to the domain's graphics device number {@code idx} as a client: for a
         * peer-to-peer D-Bus display, libvirt's {@code add_client @dbus-display} on its own monitor. 0 or -1.
         */
        int virDomainOpenGraphics(Pointer domain, int idx, int fd, int flags);

        /** The calling thread's last libvirt error, as text. */
        String virGetLastErrorMessage();
    }
}
