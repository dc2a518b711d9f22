#!/bin/sh
# Boot the demo guest under TCG. VNC on :5900 (with a password when TMC_VNC_PASSWORD is set), QMP on a unix socket
# in the shared volume /run/tmc/$TMC_VM_ID/qmp.sock (never on TCP: QMP has no authentication).
set -eu
id=${TMC_VM_ID:?set TMC_VM_ID}
mkdir -p "/run/tmc/$id"
rm -f "/run/tmc/$id/qmp.sock"
vnc="0.0.0.0:0"
set --
if [ -n "${TMC_VNC_PASSWORD:-}" ]; then
    umask 077
    printf '%s' "$TMC_VNC_PASSWORD" > /tmp/vnc-password
    set -- -object secret,id=vncpw,file=/tmp/vnc-password
    vnc="$vnc,password-secret=vncpw"
fi
exec /opt/tmc/qemu/bin/qemu-system-x86_64 -L /opt/tmc/qemu/share/qemu \
    -machine pc -accel tcg -m 256 -nodefaults -vga std -display none -no-reboot \
    -device virtio-tablet-pci \
    -kernel /opt/tmc/guest/vmlinuz -initrd /opt/tmc/guest/initrd.img \
    -append "$(cat /opt/tmc/guest/cmdline) tmc.name=$id" \
    -serial null \
    -chardev "socket,id=qmp0,path=/run/tmc/$id/qmp.sock,server=on,wait=off" -mon chardev=qmp0,mode=control \
    "$@" -vnc "$vnc"
