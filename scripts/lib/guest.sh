# Sourced by scripts/build-guest.sh and scripts/build-desktop-guest.sh: what building a cached test guest takes
# either way. The including script sets HERE (its own directory) first.
#
#   guest_begin SCRIPT KIND LABEL  sets CACHE, KEY (the hash of SCRIPT and of this file) and OUT ($CACHE/KIND/KEY);
#                                  prints OUT and exits when that guest is built, else holds the key's lock until
#                                  the script exits (two builds of one key wait for each other, then reuse it)
#   guest_tools "TOOLS" "PACKAGES" installs the Debian PACKAGES when one of the TOOLS is missing
#   guest_publish KERNEL CMDLINE COMPRESS...
#                                  packs "$R" (the initramfs tree) through COMPRESS (e.g. gzip -1, or cat) with
#                                  KERNEL and the kernel command line into OUT, atomically
# log, die and as_root say what they do, under SCRIPT's name.

GUEST_SCRIPT=guest
log() { echo "$GUEST_SCRIPT: $*" >&2; }
die() { echo "$GUEST_SCRIPT: error: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

guest_built() { [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ]; }

guest_begin() {
    GUEST_SCRIPT=$1
    local kind=$2 label=$3
    CACHE=${TMC_CACHE:-$HOME/.cache/tmc}
    KEY=$(cat "$HERE/$GUEST_SCRIPT" "$HERE/lib/guest.sh" | sha256sum | cut -c1-16)
    OUT="$CACHE/$kind/$KEY"
    if guest_built; then
        log "cached $label $KEY"
        echo "$OUT"
        exit 0
    fi
    mkdir -p "$CACHE/$kind"
    exec 9> "$CACHE/$kind/$KEY.lock"
    flock 9
    if guest_built; then
        log "cached $label $KEY (built while this one waited)"
        echo "$OUT"
        exit 0
    fi
}

guest_tools() {
    local tool
    for tool in $1; do
        command -v "$tool" >/dev/null || {
            as_root apt-get update -qq >&2
            # shellcheck disable=SC2086 # a list of package names
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $2 >&2
            break
        }
    done
}

guest_publish() {
    local kernel=$1 cmdline=$2
    shift 2
    mkdir -p "$OUT.tmp"
    cp "$kernel" "$OUT.tmp/vmlinuz"
    (cd "$R" && find . | cpio -o -H newc --quiet | "$@") > "$OUT.tmp/initrd.img"
    echo "$cmdline" > "$OUT.tmp/cmdline"
    rm -rf "$OUT"
    mv "$OUT.tmp" "$OUT"
}
