#!/usr/bin/env bash
# `make demo`: build what is missing, boot two demo VMs (the tiny test guest, two tenants), start the gateway on the
# embedded store with a fresh HS256 secret, print the URLs and ready tokens, and write .tmc/demo.json for scripts.
# Ctrl-C (or SIGTERM) stops everything it started.
#
# Environment: TMC_DEMO_PORT (gateway port, 8080), TMC_DEMO_VNC_DISPLAY (first VNC display, 71: ports 5971, 5972),
# TMC_DEMO_DIR (state: demo.json, run/, data/; default .tmc), TMC_DEMO_SKIP_BUILD=1 (use the built jar as it is),
# TMC_DEMO_VMS=libvirt (the VMs are domains of a private libvirt daemon: scripts/demo-libvirt.sh),
# TMC_DEMO_GUEST=desktop (the graphical desktop guest instead of the text one; combinable with TMC_DEMO_VMS),
# TMC_DEMO_VNC=dbus (no patched QEMU: the VMs run Debian's stock qemu-system-x86_64, or TMC_DEMO_STOCK_QEMU, with
# -display dbus and the gateway serves their screens and draws the messages itself; each VM's `vnc` address in
# demo.json is then the gateway's VNC listener for it, behind the same per-VM password: docs/dbus-display.md),
# TMC_DEMO_GATEWAYS=N (2-9: a fleet, docs/fleet.md: N gateways on a database of the project's private PostgreSQL,
# scripts/postgres.sh, behind Debian's HAProxy running docker/haproxy.cfg on TMC_DEMO_PORT; demo.json's `gateway` is
# HAProxy's URL and `gateways` lists each gateway's own URL and pid, so that scripts can stop one).
set -euo pipefail
cd "$(dirname "$0")/.."
# Every browser session holds two file descriptors in the gateway: run at the hard limit, and say what it is.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "demo: open files limit $(ulimit -n) (hard $(ulimit -Hn)); the gateway reports the sessions it leaves room for" >&2
TOP=$(pwd)
PORT=${TMC_DEMO_PORT:-8080}
DISPLAY0=${TMC_DEMO_VNC_DISPLAY:-71}
STATE=${TMC_DEMO_DIR:-$TOP/.tmc}
RUN="$STATE/run"

scripts/install-deps.sh
GATEWAYS=${TMC_DEMO_GATEWAYS:-1}
[[ "$GATEWAYS" =~ ^[1-9]$ ]] || { echo "demo: TMC_DEMO_GATEWAYS is 1-9, not '$GATEWAYS'" >&2; exit 2; }
if [ "$GATEWAYS" -gt 1 ]; then
    # D-Bus display VMs need their owner to serve the picture, and libvirt VMs are not leased yet (docs/fleet.md).
    [ -n "${TMC_DEMO_VNC:-}" ] && { echo "demo: TMC_DEMO_GATEWAYS does not combine with TMC_DEMO_VNC yet" >&2; exit 2; }
    [ -n "${TMC_DEMO_VMS:-}" ] && { echo "demo: TMC_DEMO_GATEWAYS does not combine with TMC_DEMO_VMS yet" >&2; exit 2; }
fi
DBUS=""
if [ "${TMC_DEMO_VNC:-}" = dbus ]; then
    DBUS=1
    QEMU=${TMC_DEMO_STOCK_QEMU:-/usr/bin/qemu-system-x86_64}
    "$QEMU" -display help 2>/dev/null | grep -qx dbus \
        || { echo "demo: $QEMU has no D-Bus display (Debian: apt-get install qemu-system-x86 qemu-system-common)" >&2; exit 1; }
elif [ -n "${TMC_DEMO_VNC:-}" ]; then
    echo "demo: TMC_DEMO_VNC is dbus or unset, not '$TMC_DEMO_VNC'" >&2; exit 2
else
    QEMU=$(qemu-patch/build.sh | tail -1)
fi
GUEST=$(scripts/build-guest.sh | tail -1)
DEMO_GUEST_MEMORY=256
if [ "${TMC_DEMO_GUEST:-}" = desktop ]; then # Xorg, twm, a busy xterm and xclock (scripts/build-desktop-guest.sh)
    GUEST=$(scripts/build-desktop-guest.sh | tail -1)
    DEMO_GUEST_MEMORY=1024
fi
JAR=gateway/target/tmc-gateway.jar
if [ "${TMC_DEMO_SKIP_BUILD:-}" = 1 ] && [ -f "$JAR" ]; then
    :
