#!/bin/bash
# A post-copy migration broken on purpose and recovered, with virsh only
# (no project code): the reference for what libvirt and QEMU accept, per
# stack.  One run = one sequence; everything it does and sees goes to stdout
# and to $NOVA_LAB_DIR/postcopy-recover/<stack>-<fault>-<time>.log.
#
#   tools/lab/postcopy-recover.sh                  (FAULT=abort)
#   FAULT=stream PAUSE=after tools/lab/postcopy-recover.sh
#
# The steps (the order of libvirt's QE suite, tp-libvirt
# migration/pause_postcopy_migration_and_recover):
#   1. boot a busy guest on lab-a; `virsh migrate --live --p2p --postcopy
#      --postcopy-bandwidth PB` to lab-b; `migrate-postcopy` after the first
#      pass; wait until lab-b reports the domain "running (post-copy)";
#   2. break it (FAULT):
#        abort      `virsh domjobabort --postcopy` on the source (QEMU's
#                   migrate-pause): both QEMUs stop the stream cleanly
#        stream     silent drop of the migration stream only (fault.sh
#                   partition stream); libvirt's connection kept
#        partition  silent drop of everything between the hosts
#        linkdown   carrier loss (fault.sh link-down)
#   3. a network fault lasts OUTAGE s, then is healed; PAUSE says when the
#      source gets `domjobabort --postcopy` (what a driver would do):
#        none    never: wait for libvirt/QEMU to notice by themselves
#        during  PAUSE_AFTER s into the outage
#        after   right after the heal (the pause then reaches the
#                destination QEMU, which stops too)
#   4. wait (DETECT_TIMEOUT) for the first migrate call to return; if it
#      completed, the migration survived and there is nothing to resume;
#   5. resume from the source: the same virsh migrate call (same URIs, XML,
#      flags) plus --postcopy-resume;
#   6. verdict: RECOVERED when the resume returned 0, lab-b runs the guest
#      (not post-copy), lab-a has no domain, the guest's counter kept rising
#      with no lost write and no restart, and both libvirtd processes are
#      the ones we started with; SURVIVED when no resume was needed.
#
# RESUME says which arguments the resume call repeats: "same" (the first
# call's, XML and persistence flags included), "noxml" (without --xml),
# "minimal" (--live --p2p --postcopy --postcopy-resume and the URIs only).
#
# Environment: FAULT, PAUSE (none|during|after), OUTAGE (40), RESUME (same), PAUSE_AFTER (10), HEAL_WAIT (2),
# PB post-copy bandwidth MiB/s (4), BW pre-copy bandwidth (32),
# DETECT_TIMEOUT (150), RESUME_TIMEOUT (120), KEEP=1 keeps the domains.
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || die "postcopy-recover.sh must run as root"
[ -s "$LAB_ENV_FILE" ] || die "no $LAB_ENV_FILE: run tools/lab/setup.sh first"
# shellcheck disable=SC1090
. "$LAB_ENV_FILE"

FAULT=${FAULT:-abort}
PAUSE=${PAUSE:-none}
PAUSE_AFTER=${PAUSE_AFTER:-10}
OUTAGE=${OUTAGE:-40}
HEAL_WAIT=${HEAL_WAIT:-2}
PB=${PB:-4}
BW=${BW:-32}
DETECT_TIMEOUT=${DETECT_TIMEOUT:-150}
RESUME_TIMEOUT=${RESUME_TIMEOUT:-120}
case "$FAULT" in abort|stream|partition|linkdown) ;; *) die "FAULT=abort|stream|partition|linkdown" ;; esac
case "$PAUSE" in none|during|after) ;; *) die "PAUSE=none|during|after" ;; esac
RESUME=${RESUME:-same}
case "$RESUME" in same|noxml|minimal) ;; *) die "RESUME=same|noxml|minimal" ;; esac

NAME=nova-lab-pcrecover
WORK=$LAB_DIR/postcopy-recover
mkdir -p "$WORK"
LOG=$WORK/$(lab_stack)-$FAULT-pause_$PAUSE-resume_${RESUME:-same}-$(date -u +%Y%m%dT%H%M%S).log
exec > >(tee "$LOG") 2>&1

