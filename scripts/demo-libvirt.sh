# Sourced by scripts/demo.sh when TMC_DEMO_VMS=libvirt: the demo VMs become domains of a private libvirt daemon
# (Debian's libvirtd, QEMU driver) whose <emulator> is the patched QEMU; the gateway finds them through their tmc
# metadata and sends messages through libvirt's qemu-monitor-command. With TMC_DEMO_VNC=dbus (DBUS set) the
# emulator is the stock QEMU with <graphics type='dbus' p2p='yes'/>: the gateway attaches through libvirt, draws the
# messages itself and listens for native viewers where the metadata's vncListen says (docs/dbus-display.md). The daemon (scripts/libvirtd-private.sh)
# keeps its configuration and state under $RUN/libvirt, so the machine's own libvirt (if any) is untouched.
#
# Uses from demo.sh: RUN, QEMU, GUEST, VMS (id tenant user display password), DBUS, pids. Sets LIBVIRT_URI.

LV="$RUN/libvirt"
LIBVIRT_URI="qemu+unix:///system?socket=$LV/sock/libvirt-sock"
virsh_() { virsh -q -c "$LIBVIRT_URI" "$@"; }

libvirt_boot() {
    mkdir -p "$LV"
    # Its own session: Ctrl-C reaches the demo script, which stops the domains before the daemon.
    setsid scripts/libvirtd-private.sh "$LV" > "$LV/libvirtd.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 150); do [ -S "$LV/sock/libvirt-sock" ] && break; sleep 0.2; done
    virsh_ version >/dev/null || { cat "$LV/libvirtd.out" >&2; echo "demo: libvirtd did not start" >&2; exit 1; }
    echo "demo: private libvirtd at $LIBVIRT_URI" >&2
    for spec in "${VMS[@]}"; do
        read -r id tenant user display password <<<"$spec"
        mkdir -p "$RUN/$id"
        (umask 077; printf '%s' "$password" > "$RUN/$id/vnc-password")
        graphics="<graphics type='vnc' port='$((5900 + display))' autoport='no' listen='127.0.0.1' passwd='$password'/>"
        listen=""
        if [ -n "${DBUS:-}" ]; then
            graphics="<graphics type='dbus' p2p='yes'/>"
            listen=" vncListen='tcp:127.0.0.1:$((5900 + display))'"
        fi
        cat > "$RUN/$id/domain.xml" <<XML
<domain type='qemu'>
  <name>tmc-$id</name>
  <metadata>
    <tmc:vm xmlns:tmc='urn:tmc:vm:1' id='$id' tenant='$tenant' name='Demo VM ${id#demo-} (libvirt)'$listen/>
  </metadata>
  <memory unit='MiB'>${DEMO_GUEST_MEMORY:-256}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinuz</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>$(cat "$GUEST/cmdline") tmc.name=$id</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>$QEMU</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$RUN/$id/serial.log'/><target port='0'/></serial>
    <input type='tablet' bus='virtio'/>
    $graphics
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
        virsh_ define "$RUN/$id/domain.xml" >/dev/null
        virsh_ start "tmc-$id" >/dev/null
        echo "demo: booting $id (tenant $tenant) as libvirt domain tmc-$id, VNC 127.0.0.1:$((5900 + display))${DBUS:+ (stock QEMU, D-Bus display; VNC from the gateway)}" >&2
    done
}

libvirt_stop() {
    for spec in "${VMS[@]}"; do
        read -r id _ <<<"$spec"
        virsh_ destroy "tmc-$id" >/dev/null 2>&1 || true
    done
    # QEMUs whose daemon is already gone: libvirt keeps their pid files in its run directory.
    for f in "$LV"/run/qemu/*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
}