elif [ ! -f "$JAR" ] || [ -n "$(find pom.xml gateway web testkit -newer "$JAR" -type f \
        -not -path '*/target/*' -not -path '*/node_modules/*' 2>/dev/null | head -1)" ]; then
    echo "demo: building the gateway" >&2
    scripts/with-java.sh mvn -B -ntp -q -DskipTests -pl gateway -am package
fi

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo "demo: stopping" >&2
    if [ "${TMC_DEMO_VMS:-}" = libvirt ]; then libvirt_stop; fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$RUN" "$STATE/demo.json"
}
trap cleanup INT TERM EXIT

rm -rf "$RUN"
mkdir -p "$RUN"
chmod 700 "$STATE"
rm -f "$STATE/demo.json"

TMC_JWT_SECRET="base64:$(openssl rand -base64 32)"
export TMC_JWT_SECRET TMC_JWT_ISSUER=tmc-demo TMC_JWT_AUDIENCE=tmc
ISSUER=$TMC_JWT_ISSUER
AUDIENCE=$TMC_JWT_AUDIENCE
SECRET_B64=${TMC_JWT_SECRET#base64:}
jwt() { scripts/mint-token.sh "$1"; }

# vm id, tenant, user, VNC display number (port 5900+N), VNC password (kept by the gateway)
VMS=("demo-1 acme alice $DISPLAY0 $(openssl rand -hex 4)" "demo-2 globex bob $((DISPLAY0 + 1)) $(openssl rand -hex 4)")
if [ "${TMC_DEMO_VMS:-}" = libvirt ]; then
    . scripts/demo-libvirt.sh
    libvirt_boot
else
for spec in "${VMS[@]}"; do
    read -r id tenant user display password <<<"$spec"
    mkdir -p "$RUN/$id"
    (umask 077; printf '%s' "$password" > "$RUN/$id/vnc-password")
    # Patched QEMU: its own VNC server with the password. Stock QEMU: the D-Bus display the gateway attaches to
    # through the QMP socket; the gateway then listens on the same VNC port with the same password.
    screen=(-display none -object "secret,id=vncpw,file=$RUN/$id/vnc-password" -vnc "127.0.0.1:$display,password-secret=vncpw")
    [ -n "$DBUS" ] && screen=(-display dbus,p2p=yes)
    "$QEMU" -machine pc -accel tcg -m "$DEMO_GUEST_MEMORY" -nodefaults -vga std "${screen[@]}" -no-reboot \
        -device virtio-tablet-pci \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" \
        -append "$(cat "$GUEST/cmdline") tmc.name=$id" \
        -serial "file:$RUN/$id/serial.log" \
        -chardev "socket,id=qmp0,path=$RUN/$id/qmp.sock,server=on,wait=off" -mon chardev=qmp0,mode=control \
        > "$RUN/$id/qemu.log" 2>&1 &
    pids+=($!)
    echo "demo: booting $id (tenant $tenant) VNC 127.0.0.1:$((5900 + display))${DBUS:+ (stock QEMU, D-Bus display; VNC from the gateway)}" >&2
done
fi

for spec in "${VMS[@]}"; do
    read -r id _ <<<"$spec"
    for _ in $(seq 1 1500); do # up to 5 minutes: two desktop guests booting under TCG
        grep -q TMC-GUEST-READY "$RUN/$id/serial.log" 2>/dev/null && break
        sleep 0.2
    done
    grep -q TMC-GUEST-READY "$RUN/$id/serial.log" || { echo "demo: $id did not boot; see $RUN/$id/" >&2; exit 1; }
    echo "demo: $id is up" >&2
done


if [ "$GATEWAYS" -gt 1 ]; then
    # The fleet's database on the project's private PostgreSQL (kept, like data/ of a single gateway's store).
    DATABASE=$(TMC_PG_DATABASE="tmc_demo_$(printf '%s' "$STATE" | md5sum | cut -c1-8)" scripts/postgres.sh | tail -1)
fi

# The gateway's configuration: the VNC passwords stay here, the browser never sees them.
CONFIG="$RUN/gateway.json"
{
    if [ "$GATEWAYS" -gt 1 ]; then
        # Each gateway on a free port of its own, behind HAProxy on $PORT, which connects from 127.0.0.1.
        printf '{"listen": {"host": "127.0.0.1", "port": 0, "trustedProxies": ["127.0.0.1"]},\n'
    else
        printf '{"listen": {"host": "127.0.0.1", "port": %d},\n' "$PORT"
    fi
    printf ' "allowedOrigins": ["http://127.0.0.1:%d", "http://localhost:%d"],\n' "$PORT" "$PORT"
    printf ' "jwt": {"issuer": "%s", "audience": "%s", "hs256Secret": "base64:%s"},\n' "$ISSUER" "$AUDIENCE" "$SECRET_B64"
    if [ "$GATEWAYS" -gt 1 ]; then
        printf ' "store": {"url": "%s"},\n' "$DATABASE"
    else
        printf ' "store": {"path": "%s"},\n' "$STATE/data/tmc"
    fi
    if [ "${TMC_DEMO_VMS:-}" = libvirt ]; then
        # The VMs come from the domains' tmc metadata; their VNC passwords from the domain XML.
        printf ' "libvirt": {"uri": "%s"},\n "vms": [' "$LIBVIRT_URI"
        VMS_CONFIGURED=()
    else
        VMS_CONFIGURED=("${VMS[@]}")
    fi
    [ "${TMC_DEMO_VMS:-}" = libvirt ] || printf ' "vms": [\n'
    sep=""
    for spec in ${VMS_CONFIGURED[@]+"${VMS_CONFIGURED[@]}"}; do
        read -r id tenant user display password <<<"$spec"
        if [ -n "$DBUS" ]; then
            printf '%s  {"id": "%s", "tenant": "%s", "name": "Demo VM %s", "display": {"dbus": {"qmp": "unix:%s",' \
                "$sep" "$id" "$tenant" "${id#demo-}" "$RUN/$id/qmp.sock"
            printf ' "vncListen": "tcp:127.0.0.1:%d", "vncPassword": "%s"}}}' $((5900 + display)) "$password"
        else
        printf '%s  {"id": "%s", "tenant": "%s", "name": "Demo VM %s", "vnc": "tcp:127.0.0.1:%d",' \
            "$sep" "$id" "$tenant" "${id#demo-}" $((5900 + display))
        printf ' "vncPassword": "%s", "qmp": "unix:%s"}' "$password" "$RUN/$id/qmp.sock"
        fi
        sep=$',\n'
    done
    printf '\n ]}\n'
} > "$CONFIG"
chmod 600 "$CONFIG"

# libvirt's D-Bus display domains name their viewers' listener in their metadata; its password comes from here.
if [ -n "$DBUS" ] && [ "${TMC_DEMO_VMS:-}" = libvirt ]; then
    for spec in "${VMS[@]}"; do
        read -r id _ _ _ password <<<"$spec"
        export "TMC_VNC_PASSWORD_$(echo "$id" | tr 'a-z' 'A-Z' | tr -c 'A-Z0-9\n' '_')=$password"
    done
fi
GATEWAY="http://127.0.0.1:$PORT"
essential=("${pids[@]}") # the processes whose exit ends the demo; a fleet outlives a stopped gateway
if [ "$GATEWAYS" -gt 1 ]; then
    gw_pids=()
    gw_urls=()
    for i in $(seq 1 "$GATEWAYS"); do
        TMC_NODE="demo-g$i" scripts/with-java.sh java -jar "$JAR" --config "$CONFIG" > "$RUN/gateway-$i.log" 2>&1 &
        pids+=($!)
        gw_pids+=($!)
    done
    for i in $(seq 1 "$GATEWAYS"); do
        url=""
        for _ in $(seq 1 600); do
            url=$(sed -n 's|^tmc-gateway: listening on \(http://[^ ]*\)$|\1|p' "$RUN/gateway-$i.log" | head -1)
            [ -n "$url" ] && break
            kill -0 "${gw_pids[$((i - 1))]}" 2>/dev/null \
                || { cat "$RUN/gateway-$i.log" >&2; echo "demo: gateway $i did not start" >&2; exit 1; }
            sleep 0.2
        done
        [ -n "$url" ] || { echo "demo: gateway $i is not listening; see $RUN/gateway-$i.log" >&2; exit 1; }
        gw_urls+=("$url")
        echo "demo: gateway $i (node demo-g$i, pid ${gw_pids[$((i - 1))]}) at $url" >&2
    done
    # HAProxy from the compose fleet profile's own file: the frontend on $PORT, one server line per gateway.
    servers=""
    for i in $(seq 1 "$GATEWAYS"); do
        servers="$servers    server demo-g$i ${gw_urls[$((i - 1))]#http://}\n"
    done
    awk -v bind="    bind 127.0.0.1:$PORT" -v servers="$servers" '
        /^[^ \t#]/ { section = $0 }
        /^[ \t]+bind / && section ~ /^frontend/ { print bind; next }
        /^[ \t]+server / && section == "backend gateways" { if (!done) printf "%s", servers; done = 1; next }
        { print }' docker/haproxy.cfg > "$RUN/haproxy.cfg"
    haproxy -c -q -f "$RUN/haproxy.cfg" >&2 || { echo "demo: HAProxy refused $RUN/haproxy.cfg" >&2; exit 1; }
    haproxy -db -f "$RUN/haproxy.cfg" > "$RUN/haproxy.log" 2>&1 &
    pids+=($!)
    essential+=($!)
    echo "demo: HAProxy on $GATEWAY in front of $GATEWAYS gateways (database ${DATABASE%%\?*})" >&2
else
    scripts/with-java.sh java -jar "$JAR" --config "$CONFIG" > "$RUN/gateway.log" 2>&1 &
    pids+=($!)
    essential+=($!)
fi
for _ in $(seq 1 300); do
    curl -fsS "$GATEWAY/healthz" >/dev/null 2>&1 && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$RUN"/gateway*.log "$RUN"/haproxy*.log >&2 2>/dev/null; echo "demo: the gateway did not start" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "$GATEWAY/healthz" >/dev/null || { echo "demo: the gateway is not answering; see $RUN/gateway.log" >&2; exit 1; }

# Admin tokens belong to their own trust domain: the gateway's default admin audience is the tenants' + "-admin".
ADMIN_TOKEN=$(TMC_JWT_AUDIENCE="$AUDIENCE-admin" jwt '"sub":"demo-admin","roles":["tmc-admin"]')
{
    printf '{"gateway": "%s",\n "jwt": {"issuer": "%s", "audience": "%s", "adminAudience": "%s", "hs256Secret": "base64:%s"},\n' \
        "$GATEWAY" "$ISSUER" "$AUDIENCE" "$AUDIENCE-admin" "$SECRET_B64"
    printf ' "adminToken": "%s",\n' "$ADMIN_TOKEN"
    if [ "$GATEWAYS" -gt 1 ]; then
        printf ' "database": "%s",\n "gateways": [' "$DATABASE"
        for i in $(seq 1 "$GATEWAYS"); do
            printf '%s{"url": "%s", "pid": %d}' "$([ "$i" = 1 ] || echo ', ')" "${gw_urls[$((i - 1))]}" "${gw_pids[$((i - 1))]}"
        done
        printf '],\n'
    fi
    printf ' "vms": [\n'
    sep=""
    for spec in "${VMS[@]}"; do
        read -r id tenant user display _ <<<"$spec"
        token=$(jwt "$(printf '"sub":"%s","tenant":"%s","vms":["%s"]' "$user" "$tenant" "$id")")
        qmp="$RUN/$id/qmp.sock"
        # libvirt holds the QMP socket: name the domain and the URI its monitor is reached through.
        [ "${TMC_DEMO_VMS:-}" = libvirt ] && qmp="libvirt:tmc-$id@$LIBVIRT_URI"
        printf '%s  {"id": "%s", "tenant": "%s", "token": "%s", "vnc": "127.0.0.1:%d", "qmp": "%s"}' \
            "$sep" "$id" "$tenant" "$token" $((5900 + display)) "$qmp"
        sep=$',\n'
    done
    printf '\n ]}\n'
} > "$STATE/demo.json.tmp"
chmod 600 "$STATE/demo.json.tmp"
mv "$STATE/demo.json.tmp" "$STATE/demo.json"

echo
echo "tmc demo is running (logs in .tmc/run/). Ctrl-C stops it."
echo
echo "  Admin console:  $GATEWAY/admin#token=$ADMIN_TOKEN"
for spec in "${VMS[@]}"; do
    read -r id tenant user _ _ <<<"$spec"
    token=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([v["token"] for v in d["vms"] if v["id"]==sys.argv[2]][0])' "$STATE/demo.json" "$id")
    echo "  Console $id ($user @ $tenant):  $GATEWAY/console/$id#token=$token"
done
echo
echo "  Tokens, addresses and the HS256 secret for scripts: .tmc/demo.json"
echo "  Send a message:  curl -H \"Authorization: Bearer \$(jq -r .adminToken .tmc/demo.json)\" \\"
echo "     -H 'Content-Type: application/json' $GATEWAY/api/v1/messages \\"
echo "     -d '{\"vms\":[\"demo-1\"],\"title\":\"Maintenance\",\"body\":\"This VM reboots at 22:00.\",\"severity\":\"warning\",\"buttons\":[{\"id\":\"ok\",\"label\":\"OK\"},{\"id\":\"later\",\"label\":\"Postpone\"}]}'"
[ "$GATEWAYS" -gt 1 ] && echo "  Gateways (each one's URL and pid; stop one, the others carry on): jq .gateways .tmc/demo.json"
wait -n "${essential[@]}" || true
echo "demo: a demo process exited (logs were in .tmc/run/)" >&2
