#!/bin/bash
# Smoke test of the two-host lab with virsh only: real peer-to-peer live
# migrations of a kernel+initramfs guest running the dirtier.
#
# Cases (SMOKE_CASES, default "idle autoconverge postcopy"):
#   idle         dirty_rate=20, 64 MiB area, --bandwidth 100: lab-a -> lab-b,
#                then back lab-b -> lab-a
#   autoconverge dirty_rate=60, 128 MiB area, --bandwidth 32 --auto-converge
#   postcopy     dirty_rate=60, 128 MiB area, --bandwidth 32 --postcopy, then
#                `virsh migrate-postcopy` after the first memory pass
#   precopy      (opt-in) dirty_rate=60, --bandwidth 32, no help: expected
#                not to converge; aborted after SMOKE_PRECOPY_TIMEOUT s and
#                the guest must still run on the source
#
# Each case checks: the domain runs on the destination and is gone from the
# source, and the dirtier keeps printing (serial file on the destination).
# Results and timings go to stdout and $NOVA_LAB_DIR/smoke-results.txt.
# Exits non-zero when a case fails.
#
# Environment: SMOKE_CASES, SMOKE_AC_TIMEOUT (default 240 s),
# SMOKE_PC_TIMEOUT (180 s), SMOKE_PRECOPY_TIMEOUT (30 s),
# SMOKE_POSTCOPY_AFTER (max seconds before switching, default 8),
# SMOKE_BUSY_MIB/SMOKE_BUSY_RATE/SMOKE_BUSY_BW (128/60/32) for the busy cases,
# SMOKE_GUEST_ARGS extra guest kernel parameters (e.g. tlb_kick_ms=0),
# SMOKE_CPU_LOAD=N busy loops on the machine meanwhile (default 0),
# SMOKE_KEEP=1 leaves each case's domain running.
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -s "$LAB_ENV_FILE" ] || die "no $LAB_ENV_FILE: run tools/lab/setup.sh first"
# shellcheck disable=SC1090
. "$LAB_ENV_FILE"
"$LAB_TOOLS/status.sh" >/dev/null || { "$LAB_TOOLS/status.sh" || true; die "lab is not up"; }

CASES=${SMOKE_CASES:-idle autoconverge postcopy}
AC_TIMEOUT=${SMOKE_AC_TIMEOUT:-240}
PC_TIMEOUT=${SMOKE_PC_TIMEOUT:-180}
PRECOPY_TIMEOUT=${SMOKE_PRECOPY_TIMEOUT:-30}
POSTCOPY_AFTER=${SMOKE_POSTCOPY_AFTER:-8}
BUSY_MIB=${SMOKE_BUSY_MIB:-128}
BUSY_RATE=${SMOKE_BUSY_RATE:-60}
BUSY_BW=${SMOKE_BUSY_BW:-32}
WORK=$LAB_DIR/smoke
RESULTS=$LAB_DIR/smoke-results.txt
mkdir -p "$WORK"
: >"$RESULTS"
FAILED=0

uri() { eval "echo \$NOVA_LAB_$(host_letter "$1")_URI"; }
peer_uri() { eval "echo \$NOVA_LAB_$(host_letter "$1")_PEER_URI"; }
mig_uri() { eval "echo \$NOVA_LAB_$(host_letter "$1")_MIGRATE_URI"; }
console_dir() { eval "echo \$NOVA_LAB_$(host_letter "$1")_CONSOLE_DIR"; }
v() { local h=$1; shift; virsh -q -c "$(uri "$h")" "$@"; }

result() {
    echo "RESULT $*" | tee -a "$RESULTS"
}

