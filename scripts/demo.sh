#!/usr/bin/env bash
# `make demo`: build what is missing, boot two demo VMs (the tiny test guest, two tenants), start the gateway on the
# embedded store with a fresh HS256 secret, print the URLs and ready tokens, and write .tmc/demo.json for scripts.
# Ctrl-C (or SIGTERM) stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
PORT=${TMC_DEMO_PORT:-8080}
RUN="$TOP/.tmc/run"

scripts/install-deps.sh
QEMU=$(qemu-patch/build.sh | tail -1)
GUEST=$(scripts/build-guest.sh | tail -1)

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo "demo: stopping" >&2
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$RUN"
}
trap cleanup INT TERM EXIT

rm -rf "$RUN"
mkdir -p "$RUN"
chmod 700 "$TOP/.tmc"

# vm id, tenant, VNC display number (port 5900+N)
VMS=("demo-1 acme 71" "demo-2 globex 72")
for spec in "${VMS[@]}"; do
    read -r id tenant display <<<"$spec"
    mkdir -p "$RUN/$id"
    "$QEMU" -machine pc -accel tcg -m 256 -nodefaults -vga std -display none -no-reboot \
        -device virtio-tablet-pci \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" \
        -append "$(cat "$GUEST/cmdline") tmc.name=$id" \
        -serial "file:$RUN/$id/serial.log" \
        -chardev "socket,id=qmp0,path=$RUN/$id/qmp.sock,server=on,wait=off" -mon chardev=qmp0,mode=control \
        -vnc "127.0.0.1:$display" > "$RUN/$id/qemu.log" 2>&1 &
    pids+=($!)
    echo "demo: booting $id (tenant $tenant) VNC 127.0.0.1:$((5900 + display))" >&2
done

for spec in "${VMS[@]}"; do
    read -r id _ _ <<<"$spec"
    for _ in $(seq 1 600); do
        grep -q TMC-GUEST-READY "$RUN/$id/serial.log" 2>/dev/null && break
        sleep 0.2
    done
    grep -q TMC-GUEST-READY "$RUN/$id/serial.log" || { echo "demo: $id did not boot; see $RUN/$id/" >&2; exit 1; }
    echo "demo: $id is up" >&2
done

echo
echo "tmc demo is running. Ctrl-C stops it."
for spec in "${VMS[@]}"; do
    read -r id tenant display <<<"$spec"
    echo "  $id (tenant $tenant): VNC 127.0.0.1:$((5900 + display)), QMP $RUN/$id/qmp.sock"
done
wait
