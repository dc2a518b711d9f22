#!/usr/bin/env bash
# `make test`: install what is missing, build the patched QEMU and the test guest
# (both cached under ~/.cache/tmc), then run every test with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
QEMU=$(qemu-patch/build.sh | tail -1)
# The patch's proofs run a second time on an AddressSanitizer build (qemu-patch/test, OverlayProofsAsanTest).
QEMU_ASAN=$(qemu-patch/build.sh --asan | tail -1)
# ... and on the series for QEMU 10.2 (the *Qemu102Test classes).
QEMU_102=$(qemu-patch/build.sh --qemu 10.2 | tail -1)
GUEST=$(scripts/build-guest.sh | tail -1)
# The graphical desktop guest (Xorg over the std VGA) for the desktop proofs (e2e DesktopTest).
DESKTOP=$(scripts/build-desktop-guest.sh | tail -1)
PG=$(scripts/postgres.sh | tail -1)
echo "test.sh: qemu  $QEMU" >&2
echo "test.sh: qemu (ASan) $QEMU_ASAN" >&2
echo "test.sh: qemu 10.2 $QEMU_102" >&2
echo "test.sh: guest $GUEST" >&2
echo "test.sh: postgres $PG" >&2
exec scripts/with-java.sh mvn -B -ntp verify -Dtmc.qemu="$QEMU" -Dtmc.qemu.asan="$QEMU_ASAN" -Dtmc.qemu.v10_2="$QEMU_102" -Dtmc.guest="$GUEST" -Dtmc.desktop.guest="$DESKTOP" -Dtmc.stockqemu=/usr/bin/qemu-system-x86_64 -Dtmc.pg="$PG" "$@"