# Domain XML: kernel/initrd boot, no disk, no NIC, no balloon, serial to a
# file under the host's console dir (same path from every namespace).
make_xml() {
    local name=$1 host=$2 mib=$3 rate=$4
    cat <<EOF
<domain type='$NOVA_LAB_VIRT_TYPE'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='${NOVA_LAB_MACHINE_TYPE:-pc}'>hvm</type>
    <kernel>$NOVA_LAB_KERNEL</kernel>
    <initrd>$NOVA_LAB_INITRD</initrd>
    <cmdline>console=ttyS0 dirty_mib=$mib dirty_rate=$rate quiet${SMOKE_GUEST_ARGS:+ $SMOKE_GUEST_ARGS}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$NOVA_LAB_EMULATOR</emulator>
    <serial type='file'>
      <source path='$(console_dir "$host")/$name.log' append='on'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$(console_dir "$host")/$name.log' append='on'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

cleanup_dom() {
    local name=$1 h
    for h in $LAB_HOSTS; do
        v "$h" destroy "$name" >/dev/null 2>&1 || true
        v "$h" undefine "$name" >/dev/null 2>&1 || true
        rm -f "$(console_dir "$h")/$name.log"
    done
}

# last_t FILE: highest DIRTIER t= seen in FILE (or -1).
last_t() {
    local t
    t=$(sed -n 's/.*DIRTIER t=\([0-9][0-9]*\) .*/\1/p' "$1" 2>/dev/null | sort -n | tail -n1)
    echo "${t:--1}"
}

# wait_t FILE ABOVE TIMEOUT: wait for a DIRTIER t= line with t > ABOVE.
wait_t() {
    local f=$1 above=$2 tmo=$3 i=0
    while [ "$i" -lt $((tmo * 5)) ]; do
        [ "$(last_t "$f")" -gt "$above" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

dump_logs() {
    local name=$1 h d
    for h in $LAB_HOSTS; do
        d=$(host_log_dir "$h")
        echo "---- $h libvirtd.log (tail) ----"
        tail -n 15 "$d/libvirtd.log" 2>/dev/null || true
        echo "---- $h qemu/$name.log (tail) ----"
        tail -n 15 "$d/qemu/$name.log" 2>/dev/null || true
    done
}

# boot_guest NAME HOST MIB RATE: define + start, wait for the dirtier.
boot_guest() {
    local name=$1 host=$2 mib=$3 rate=$4 t0 f
    f=$(console_dir "$host")/$name.log
    cleanup_dom "$name"
    make_xml "$name" "$host" "$mib" "$rate" >"$WORK/$name.xml"
    t0=$(now_s)
    v "$host" define "$WORK/$name.xml" >/dev/null
    v "$host" start "$name" >/dev/null
    # Two reports after start (after calibration when the guest dirties).
    if ! wait_t "$f" 1 120 || ! wait_t "$f" "$(last_t "$f")" 30; then
        echo "---- console $f ----"; cat "$f" 2>/dev/null || true
        dump_logs "$name"
        die "$name: the dirtier did not report on $host within 150 s"
    fi
    log "$name: booted on $host, dirtier reporting after $(elapsed "$t0") s: $(grep 'DIRTIER' "$f" | tail -n1)"
}

# jobinfo HOST NAME: one-line summary of the running migration job.
jobinfo() {
    v "$1" domjobinfo "$2" 2>/dev/null | awk -F: '
        function val(s) { sub(/^ +/, "", s); gsub(/ +/, " ", s); return s }
        /^Time elapsed:/ {te=val($2)}
        /^Memory remaining:/ {mr=val($2)}
        /^Iteration:/ {it=val($2)}
        /^Dirty rate:/ {dr=val($2)}
        /^Auto converge throttle:/ {th=val($2)}
        /^Memory bandwidth:/ {bw=val($2)}
        /^Postcopy requests:/ {pr=val($2)}
        END {
            if (te == "") exit
            printf "elapsed=%s iter=%s remaining=%s dirty=%s bw=%s", te, it, mr, dr, bw
            if (th != "") printf " throttle=%s", th
            if (pr != "") printf " postcopy_requests=%s", pr
        }'
}

# migrate NAME SRC DST BW TIMEOUT MODE [virsh flags...]
# MODE: plain | postcopy (switch with migrate-postcopy).  Sets MIG_RC,
# MIG_SECS, MIG_NOTE.
migrate() {
    local name=$1 src=$2 dst=$3 bw=$4 tmo=$5 mode=$6
    shift 6
    local out=$WORK/$name.$src-$dst.migrate.out dxml=$WORK/$name.$dst.xml pid t0 el
    local switched=0 aborted=0 last_info="" info it
    v "$src" dumpxml --migratable "$name" |
        sed "s#$(console_dir "$src")/#$(console_dir "$dst")/#g" >"$dxml"
    t0=$(now_s)
    virsh -c "$(uri "$src")" migrate --live --p2p --verbose --persistent --undefinesource \
        --xml "$dxml" "$@" "$name" "$(peer_uri "$dst")" "$(mig_uri "$dst")" --bandwidth "$bw" \
        >"$out" 2>&1 </dev/null &
    pid=$!
    MIG_NOTE=""
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        el=$(elapsed "$t0")
        info=$(jobinfo "$src" "$name" || true)
        if [ -n "$info" ] && [ "$info" != "$last_info" ]; then
            echo "    [$el s] $info"
            last_info=$info
        fi
        if [ "$mode" = postcopy ] && [ "$switched" = 0 ]; then
            it=$(echo "$info" | sed -n 's/.*iter=\([0-9]*\).*/\1/p')
            if [ "${it:-0}" -ge 2 ] || awk -v e="$el" -v m="$POSTCOPY_AFTER" 'BEGIN{exit !(e >= m)}'; then
                if v "$src" migrate-postcopy "$name" >/dev/null 2>"$WORK/$name.postcopy.err"; then
                    switched=1
                    MIG_NOTE="switched to post-copy at ${el}s (iteration ${it:-?})"
                    echo "    [$el s] migrate-postcopy issued"
                fi
            fi
        fi
        if [ "$aborted" = 0 ] && awk -v e="$el" -v m="$tmo" 'BEGIN{exit !(e >= m)}'; then
            echo "    [$el s] timeout: virsh domjobabort"
            v "$src" domjobabort "$name" >/dev/null 2>&1 || true
            aborted=1
            MIG_NOTE="aborted after ${tmo}s; last: $last_info"
        fi
    done
    MIG_RC=0
    wait "$pid" || MIG_RC=$?
    MIG_SECS=$(elapsed "$t0")
    if [ "$MIG_RC" != 0 ]; then
        tr '\r' '\n' <"$out" | grep -v '^Migration: \[' | grep -v '^$' | sed 's/^/    virsh: /' || true
    fi
}

# check_moved NAME SRC DST: running on DST, gone from SRC, dirtier continues.
check_moved() {
    local name=$1 src=$2 dst=$3 state t_src
    state=$(v "$dst" domstate "$name" 2>/dev/null || echo missing)
    [ "$state" = running ] || { echo "    $name state on $dst: $state"; return 1; }
    if v "$src" list --all --name 2>/dev/null | grep -qx "$name"; then
        echo "    $name still present on $src"
        return 1
    fi
    t_src=$(last_t "$(console_dir "$src")/$name.log")
    # Three new reports on the destination, no guest oops/panic, no lost page.
    if ! wait_t "$(console_dir "$dst")/$name.log" $((t_src + 2)) 30; then
        echo "    no new DIRTIER lines on $dst after t=$t_src"
        guest_oops "$(console_dir "$dst")/$name.log" || true
        return 1
    fi
    if guest_oops "$(console_dir "$dst")/$name.log"; then
        return 1
    fi
    # The destination's file only ever continues the guest: a boot banner
    # or a program start there means the guest (or its program) restarted,
    # which a counter that climbs again would hide.
    if grep -qE 'LABGUEST init up|DIRTIER start' "$(console_dir "$dst")/$name.log"; then
        echo "    GUEST RESTARTED on $dst (t was $t_src on $src):"
        grep -E 'LABGUEST|DIRTIER start' "$(console_dir "$dst")/$name.log" | head -n 4 | sed 's/^/      /'
        return 1
    fi
    if grep -q 'DIRTIER CORRUPT' "$(console_dir "$dst")/$name.log"; then
        echo "    the dirtier found lost page updates on $dst:"
        grep 'DIRTIER CORRUPT' "$(console_dir "$dst")/$name.log" | head -n 3 | sed 's/^/      /'
        return 1
    fi
    echo "    on $dst: $(grep DIRTIER "$(console_dir "$dst")/$name.log" | tail -n1) (last on $src: t=$t_src)"
}

# guest_oops FILE: true (and prints it) when the guest kernel reported a bug.
guest_oops() {
    local f=$1
    if grep -qE 'Kernel panic|BUG:|Oops|general protection fault|LABGUEST dirtier exited' "$f" 2>/dev/null; then
        echo "    GUEST KERNEL PROBLEM in $f:"
        grep -E 'Kernel panic|BUG:|Oops|general protection fault|RIP:|LABGUEST' "$f" | head -n 8 | sed 's/^/      /'
        return 0
    fi
    return 1
}

downtime() {
    local d
    d=$(v "$1" domjobinfo --completed "$2" 2>/dev/null |
        awk -F: '/^Total downtime:/ {v=$2; sub(/^ +/,"",v); gsub(/ +/," ",v); print v}')
    echo "${d:-n/a}"
}

case_idle() {
    local name=nova-lab-smoke-idle
    boot_guest "$name" lab-a 64 20
    migrate "$name" lab-a lab-b 100 120 plain
    if [ "$MIG_RC" = 0 ] && check_moved "$name" lab-a lab-b; then
        result "idle lab-a->lab-b dirty=20MiB/s bw=100: PASS in ${MIG_SECS}s (downtime $(downtime lab-b "$name"))"
    else
        result "idle lab-a->lab-b: FAIL (rc $MIG_RC after ${MIG_SECS}s)"
        dump_logs "$name"
        FAILED=1
        return 0
    fi
    migrate "$name" lab-b lab-a 100 120 plain
    if [ "$MIG_RC" = 0 ] && check_moved "$name" lab-b lab-a; then
        result "idle lab-b->lab-a dirty=20MiB/s bw=100: PASS in ${MIG_SECS}s (downtime $(downtime lab-a "$name"))"
    else
        result "idle lab-b->lab-a: FAIL (rc $MIG_RC after ${MIG_SECS}s)"
        dump_logs "$name"
        FAILED=1
    fi
    [ "${SMOKE_KEEP:-0}" = 1 ] || cleanup_dom "$name"
}

case_busy() {
    local kind=$1 name=nova-lab-smoke-$1
    boot_guest "$name" lab-a "$BUSY_MIB" "$BUSY_RATE"
    case "$kind" in
        autoconverge) migrate "$name" lab-a lab-b "$BUSY_BW" "$AC_TIMEOUT" plain --auto-converge ;;
        postcopy) migrate "$name" lab-a lab-b "$BUSY_BW" "$PC_TIMEOUT" postcopy --postcopy ;;
        precopy) migrate "$name" lab-a lab-b "$BUSY_BW" "$PRECOPY_TIMEOUT" plain ;;
    esac
    if [ "$kind" = precopy ]; then
        # Expected not to converge: the guest must still run on the source.
        if [ "$MIG_RC" = 0 ] && check_moved "$name" lab-a lab-b; then
            result "precopy busy dirty=${BUSY_RATE}MiB/s bw=$BUSY_BW: converged in ${MIG_SECS}s (unexpected but fine)"
        elif [ "$MIG_RC" != 0 ] && [ "$(v lab-a domstate "$name" 2>/dev/null)" = running ] &&
            wait_t "$(console_dir lab-a)/$name.log" "$(last_t "$(console_dir lab-a)/$name.log")" 30; then
            result "precopy busy dirty=${BUSY_RATE}MiB/s bw=$BUSY_BW: did not converge, ${MIG_NOTE}; guest still running on lab-a: PASS"
        else
            result "precopy busy dirty=${BUSY_RATE}MiB/s bw=$BUSY_BW: FAIL (rc $MIG_RC, guest not running on either host as expected)"
            dump_logs "$name"
            FAILED=1
        fi
    elif [ "$MIG_RC" = 0 ] && check_moved "$name" lab-a lab-b; then
        result "$kind busy dirty=${BUSY_RATE}MiB/s bw=$BUSY_BW: PASS in ${MIG_SECS}s (downtime $(downtime lab-b "$name"))${MIG_NOTE:+; $MIG_NOTE}"
    else
        result "$kind busy dirty=${BUSY_RATE}MiB/s bw=$BUSY_BW: FAIL (rc $MIG_RC after ${MIG_SECS}s)${MIG_NOTE:+; $MIG_NOTE}"
        dump_logs "$name"
        FAILED=1
    fi
    [ "${SMOKE_KEEP:-0}" = 1 ] || cleanup_dom "$name"
}

# SMOKE_CPU_LOAD=N: N busy loops on the machine while the cases run (a
# loaded CI machine); stopped by their pids at exit.
LOAD_PIDS=""
stop_load() {
    local p
    for p in $LOAD_PIDS; do kill "$p" 2>/dev/null || true; done
}
trap stop_load EXIT
for _ in $(seq 1 "${SMOKE_CPU_LOAD:-0}"); do
    (exec sh -c 'while :; do :; done') &
    LOAD_PIDS="$LOAD_PIDS $!"
done
[ -z "$LOAD_PIDS" ] || log "CPU load: busy loops$LOAD_PIDS"

T_ALL=$(now_s)
log "smoke: virt type $NOVA_LAB_VIRT_TYPE, cases: $CASES"
for c in $CASES; do
    log "---- case $c"
    case "$c" in
        idle) case_idle ;;
        autoconverge|postcopy|precopy) case_busy "$c" ;;
        *) die "unknown case $c" ;;
    esac
done
log "smoke finished in $(elapsed "$T_ALL") s; results in $RESULTS"
cat "$RESULTS"
if [ "$FAILED" != 0 ]; then
    log "SMOKE FAILED"
    exit 1
fi
log "SMOKE PASSED"
