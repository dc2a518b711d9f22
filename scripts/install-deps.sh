#!/usr/bin/env bash
# Install the Debian packages tmc's build, demo and tests need (only the missing ones).
set -euo pipefail
# build: maven, the QEMU build (qemu-patch/build.sh), the test guest (scripts/build-guest.sh)
# run: fonts for the message renderer (CJK too), openssl for the demo's tokens
# test: Chromium + driver for the browser tests, PostgreSQL for the store tests, HAProxy for the fleet's load balancer
# tests and TMC_DEMO_GATEWAYS; bench: websockify
# qemu-patch tests: TigerVNC's viewer under Xvfb (screenshots with xwd, clicks with xdotool), certtool for VeNCrypt
PKGS="maven git make gcc cpio xz-utils dpkg-dev busybox-static openssl curl jq fonts-noto-cjk fonts-dejavu-core
      chromium chromium-driver postgresql haproxy websockify
      libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev pkg-config flex bison ninja-build python3-venv ccache nettle-dev
      libjpeg62-turbo-dev libpng-dev libgnutls28-dev libsasl2-dev
      tigervnc-viewer xvfb xdotool x11-apps gnutls-bin
      nodejs npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# Node and npm may come from elsewhere (e.g. NodeSource): a working command is enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -v -x -e nodejs -e npm | xargs || true)
fi
# Debian's stock QEMU for the D-Bus display backend (docs/dbus-display.md): without recommends, which would pull a
# desktop's worth of GUI and firmware packages; ui-dbus.so is in qemu-system-common. TigerVNC's viewer under Xvfb
# (TigerVncTest) comes with the packages above.
STOCK_QEMU="qemu-system-x86 qemu-system-common"
# libvirt tests (testkit's LibvirtDaemon, TMC_DEMO_VMS=libvirt): Debian's daemon, its QEMU driver and virsh, also
# without recommends (no default network, no firmware).
LIBVIRT_PKGS="libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients"
missing_stock=""
for p in $STOCK_QEMU $LIBVIRT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing_stock="$missing_stock $p"
done
if [ -n "$missing_stock" ]; then
    echo "install-deps.sh: installing$missing_stock (no recommends)" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing_stock
fi
if [ -n "$(echo "$missing" | xargs)" ]; then
    echo "install-deps.sh: installing$missing" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
