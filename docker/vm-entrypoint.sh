#!/bin/sh
# Boot the demo guest under TCG, as the unprivileged user tmc. VNC and QMP are unix sockets in this VM's own volume
# (/run/tmc/vm, mounted into the gateway as /run/tmc/$TMC_VM_ID): VNC listens on no network interface, QMP (no
# authentication) is never on TCP. The sockets are for the user tmc only (umask 077), the gateway's user too.
set -eu
id=${TMC_VM_ID:?set TMC_VM_ID}
dir=/run/tmc/vm
rm -f "$dir/qmp.sock" "$dir/vnc.sock"
umask 077
exec /opt/tmc/qemu/bin/qemu-system-x86_64 -L /opt/tmc/qemu/share/qemu \
    -machine pc -accel tcg -m 256 -nodefaults -vga std -display none -no-reboot \
    -device virtio-tablet-pci \
    -kernel /opt/tmc/guest/vmlinuz -initrd /opt/tmc/guest/initrd.img \
    -append "$(cat /opt/tmc/guest/cmdline) tmc.name=$id" \
    -serial null \
    -chardev "socket,id=qmp0,path=$dir/qmp.sock,server=on,wait=off" -mon chardev=qmp0,mode=control \
    -vnc "unix:$dir/vnc.sock"