T0=$(now_s)
say() { printf '[%6.1f s] %s\n' "$(elapsed "$T0")" "$*"; }
va() { timeout 30 virsh -q -c "$NOVA_LAB_A_URI" "$@"; }
vb() { timeout 30 virsh -q -c "$NOVA_LAB_B_URI" "$@"; }
state() { timeout 10 virsh -q -c "$1" domstate --reason "$NAME" 2>&1 | head -n1 || true; }
states() { echo "lab-a: $(state "$NOVA_LAB_A_URI") | lab-b: $(state "$NOVA_LAB_B_URI")"; }
lpid() { pid_from_file "$(host_run_dir "$1")/libvirtd.pid"; }
CON_A=$NOVA_LAB_A_CONSOLE_DIR/$NAME.log
CON_B=$NOVA_LAB_B_CONSOLE_DIR/$NAME.log
last_t() { sed -n 's/.*DIRTIER t=\([0-9][0-9]*\) .*/\1/p' "$@" 2>/dev/null | sort -n | tail -n1; }

cleanup() {
    bash "$LAB_TOOLS/fault.sh" heal >/dev/null 2>&1 || true
    bash "$LAB_TOOLS/fault.sh" link-up >/dev/null 2>&1 || true
    [ "${KEEP:-0}" = 1 ] && return 0
    local h u rc
    for h in lab-a lab-b; do
        u=$(host_uri "$h")
        timeout 30 virsh -q -c "$u" destroy "$NAME" >/dev/null 2>&1 || true
        timeout 30 virsh -q -c "$u" undefine "$NAME" >/dev/null 2>&1 && rc=0 || rc=$?
        if [ "$rc" = 124 ]; then
            # libvirt 9.0 keeps a broken post-copy job (and the domain's
            # lock) until the daemon restarts; its guests keep running.
            echo "cleanup: $h libvirtd holds $NAME's job; restarting that daemon"
            bash "$LAB_TOOLS/fault.sh" restart-libvirtd "$h" >/dev/null 2>&1 || true
            timeout 30 virsh -q -c "$u" destroy "$NAME" >/dev/null 2>&1 || true
            timeout 30 virsh -q -c "$u" undefine "$NAME" >/dev/null 2>&1 || true
        fi
    done
}
trap cleanup EXIT

echo "== post-copy recovery, plain virsh: FAULT=$FAULT PAUSE=$PAUSE RESUME=$RESUME (after ${PAUSE_AFTER}s) PB=$PB MiB/s"
echo "== stack $(lab_stack): lab-a libvirt $NOVA_LAB_A_LIBVIRT_VERSION QEMU $NOVA_LAB_A_QEMU_VERSION;" \
    "lab-b libvirt $NOVA_LAB_B_LIBVIRT_VERSION QEMU $NOVA_LAB_B_QEMU_VERSION; machine $NOVA_LAB_MACHINE_TYPE"
cleanup
rm -f "$CON_A" "$CON_B"
cat >"$WORK/$NAME.xml" <<EOF
<domain type='$NOVA_LAB_VIRT_TYPE'>
  <name>$NAME</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='$NOVA_LAB_MACHINE_TYPE'>hvm</type>
    <kernel>$NOVA_LAB_KERNEL</kernel>
    <initrd>$NOVA_LAB_INITRD</initrd>
    <cmdline>console=ttyS0 dirty_mib=128 dirty_rate=60 quiet</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$NOVA_LAB_EMULATOR</emulator>
    <serial type='file'><source path='$CON_A' append='on'/><target port='0'/></serial>
    <console type='file'><source path='$CON_A' append='on'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
va define "$WORK/$NAME.xml" >/dev/null
va start "$NAME" >/dev/null
i=0
until [ "$(last_t "$CON_A")" ] && [ "$(last_t "$CON_A")" -ge 3 ]; do
    i=$((i + 1)); [ "$i" -lt 300 ] || die "guest did not report"; sleep 0.5
done
say "guest up on lab-a: $(grep DIRTIER "$CON_A" | tail -n1)"
va dumpxml --migratable "$NAME" | sed "s#$CON_A#$CON_B#g" >"$WORK/$NAME.dest.xml"
PID_A0=$(lpid lab-a)
PID_B0=$(lpid lab-b)

