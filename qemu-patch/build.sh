#!/usr/bin/env bash
# Build a minimal, patched qemu-system-x86_64 (x86_64 TCG + VNC with the VNC
# features Debian's QEMU has: JPEG, PNG, GnuTLS, SASL) from a Debian QEMU
# source package and print its absolute path on the last line.
#
#   qemu-patch/build.sh [--asan] [--qemu 10.0|10.2] [--dev]
#
# --qemu  which QEMU and series: 10.0 (default; Debian 13's source, patches/)
#         or 10.2 (Debian unstable's source, patches-10.2/)
# --asan  build with AddressSanitizer (separate cache entry)
# --dev   also keep the configured build tree (for working on the series);
#         its path is printed before the binary's
#
# The result is cached under $TMC_CACHE (default ~/.cache/tmc) keyed by the hash
# of the QEMU version, the series, this script and the build flags, so a second
# run is instant. The system's apt configuration is never touched: the source,
# meson and the firmware come through private apt configurations under the cache.
set -euo pipefail
T0=$(date +%s)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${TMC_CACHE:-$HOME/.cache/tmc}
ASAN=0
DEV=0
QEMU=10.0
while [ $# -gt 0 ]; do
    case "$1" in
        --asan) ASAN=1 ;;
        --dev) DEV=1 ;;
        --qemu)
            [ $# -ge 2 ] || { echo "build.sh: --qemu needs a version (10.0 or 10.2)" >&2; exit 2; }
            QEMU=$2; shift ;;
        --qemu=*) QEMU=${1#--qemu=} ;;
        *) echo "build.sh: unknown argument '$1' (use --asan, --qemu 10.0|10.2, --dev)" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "build.sh: $*" >&2; }
die() { echo "build.sh: error: $*" >&2; exit 1; }

# Each QEMU version: the Debian source version tested (pinned; the newest of the
# same x.y is used when Debian has dropped it), the suite serving it, the series.
case "$QEMU" in
    10.0) QEMU_PIN="1:10.0.13+ds-0+deb13u1"; SUITE=trixie; SERIES_DIR="$HERE/patches" ;;
    10.2) QEMU_PIN="1:10.2.2+ds-1"; SUITE=sid; SERIES_DIR="$HERE/patches-10.2" ;;
    *) echo "build.sh: unknown QEMU version '$QEMU' (use 10.0 or 10.2)" >&2; exit 2 ;;
esac

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# --- build dependencies (Debian 12 packages) --------------------------------
DEPS="libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev pkg-config flex bison
      ninja-build python3-venv ccache dpkg-dev xz-utils gcc make git nettle-dev
      libjpeg62-turbo-dev libpng-dev libgnutls28-dev libsasl2-dev"
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $DEPS 2>/dev/null |
          awk '$NF != "installed" {print $1}'; for p in $DEPS; do
          dpkg-query -W "$p" >/dev/null 2>&1 || echo "$p"; done)
missing=$(echo "$missing" | sort -u | xargs)
if [ -n "$missing" ]; then
    log "installing build dependencies: $missing"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
fi

# --- cache key --------------------------------------------------------------
FLAGS="--target-list=x86_64-softmmu --without-default-features --enable-pixman
       --enable-vnc --enable-tcg --enable-fdt=system --disable-install-blobs
       --disable-docs --enable-werror --enable-trace-backends=log --enable-nettle
       --enable-gnutls --enable-vnc-jpeg --enable-png --enable-vnc-sasl"
