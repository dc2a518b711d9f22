#!/usr/bin/env bash
# Build the graphical desktop test guest from Debian 12 packages: a kernel plus one initramfs holding Xorg (the
# modesetting driver over QEMU's std VGA through the kernel's bochs DRM driver), the twm window manager, an xterm
# that never stops printing and a ticking xclock (a busy desktop), xinput logging every X input event to the serial
# port, and xrandr to change the resolution on request. Nothing is fetched but Debian packages (from the machine's
# own mirror, through a private apt configuration; the system's apt state is untouched). Prints the guest directory
# (vmlinuz, initrd.img, cmdline) on its last line; cached under $TMC_CACHE/desktop-guest keyed by the hash of this
# script and lib/guest.sh.
#
# Serial protocol (ttyS0, 115200, lines), a superset of scripts/build-guest.sh's:
#   guest -> host  "TMC-GUEST-READY <name> <devices>"  once X and the desktop are up
#                  "input <dev> <sec.usec> type=T code=C value=V"  per kernel input event (what the X server reads)
#                  "xi2 <line>"  the X server's own view: xinput test-xi2 --root (ButtonPress, Motion, ...)
#                  "TMC-OK <command> ..." / "TMC-ERR <command>: <why>"
#   host -> guest  "setres W H"  xrandr to W x H (a mode is added when the output lacks it)
#                  "ping"        answer TMC-OK ping
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/guest.sh
. "$HERE/lib/guest.sh"
guest_begin build-desktop-guest.sh desktop-guest "desktop guest"
START=$(date +%s)

guest_tools "cpio gzip dpkg-deb depmod" "cpio gzip dpkg kmod"

# A private apt: its own sources (the machine's Debian mirror, bookworm), lists, archive cache and an empty dpkg
# status, so that "install --download-only" fetches the whole dependency closure of what the desktop needs.
P="$CACHE/desktop-apt"
mkdir -p "$P/lists/partial" "$P/cache/archives/partial" "$P/state"
: > "$P/state/status"
URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$URI" ] || URI=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$URI" ] || die "cannot find the machine's Debian mirror in /etc/apt"
cat > "$P/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI bookworm-updates main
SRC
O=(-o Dir::Etc::SourceList="$P/sources.list" -o Dir::Etc::SourceParts=/nonexistent
   -o Dir::State::Lists="$P/lists" -o Dir::State::status="$P/state/status" -o Dir::Cache="$P/cache"
   -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/nonexistent -o Debug::NoLocking=1
   -o APT::Install-Recommends=false -o APT::Architecture=amd64 -o APT::Get::AllowUnauthenticated=false)
