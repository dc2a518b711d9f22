#!/usr/bin/env bash
# Build a minimal, patched qemu-system-x86_64 (x86_64 TCG + VNC) from Debian 13's
# QEMU 10.0 source package and print its absolute path on the last line.
#
#   qemu-patch/build.sh [--asan] [--dev]
#
# --asan  build with AddressSanitizer (separate cache entry)
# --dev   also keep the configured build tree (for working on the series);
#         its path is printed before the binary's
#
# The result is cached under $TMC_CACHE (default ~/.cache/tmc) keyed by the hash
# of the series, this script and the build flags, so a second run is instant.
# The system's apt configuration is never touched: the source, meson and the
# firmware come through a private apt configuration under the cache.
set -euo pipefail

QEMU_PIN="1:10.0.13+ds-0+deb13u1"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${TMC_CACHE:-$HOME/.cache/tmc}
ASAN=0
DEV=0
for arg in "$@"; do
    case "$arg" in
        --asan) ASAN=1 ;;
        --dev) DEV=1 ;;
        *) echo "build.sh: unknown argument '$arg' (use --asan, --dev)" >&2; exit 2 ;;
    esac
done

log() { echo "build.sh: $*" >&2; }
die() { echo "build.sh: error: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# --- build dependencies (Debian 12 packages) --------------------------------
DEPS="libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev pkg-config flex bison
      ninja-build python3-venv ccache dpkg-dev xz-utils gcc make git nettle-dev"
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
       --disable-docs --enable-werror --enable-trace-backends=log --enable-nettle"
[ "$ASAN" = 1 ] && FLAGS="$FLAGS --enable-asan"
shopt -s nullglob
SERIES=("$HERE"/patches/*.patch)
KEY=$( { echo "$QEMU_PIN $FLAGS"; cat "$HERE/build.sh";
         for p in "${SERIES[@]}"; do cat "$p"; done; } | sha256sum | cut -c1-16)
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

# --- sources through a private apt configuration ----------------------------
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/debs"
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || die "cannot find the machine's Debian mirror in its apt sources"
cat > "$APT/sources.list" <<EOT
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main
EOT
APTO=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
      -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/nonexistent
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root)

apt_private_update() {
    if [ -z "$(ls "$APT/lists" 2>/dev/null | grep -v partial || true)" ] || [ "${1:-}" = force ]; then
        log "updating the private apt lists (trixie)"
        apt-get "${APTO[@]}" update -qq >&2
    fi
}

SRC_DIR="$CACHE/src"
mkdir -p "$SRC_DIR"
first() { [ $# -gt 0 ] && echo "$1"; return 0; }   # first match of a glob (nullglob is on)
DSC=$(first "$SRC_DIR"/qemu_*.dsc)
if [ -z "$DSC" ]; then
    apt_private_update
    cd "$SRC_DIR"
    if ! apt-get "${APTO[@]}" source --download-only "qemu=$QEMU_PIN" >&2; then
        apt_private_update force
        log "WARNING: qemu $QEMU_PIN is gone from the archive; using the newest 10.0.x"
        v=$(apt-cache "${APTO[@]}" showsrc qemu | awk '/^Version: 1:10\.0\./ {print $2}' | sort -V | tail -1)
        [ -n "$v" ] || die "no qemu 10.0.x source in Debian 13"
        apt-get "${APTO[@]}" source --download-only "qemu=$v" >&2
    fi
    DSC=$(first "$SRC_DIR"/qemu_*.dsc)
fi

fetch_deb() { # name -> path of the .deb under $CACHE/debs
    local f
    f=$(first "$CACHE/debs/$1"_*.deb)
    if [ -z "$f" ]; then
        apt_private_update
        (cd "$CACHE/debs" && apt-get "${APTO[@]}" download "$1" >&2)
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
log "configuring ($FLAGS)"
# shellcheck disable=SC2086
../src/configure --python=/usr/bin/python3 --firmwarepath="$OUT/share/qemu" $FLAGS \
    > configure.log 2>&1 || { tail -40 configure.log >&2; die "configure failed (log: $WORK/build/configure.log)"; }

log "building qemu-system-x86_64 (about 10-15 minutes on 2 cores, cold)"
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
log "built in $(( $(date +%s) - start ))s: $KEY"
if [ "$DEV" = 1 ]; then
    echo "$WORK"
else
    rm -rf "$WORK"
fi
echo "$BIN"