# The one migrate command line; the resume repeats it with --postcopy-resume.
MIGRATE=(virsh -c "$NOVA_LAB_A_URI" migrate --live --p2p --verbose --persistent --undefinesource
    --postcopy --postcopy-bandwidth "$PB" --bandwidth "$BW" --xml "$WORK/$NAME.dest.xml"
    "$NAME" "$NOVA_LAB_B_PEER_URI" "$NOVA_LAB_B_MIGRATE_URI")
say "step 1: ${MIGRATE[*]}"
"${MIGRATE[@]}" >"$WORK/migrate1.out" 2>&1 </dev/null &
MPID=$!
sleep 6
say "migrate-postcopy: $(va migrate-postcopy "$NAME" 2>&1 || true)"
i=0
until states | grep -q 'lab-b: running (post-copy)'; do
    i=$((i + 1)); [ "$i" -lt 60 ] || { states; die "lab-b never reported post-copy"; }; sleep 0.5
done
say "in post-copy: $(states)"
sleep 3
say "before the fault: $(states); guest t=$(last_t "$CON_A" "$CON_B")"
T_BEFORE=$(last_t "$CON_A" "$CON_B")

say "step 2: fault $FAULT"
case "$FAULT" in
    abort) say "domjobabort --postcopy (source): $(va domjobabort --postcopy "$NAME" 2>&1; echo "rc=$?")" ;;
    stream) bash "$LAB_TOOLS/fault.sh" partition stream ;;
    partition) bash "$LAB_TOOLS/fault.sh" partition all ;;
    linkdown) bash "$LAB_TOOLS/fault.sh" link-down ;;
esac
T_FAULT=$(now_s)

# observe SECONDS: log every change of the two domain states.
LAST_STATES=""
observe() {
    local until_s=$1
    while awk -v e="$(elapsed "$T_FAULT")" -v t="$until_s" 'BEGIN { exit !(e < t) }'; do
        s=$(states)
        [ "$s" = "$LAST_STATES" ] || { say "states: $s"; LAST_STATES=$s; }
        if [ "$PAUSE" = during ] && [ "$paused" = 0 ] &&
            awk -v e="$(elapsed "$T_FAULT")" -v p="$PAUSE_AFTER" 'BEGIN { exit !(e >= p) }'; then
            paused=1
            say "domjobabort --postcopy (source, network still broken): $(va domjobabort --postcopy "$NAME" 2>&1; echo "rc=$?")"
        fi
        [ "${STOP_WHEN_RETURNED:-0}" = 1 ] && ! kill -0 "$MPID" 2>/dev/null && return 0
        sleep 1
    done
}
paused=0
if [ "$FAULT" != abort ]; then
    say "step 3: outage of $OUTAGE s"
    observe "$OUTAGE"
    say "step 4: heal"
    bash "$LAB_TOOLS/fault.sh" heal >/dev/null
    bash "$LAB_TOOLS/fault.sh" link-up >/dev/null
    sleep "$HEAL_WAIT"
    say "after heal: $(states)"
    if [ "$PAUSE" = after ]; then
        say "domjobabort --postcopy (source, network back): $(va domjobabort --postcopy "$NAME" 2>&1; echo "rc=$?")"
    fi
fi
say "step 4b: wait (up to $DETECT_TIMEOUT s) for the first call to return"
STOP_WHEN_RETURNED=1 observe "$(awk -v e="$(elapsed "$T_FAULT")" -v d="$DETECT_TIMEOUT" 'BEGIN { print e + d }')"
if kill -0 "$MPID" 2>/dev/null; then
    say "first migrate call still running after $DETECT_TIMEOUT s more"
    rc1=running
else
    wait "$MPID" 2>/dev/null && rc1=0 || rc1=$?
fi
say "first migrate call: rc=$rc1: $(tr '\n' ' ' <"$WORK/migrate1.out" | tail -c 200)"
say "states: $(states)"
say "source job: $(va domjobinfo "$NAME" 2>&1 | grep -E 'Job type|Operation|Memory remaining' | tr -s ' ' | paste -sd' ')"

