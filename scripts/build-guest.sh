#!/usr/bin/env bash
# Build the tiny test guest: a Debian 12 kernel plus a busybox initramfs whose
# init logs every /dev/input/event* event to the first serial port and obeys a
# few commands read from it. Prints the guest directory (vmlinuz, initrd.img)
# on its last line; cached under $TMC_CACHE/guest keyed by the hash of this script and lib/guest.sh.
#
# Serial protocol (ttyS0, 115200, lines):
#   guest -> host  "TMC-GUEST-READY <name> <devices>"  once init is up
#                  "input <dev> <sec.usec> type=T code=C value=V"  per input event
#                  "TMC-OK <command>" / "TMC-ERR <command>: <why>"
#   host -> guest  "setres W H"  switch the std VGA to W x H x 32 (Bochs DISPI)
#                  "say TEXT"    print TEXT on the guest's screen (tty0)
#                  "ping"        answer TMC-OK ping
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/guest.sh
. "$HERE/lib/guest.sh"
guest_begin build-guest.sh guest guest
guest_tools "cpio xz dpkg-deb" "cpio xz-utils dpkg"

DEBS="$CACHE/guest-debs"
mkdir -p "$DEBS"
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kernel_pkg" ]; then
    as_root apt-get update -qq >&2
    kernel_pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package"
shopt -s nullglob
first() { [ $# -gt 0 ] && echo "$1"; return 0; }
for pkg in "$kernel_pkg" busybox-static; do
    if [ -z "$(first "$DEBS/${pkg}"_*.deb)" ]; then
        log "downloading $pkg"
        (cd "$DEBS" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
    fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
dpkg-deb -x "$(first "$DEBS/${kernel_pkg}"_*.deb)" "$TMP/kernel"
dpkg-deb -x "$(first "$DEBS"/busybox-static_*.deb)" "$TMP/busybox"

R="$TMP/root"
mkdir -p "$R"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$TMP/busybox/bin/busybox" "$R/bin/busybox"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
         virtio_input evdev psmouse; do
    f=$(find "$TMP/kernel/lib/modules" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [ -n "$f" ] || die "module $m not found in $kernel_pkg"
    case "$f" in
        *.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
        *) cp "$f" "$R/lib/modules/$m.ko" ;;
    esac
done

cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
         virtio_input evdev psmouse; do
    insmod /lib/modules/$m.ko 2>/dev/null
done
name=guest
for arg in $(cat /proc/cmdline); do
    case "$arg" in tmc.name=*) name=${arg#tmc.name=} ;; esac
done
stty -F /dev/ttyS0 115200 -echo -icrnl -onlcr 2>/dev/null
echo 1 > /proc/sys/kernel/printk

# Wait for the input devices (the tablet probes asynchronously).
i=0
while [ $i -lt 50 ]; do
    n=0
    for d in /sys/class/input/event*; do n=$((n + 1)); done
    [ $n -ge 2 ] && grep -qi tablet /sys/class/input/event*/device/name 2>/dev/null && break
    sleep 0.1
    i=$((i + 1))
done
devices=""
for d in /dev/input/event*; do
    dev=${d#/dev/input/}
    devices="$devices $dev:$(tr ' ' '_' < /sys/class/input/$dev/device/name)"
    hexdump -v -e '"input '"$dev"' " 1/4 "%u" 1/4 "%.0u" 1/4 ".%06u" 1/4 "%.0u" 1/2 " type=%u" 1/2 " code=%u" 1/4 " value=%d" "\n"' \
        "$d" > /dev/ttyS0 &
done

clear > /dev/tty0
cat > /dev/tty0 <<BANNER


      +--------------------------------------------------+
      |                                                  |
      |   tmc test guest: $name
      |                                                  |
      |   Nothing runs in here to show messages:         |
      |   QEMU's VNC server draws them.                  |
      |                                                  |
      +--------------------------------------------------+

BANNER

setres() {
    bar=""
    for d in /sys/bus/pci/devices/*; do
        if [ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x1111 ]; then
            bar=$(sed -n 3p $d/resource | cut -d' ' -f1)
        fi
    done
    [ -n "$bar" ] || { echo "TMC-ERR setres: no Bochs VGA"; return; }
    base=$((bar + 0x500))
    devmem $((base + 8)) 16 0
    devmem $((base + 2)) 16 $1
    devmem $((base + 4)) 16 $2
    devmem $((base + 6)) 16 32
    devmem $((base + 8)) 16 0x41
    echo "TMC-OK setres $1 $2"
}

echo "TMC-GUEST-READY $name$devices" > /dev/ttyS0
while true; do
    while read -r cmd arg1 arg2; do
        case "$cmd" in
            setres) setres "$arg1" "$arg2" > /dev/ttyS0 ;;
            say) echo "$arg1 $arg2" > /dev/tty0; echo "TMC-OK say" > /dev/ttyS0 ;;
            ping) echo "TMC-OK ping" > /dev/ttyS0 ;;
            "") ;;
            *) echo "TMC-ERR $cmd: unknown command" > /dev/ttyS0 ;;
        esac
    done < /dev/ttyS0
    sleep 0.1
done
INIT
chmod +x "$R/init"

guest_publish "$(first "$TMP"/kernel/boot/vmlinuz-*)" \
    "console=ttyS0,115200 console=tty0 quiet vt.global_cursor_default=0 panic=-1 no_timer_check" gzip -1
log "built guest $KEY from $kernel_pkg"
echo "$OUT"