log "[1/5] package lists (bookworm, $URI)"
apt-get "${O[@]}" -q update >&2
kernel_pkg=$(apt-cache "${O[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-amd64"
PKGS="xserver-xorg-core xserver-xorg-input-evdev twm xterm x11-apps x11-utils xinput x11-xserver-utils busybox-static"
log "[2/5] downloading $PKGS and what they depend on"
apt-get "${O[@]}" -q -y install --download-only $PKGS >&2
(cd "$P/cache/archives" && apt-get "${O[@]}" -q download "$kernel_pkg" >&2)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
R="$TMP/root"
mkdir -p "$R"
log "[3/5] unpacking $(ls "$P"/cache/archives/*.deb | grep -vc linux-image) packages"
for deb in "$P"/cache/archives/*.deb; do
    case "$(basename "$deb")" in linux-image-*) continue ;; esac
    dpkg-deb -x "$deb" "$R"
done
# Debian 12 is merged-/usr: /bin, /lib, /lib64 and /sbin are links into /usr (base-files would make them).
for d in bin lib lib64 sbin; do
    if [ -d "$R/$d" ] && [ ! -L "$R/$d" ]; then cp -a "$R/$d/." "$R/usr/$d/" && rm -rf "${R:?}/$d"; fi
    ln -sfn "usr/$d" "$R/$d"
done
# What the desktop never uses but the packages drag in: Mesa's DRI drivers and LLVM (GLX is disabled below),
# the C preprocessor (for xrdb), perl, hardware databases, documentation. Less to unpack at every boot.
rm -rf "$R"/usr/lib/x86_64-linux-gnu/dri "$R"/usr/lib/x86_64-linux-gnu/libLLVM* "$R"/usr/lib/x86_64-linux-gnu/libz3* \
    "$R"/usr/lib/gcc "$R"/usr/bin/perl* "$R"/usr/lib/x86_64-linux-gnu/perl* "$R"/usr/share/perl* \
    "$R"/usr/lib/udev/hwdb.d "$R"/usr/share/doc "$R"/usr/share/man "$R"/usr/share/info "$R"/usr/share/locale \
    "$R"/usr/share/icons "$R"/usr/share/lintian
mkdir -p "$R"/{dev,proc,sys,tmp,run,root,etc/X11,var/log,var/lib/xkb}
chmod 1777 "$R/tmp"
ldconfig -r "$R" 2>/dev/null || true
# No dash in the closure: the X server runs xkbcomp through /bin/sh, busybox's will do.
[ -e "$R/usr/bin/sh" ] || ln -s busybox "$R/usr/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"

log "[4/5] kernel $kernel_pkg and the modules for the std VGA (bochs DRM) and the tablet"
dpkg-deb -x "$P"/cache/archives/"$kernel_pkg"_*.deb "$TMP/kernel"
KVER=$(ls "$TMP/kernel/lib/modules")
M="$TMP/kernel/lib/modules/$KVER"
mkdir -p "$R/lib/modules/$KVER"
dirs=""
for d in gpu/drm/tiny gpu/drm/ttm gpu/drm/display virtio input i2c video dma-buf; do
    [ -d "$M/kernel/drivers/$d" ] && dirs="$dirs kernel/drivers/$d"
done
(cd "$M" && { find kernel/drivers/gpu/drm -maxdepth 1 -name '*.ko*'; find $dirs -name '*.ko*'; } \
    | cpio -pdm --quiet "$R/lib/modules/$KVER")
cp "$M"/modules.order "$M"/modules.builtin* "$R/lib/modules/$KVER/" 2>/dev/null || true
find "$R/lib/modules/$KVER" -name '*.ko.xz' -exec xz -d {} +
depmod -b "$R" "$KVER"

cat > "$R/etc/X11/xorg.conf.head" <<'XORG'
Section "ServerFlags"
    Option "AutoAddDevices" "false"
    Option "AutoEnableDevices" "false"
    Option "BlankTime" "0"
    Option "StandbyTime" "0"
    Option "SuspendTime" "0"
    Option "OffTime" "0"
EndSection
Section "Module"
    Disable "glx"
EndSection
Section "Device"
    Identifier "vga"
    Driver "modesetting"
    Option "AccelMethod" "none"
    Option "ShadowFB" "true"
EndSection
XORG

cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /bin.busybox
/bin/busybox --install -s /bin.busybox
export PATH=/usr/bin:/usr/sbin:/bin.busybox HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
name=desktop
for arg in $(cat /proc/cmdline); do
    case "$arg" in tmc.name=*) name=${arg#tmc.name=} ;; esac
done
stty -F /dev/ttyS0 115200 -echo -icrnl -onlcr 2>/dev/null
echo 1 > /proc/sys/kernel/printk
for m in virtio_pci virtio_input evdev psmouse bochs; do modprobe $m 2>/dev/null; done

i=0
while [ $i -lt 100 ]; do
    [ -e /dev/dri/card0 ] && grep -qi tablet /sys/class/input/event*/device/name 2>/dev/null && break
    sleep 0.1
    i=$((i + 1))
done
devices=""
conf=/etc/X11/xorg.conf
cp /etc/X11/xorg.conf.head $conf
layout='Section "ServerLayout"\n    Identifier "desk"\n    Screen "screen"\n'
for d in /dev/input/event*; do
    dev=${d#/dev/input/}
    devname=$(cat /sys/class/input/$dev/device/name)
    devices="$devices $dev:$(echo "$devname" | tr ' ' '_')"
    hexdump -v -e '"input '"$dev"' " 1/4 "%u" 1/4 "%.0u" 1/4 ".%06u" 1/4 "%.0u" 1/2 " type=%u" 1/2 " code=%u" 1/4 " value=%d" "\n"' \
        "$d" > /dev/ttyS0 &
    printf 'Section "InputDevice"\n    Identifier "%s"\n    Driver "evdev"\n    Option "Device" "%s"\nEndSection\n' \
        "$dev" "$d" >> $conf
    case "$devname" in
        *[Kk]eyboard*) layout="$layout"'    InputDevice "'$dev'" "CoreKeyboard"\n' ;;
        *) layout="$layout"'    InputDevice "'$dev'" "SendCoreEvents"\n' ;;
    esac