case "$RESUME" in
    same) RESUME_CMD=("${MIGRATE[@]}" --postcopy-resume) ;;
    noxml) RESUME_CMD=(virsh -c "$NOVA_LAB_A_URI" migrate --live --p2p --verbose --persistent
        --undefinesource --postcopy --postcopy-resume
        "$NAME" "$NOVA_LAB_B_PEER_URI" "$NOVA_LAB_B_MIGRATE_URI") ;;
    minimal) RESUME_CMD=(virsh -c "$NOVA_LAB_A_URI" migrate --live --p2p --verbose
        --postcopy --postcopy-resume "$NAME" "$NOVA_LAB_B_PEER_URI" "$NOVA_LAB_B_MIGRATE_URI") ;;
esac
if [ "$rc1" = 0 ]; then
    say "step 5: nothing to resume: the first call completed"
    rc2=0
    VERDICT_OK=SURVIVED
else
    say "step 5: resume: ${RESUME_CMD[*]}"
    T_RES=$(now_s)
    timeout "$RESUME_TIMEOUT" "${RESUME_CMD[@]}" >"$WORK/migrate2.out" 2>&1 </dev/null && rc2=0 || rc2=$?
    say "resume call: rc=$rc2 after $(elapsed "$T_RES") s: $(tr '\n' ' ' <"$WORK/migrate2.out" | tail -c 200)"
    VERDICT_OK=RECOVERED
fi

say "step 6: verdict"
i=0
until states | grep -q 'lab-b: running (migrated)\|lab-b: running (unpaused)\|lab-b: running (booted)'; do
    i=$((i + 1)); [ "$i" -lt 30 ] || break; sleep 1
done
FINAL=$(states)
say "final: $FINAL"
sleep 4
T_AFTER=$(last_t "$CON_B")
RESTART=$(grep -c 'DIRTIER start\|LABGUEST dirtier exited' "$CON_A" "$CON_B" 2>/dev/null | awk -F: '{ s += $2 } END { print s + 0 }')
CORRUPT=$(grep -c 'DIRTIER CORRUPT\|Kernel panic\|Oops' "$CON_B" 2>/dev/null || true)
PID_A1=$(lpid lab-a)
PID_B1=$(lpid lab-b)
say "guest: t before fault ${T_BEFORE:-?}, t now on lab-b ${T_AFTER:-none}; starts seen $RESTART (1 = no restart); damage lines ${CORRUPT:-0}"
say "libvirtd lab-a $PID_A0 -> ${PID_A1:-dead}; lab-b $PID_B0 -> ${PID_B1:-dead}"
for h in lab-a lab-b; do
    if ! pid_matches "$(lpid "$h")" libvirtd; then
        say "$h libvirtd is DEAD; kernel log:"
        dmesg 2>/dev/null | grep -i 'libvirtd\|segfault' | tail -n 3 || true
        bash "$LAB_TOOLS/fault.sh" start-libvirtd "$h" || true
    fi
done
for h in lab-a lab-b; do
    echo "---- $h libvirtd.log errors since the fault (last 8) ----"
    grep -E ' error : | warning : ' "$(host_log_dir "$h")/libvirtd.log" | tail -n 8 || true
    echo "---- $h qemu/$NAME.log (last 6) ----"
    tail -n 6 "$(host_log_dir "$h")/qemu/$NAME.log" 2>/dev/null || true
done
if [ "$rc2" = 0 ] && echo "$FINAL" | grep -q 'lab-b: running (' && ! echo "$FINAL" | grep -q 'post-copy' &&
    echo "$FINAL" | grep -q 'lab-a: error: failed to get domain' &&
    [ "${T_AFTER:-0}" -gt "${T_BEFORE:-0}" ] && [ "$RESTART" = 1 ] && [ "${CORRUPT:-0}" = 0 ] &&
    [ "$PID_A0" = "$PID_A1" ] && [ "$PID_B0" = "$PID_B1" ]; then
    say "VERDICT: $VERDICT_OK (stack $(lab_stack), FAULT=$FAULT PAUSE=$PAUSE)"
    echo "log: $LOG"
    exit 0
fi
say "VERDICT: NOT RECOVERED (stack $(lab_stack), FAULT=$FAULT PAUSE=$PAUSE)"
echo "log: $LOG"
exit 1
