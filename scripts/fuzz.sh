#!/usr/bin/env bash
# `make fuzz`: fuzz every Jazzer target of the gateway for TMC_FUZZ_SECONDS each (default 300), then drive the
# ASan build of the patched QEMU with TMC_FUZZ_QEMU_INPUTS generated QMP overlay commands (default 100000).
#
#   make fuzz                                   # 9 targets x 5 min + the QEMU driver
#   TMC_FUZZ_SECONDS=30 make fuzz               # a quick pass
#   TMC_FUZZ_TARGETS="tmc.auth.JwtFuzzTest#tokenText" make fuzz
#
# Jazzer fuzzes one target per JVM, so each runs in its own Maven invocation. What it finds: a crash input is written
# to gateway/src/test/resources/<package>/<Class>Inputs/<method>/ and fails that run; every run's corpus
# (gateway/.cifuzz-corpus/, ignored by git) is copied there too, at most TMC_FUZZ_KEEP files (default 64, the
# smallest), so that `make test` replays the corpus and every crash as regression inputs. Commit those files.
# The summary at the end gives each target's executions and findings.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${TMC_FUZZ_SECONDS:-300}
KEEP=${TMC_FUZZ_KEEP:-64}
QEMU_INPUTS=${TMC_FUZZ_QEMU_INPUTS:-100000}
TARGETS=(${TMC_FUZZ_TARGETS:-
    tmc.rfb.RfbFuzzTest#clientMessages
    tmc.rfb.RfbFuzzTest#browserHandshake
    tmc.rfb.RfbFuzzTest#hostileVncServer
    tmc.auth.JwtFuzzTest#tokenText
    tmc.auth.JwtFuzzTest#signedJson
    tmc.api.AdminJsonFuzzTest#requestBodies
    tmc.qmp.QmpFuzzTest#lineReader
    tmc.qmp.QmpFuzzTest#hostileQmpServer})
LOGS=gateway/target/fuzz
mkdir -p "$LOGS"
# Each run builds through the reactor (-am) rather than installing snapshots into the shared ~/.m2.
MVN=(scripts/with-java.sh mvn -B -ntp -pl gateway -am test -Dsurefire.failIfNoSpecifiedTests=false)

summary=()
failed=0
for target in "${TARGETS[@]}"; do
    class=${target%#*} method=${target#*#}
    log="$LOGS/${class##*.}-$method.log"
    echo "fuzz.sh: $target for ${SECONDS_EACH}s (log: $log)" >&2
    status=0
    JAZZER_FUZZ=1 "${MVN[@]}" -Dtest="$target" -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1="-max_total_time=$SECONDS_EACH" \
        -Dtmc.excludedGroups=none >"$log" 2>&1 || status=$?
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
    findings=$(grep -cE '^== Java Exception|^==[0-9]+== ERROR' "$log" || true)
    # The corpus becomes regression inputs next to the crash inputs Jazzer wrote itself.
    corpus="gateway/.cifuzz-corpus/$class/$method"
    inputs="gateway/src/test/resources/$(dirname "${class//.//}")/${class##*.}Inputs/$method"
    if [ -d "$corpus" ]; then
        mkdir -p "$inputs"
        find "$corpus" -type f -printf '%s %p\n' | sort -n | head -n "$KEEP" | cut -d' ' -f2- |
            while read -r f; do cp "$f" "$inputs/corpus-$(basename "$f")"; done
    fi
    [ "$status" -eq 0 ] || failed=1
    summary+=("$(printf '%-46s executions=%-10s findings=%s%s' "$target" "$runs" "$findings" \
        "$([ "$status" -eq 0 ] || echo "  FAILED (see $log)")")")
done

if [ "$QEMU_INPUTS" -gt 0 ]; then
    QEMU_ASAN=$(qemu-patch/build.sh --asan | tail -1)
    GUEST=$(scripts/build-guest.sh | tail -1)
    log="$LOGS/QemuOverlayFuzz.log"
    echo "fuzz.sh: QEMU (ASan) overlay arguments and bitmaps, $QEMU_INPUTS inputs (log: $log)" >&2
    status=0
    "${MVN[@]}" -Dtest=tmc.qmp.QemuOverlayFuzz -Dtmc.excludedGroups=none \
        -Dtmc.qemu.asan="$QEMU_ASAN" -Dtmc.guest="$GUEST" -Dtmc.fuzz.qemuInputs="$QEMU_INPUTS" >"$log" 2>&1 \
        || status=$?
    line=$(grep -oE 'FUZZ qemu executions=.*' "$log" | tail -1 || true)
    [ "$status" -eq 0 ] || failed=1
    summary+=("$(printf '%-46s %s%s' "qemu vnc-overlay-add (ASan)" "${line#FUZZ qemu }" \
        "$([ "$status" -eq 0 ] || echo "  FAILED (see $log)")")")
fi

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