done
printf 'Section "Screen"\n    Identifier "screen"\n    Device "vga"\n    DefaultDepth 24\n    SubSection "Display"\n        Modes "1024x768"\n    EndSubSection\nEndSection\n' >> $conf
printf "$layout"'EndSection\n' >> $conf

export DISPLAY=:0
/usr/lib/xorg/Xorg :0 vt1 -config $conf -nolisten tcp -noreset -s 0 -dpms -logfile /tmp/Xorg.log > /tmp/xorg.out 2>&1 &
i=0
while [ $i -lt 300 ] && ! xinput list >/dev/null 2>&1; do sleep 0.2; i=$((i + 1)); done
if ! xinput list >/dev/null 2>&1; then
    { echo "TMC-ERR X did not start"; ls -l /dev/dri; lsmod; cat /tmp/xorg.out; grep -E 'EE|WW' /tmp/Xorg.log; } \
        | sed 's/^/diag /' > /dev/ttyS0
fi
xsetroot -solid '#2d5a88' 2>/dev/null
twm > /tmp/twm.log 2>&1 &
xclock -update 1 -geometry 160x160-10+10 &
xterm -geometry 100x40+10+10 -bg black -fg '#7fff7f' -e sh -c \
    'n=0; while :; do n=$((n + 1)); echo "$n $(date +%T) $(cat /proc/loadavg)"; ls /usr/bin | head -c 400; echo; done' &
# The X server's own record of input: every line prefixed so the host can tell it from the kernel's.
(xinput test-xi2 --root 2>&1 | while IFS= read -r l; do echo "xi2 $l"; done > /dev/ttyS0) &

setres() {
    out=$(xrandr | awk '/ connected/ {print $1; exit}')
    [ -n "$out" ] || { echo "TMC-ERR setres: no output"; return; }
    mode="$1x$2"
    if ! xrandr | grep -q "^   $mode "; then
        xrandr --newmode "$mode" $(cvt "$1" "$2" 60 | sed -n 's/^Modeline "[^"]*" //p') 2>/dev/null
        xrandr --addmode "$out" "$mode" 2>/dev/null
    fi
    if xrandr --output "$out" --mode "$mode" 2>/tmp/xrandr.err; then
        echo "TMC-OK setres $1 $2"
    else
        echo "TMC-ERR setres: $(cat /tmp/xrandr.err)"
    fi
}

# Ready once both windows are mapped: from then on the desktop keeps changing.
i=0
while [ $i -lt 300 ]; do
    tree=$(xwininfo -root -tree 2>/dev/null)
    case "$tree" in *xclock*) case "$tree" in *XTerm*) break ;; esac ;; esac
    sleep 0.2
    i=$((i + 1))
done
echo "TMC-GUEST-READY $name$devices" > /dev/ttyS0
while true; do
    while read -r cmd arg1 arg2; do
        case "$cmd" in
            setres) setres "$arg1" "$arg2" > /dev/ttyS0 ;;
            ping) echo "TMC-OK ping" > /dev/ttyS0 ;;
            "") ;;
            *) echo "TMC-ERR $cmd: unknown command" > /dev/ttyS0 ;;
        esac
    done < /dev/ttyS0
    sleep 0.1
done
INIT
chmod +x "$R/init"

log "[5/5] packing the initramfs ($(du -sm "$R" | cut -f1) MiB unpacked)"
# Not compressed (cat): under TCG the kernel would spend longer inflating it than QEMU spends loading it.
guest_publish "$(echo "$TMP"/kernel/boot/vmlinuz-*)" "console=ttyS0,115200 quiet panic=-1 no_timer_check tsc=unstable" cat
log "built desktop guest $KEY in $(($(date +%s) - START)) s ($(du -m "$OUT/initrd.img" | cut -f1) MiB initramfs)"
echo "$OUT"
