#!/usr/bin/env bash
# libvirtd-private.sh DIR: run Debian's libvirtd (QEMU driver, system mode, as root) in the foreground with its own
# configuration, socket and state, all under DIR, leaving the machine's own libvirt (if any) untouched. It runs in a
# mount namespace of its own in which DIR's subdirectories are bind-mounted over /etc/libvirt, /var/lib/libvirt,
# /run/libvirt, /var/cache/libvirt and /var/log/libvirt: domain definitions, QEMU state and logs stay in DIR.
# Clients connect with qemu+unix:///system?socket=DIR/sock/libvirt-sock. Used by scripts/demo-libvirt.sh and by the
# tests (testkit's LibvirtDaemon). Stopping the daemon leaves running QEMUs behind: destroy the domains first.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$(cd "$1" && pwd)
[ -x /usr/sbin/libvirtd ] || { echo "libvirtd-private.sh: /usr/sbin/libvirtd is missing (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$DIR"/{etc,lib,run,cache,log,sock}
cat > "$DIR/libvirtd.conf" <<CONF
unix_sock_dir = "$DIR/sock"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$DIR/libvirtd.log"
CONF
# QEMU as root without a security driver (the patched QEMU lives under the builder's home), its output to files (no
# virtlogd), no cgroups or device namespaces (containers).
cat > "$DIR/etc/qemu.conf" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
CONF
cat > "$DIR/start.sh" <<START
set -e
for d in etc:/etc/libvirt lib:/var/lib/libvirt run:/run/libvirt cache:/var/cache/libvirt log:/var/log/libvirt; do
    mkdir -p "\${d#*:}" && mount --bind "$DIR/\${d%%:*}" "\${d#*:}"
done
# Its own pid file: the default, /run/libvirtd.pid, is outside the bind mounts, so a second private daemon on the
# machine (another test, another checkout) failed with "Failed to acquire pid file".
exec /usr/sbin/libvirtd -f "$DIR/libvirtd.conf" -p "$DIR/libvirtd.pid"
START
exec unshare -m --propagation private sh "$DIR/start.sh"