[ "$ASAN" = 1 ] && FLAGS="$FLAGS --enable-asan"
shopt -s nullglob
SERIES=("$SERIES_DIR"/*.patch)
[ ${#SERIES[@]} -gt 0 ] || die "no patches in $SERIES_DIR"
KEY=$( { echo "$QEMU_PIN $FLAGS"; cat "$HERE/build.sh";
         for p in "${SERIES[@]}"; do cat "$p"; done; } | sha256sum | cut -c1-16)
[ "$QEMU" = 10.0 ] || KEY="$KEY-$QEMU"
[ "$ASAN" = 1 ] && KEY="$KEY-asan"
OUT="$CACHE/qemu/$KEY"
BIN="$OUT/bin/qemu-system-x86_64"

# One build per key at a time: a second run waits, then finds the cache.
mkdir -p "$CACHE/qemu"
exec 9>"$CACHE/qemu/$KEY.lock"
if ! flock -n 9; then
    log "another build.sh is building $KEY; waiting for it"
    flock 9
fi

if [ -x "$BIN" ] && [ "$DEV" = 0 ]; then
    log "cached build $KEY"
    echo "$BIN"
    exit 0
fi

# --- sources through private apt configurations -----------------------------
# $CACHE/apt serves Debian 13 (trixie): meson, the firmware and the 10.0 source.
# $CACHE/apt-sid holds unstable's source list only: the 10.2 source.
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || die "cannot find the machine's Debian mirror in its apt sources"
SIGNED="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"

private_apt() { # dir, then the lines of its sources.list
    local dir=$1
    shift
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    printf '%s\n' "$@" > "$dir/sources.list"
}
papt() { # dir, apt-get or apt-cache, then its arguments
    local dir=$1 tool=$2
    shift 2
    "$tool" -o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" \
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/nonexistent \
        -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}
papt_update() { # dir [force]: fetch the lists the first time (or when forced)
    if [ -z "$(ls "$1/lists" 2>/dev/null | grep -v partial || true)" ] || [ "${2:-}" = force ]; then
        log "updating the private apt lists ($(sed -n '1s/.* \([a-z]*\) main$/\1/p' "$1/sources.list"))"
        papt "$1" apt-get update -qq >&2
    fi
}

APT="$CACHE/apt"
private_apt "$APT" "deb-src $SIGNED $MIRROR trixie main" "deb $SIGNED $MIRROR trixie main"
if [ "$SUITE" = trixie ]; then
    SRC_APT=$APT
else
    SRC_APT="$CACHE/apt-$SUITE"
    private_apt "$SRC_APT" "deb-src $SIGNED $MIRROR $SUITE main"
fi
mkdir -p "$CACHE/debs"

SRC_DIR="$CACHE/src"
mkdir -p "$SRC_DIR"
first() { [ $# -gt 0 ] && echo "$1"; return 0; }   # first match of a glob (nullglob is on)
DSC="$SRC_DIR/qemu_${QEMU_PIN#1:}.dsc"
if [ ! -f "$DSC" ]; then
    papt_update "$SRC_APT"
    cd "$SRC_DIR"
    if ! papt "$SRC_APT" apt-get source --download-only "qemu=$QEMU_PIN" >&2; then
        papt_update "$SRC_APT" force
        v=$(papt "$SRC_APT" apt-cache showsrc qemu | awk '/^Version:/ {print $2}' |
            grep "^1:${QEMU//./\\.}\." | sort -V | tail -1 || true)
        [ -n "$v" ] || die "no qemu $QEMU.x source in Debian $SUITE"
        log "WARNING: qemu $QEMU_PIN is gone from Debian $SUITE; using the newest $QEMU.x: $v"
        [ -f "$SRC_DIR/qemu_${v#1:}.dsc" ] || papt "$SRC_APT" apt-get source --download-only "qemu=$v" >&2
        DSC="$SRC_DIR/qemu_${v#1:}.dsc"
    fi
    [ -f "$DSC" ] || die "the qemu source download left no $(basename "$DSC")"
fi

fetch_deb() { # name -> path of the .deb under $CACHE/debs (from Debian 13)
    local f
    f=$(first "$CACHE/debs/$1"_*.deb)
    if [ -z "$f" ]; then
        papt_update "$APT"
        (cd "$CACHE/debs" && papt "$APT" apt-get download "$1" >&2)
        f=$(first "$CACHE/debs/$1"_*.deb)
        [ -n "$f" ] || die "could not download $1 from Debian 13"
    fi
    echo "$f"
}

MESON_ROOT="$CACHE/meson-root"
if [ ! -d "$MESON_ROOT/usr/lib/python3/dist-packages/mesonbuild" ]; then
    rm -rf "$MESON_ROOT"
    dpkg-deb -x "$(fetch_deb meson)" "$MESON_ROOT"
fi
export PYTHONPATH="$MESON_ROOT/usr/lib/python3/dist-packages"

# --- unpack, patch, configure, build ----------------------------------------
WORK="$CACHE/build/$KEY"
rm -rf "$WORK"
mkdir -p "$WORK"
log "unpacking $(basename "$DSC")"
(cd "$WORK" && dpkg-source --no-check -x "$DSC" src >/dev/null)

for p in "${SERIES[@]}"; do
    log "applying $(basename "$p")"
    (cd "$WORK/src" && git apply --whitespace=nowarn "$p") ||
        die "patch $(basename "$p") does not apply to $(basename "$DSC" .dsc)"
done

mkdir -p "$WORK/build" "$OUT.tmp/share/qemu"
cd "$WORK/build"
# ccache with the build tree as base directory: a series change (new key, new
# tree) recompiles only the files the series touches.
export CCACHE_DIR="$CACHE/ccache" CCACHE_BASEDIR="$WORK" CCACHE_NOHASHDIR=true
log "configuring QEMU $QEMU ($(basename "$DSC" .dsc)): $(echo $FLAGS)"
# shellcheck disable=SC2086
../src/configure --cc="ccache cc" --python=/usr/bin/python3 --firmwarepath="$OUT/share/qemu" $FLAGS \
    > configure.log 2>&1 || { tail -40 configure.log >&2; die "configure failed (log: $WORK/build/configure.log)"; }

log "building qemu-system-x86_64 (about 10-15 minutes on 2 cores, cold; a few with a warm ccache)"
start=$(date +%s)
ninja -j"$(nproc)" qemu-system-x86_64 2>&1 | tee ninja.log | awk -v start="$start" '
    /^\[[0-9]+\/[0-9]+\]/ {
        split(substr($1, 2), a, "/"); n = a[1]; total = a[2] + 0
        pct = int(100 * n / total)
        if (pct >= last + 5 || n == total) {
            last = pct
            printf "build.sh: [%3d%%] %d/%d steps, %ds\n", pct, n, total, systime() - start > "/dev/stderr"
        }
        next
    }
    { print > "/dev/stderr" }'
[ "${PIPESTATUS[0]}" = 0 ] || die "build failed (log: $WORK/build/ninja.log)"

# --- firmware and keymaps from Debian's seabios and qemu-system-data --------
FW="$CACHE/firmware"
if [ ! -f "$FW/usr/share/seabios/bios-256k.bin" ] || [ ! -d "$FW/usr/share/qemu/keymaps" ]; then
    rm -rf "$FW"
    dpkg-deb -x "$(fetch_deb seabios)" "$FW"
    dpkg-deb -x "$(fetch_deb qemu-system-data)" "$FW"
fi
cp -L "$FW"/usr/share/seabios/*.bin "$OUT.tmp/share/qemu/"
cp -rL "$FW/usr/share/qemu/keymaps" "$OUT.tmp/share/qemu/"
for f in "$FW"/usr/share/qemu/*.bin "$FW"/usr/share/qemu/*.rom; do
    [ -e "$f" ] && cp -L "$f" "$OUT.tmp/share/qemu/" 2>/dev/null || true
done

mkdir -p "$OUT.tmp/bin"
cp qemu-system-x86_64 "$OUT.tmp/bin/"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
log "built in $(( $(date +%s) - start ))s ($(( $(date +%s) - T0 ))s in all): $KEY"
if [ "$DEV" = 1 ]; then
    echo "$WORK"
else
    rm -rf "$WORK"
fi
echo "$BIN"
