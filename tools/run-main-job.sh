#!/bin/bash
# The main job (README.rst): an all-in-one deployment on the real two-host
# lab that live-migrates a busy guest and shows how the migration completed.
#
#   tools/run-main-job.sh                  # post-copy permitted (default)
#   POLICY=auto-converge tools/run-main-job.sh
#   POLICY=none tools/run-main-job.sh      # watch the completion timeout
#   POLICY=force-complete tools/run-main-job.sh  # operator forces it
#   STACK=backports tools/run-main-job.sh  # libvirt 11.3 + QEMU 10.0 on both
#   STACK=mixed tools/run-main-job.sh      # lab-a Debian 12's, lab-b backports:
#                                          # a rolling upgrade (old -> new)
# STACK (debian12 by default) picks the libvirt/QEMU build of each lab host
# (tools/lab/README.rst); the versions the daemons report are printed.
#
# Installs what it needs on a fresh Debian machine (root or sudo), starts
# the lab (tools/lab/setup.sh), runs nova-all (API + two compute services,
# SQLite, in-process messaging) and drives it with the real `nova` CLI.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
policy=${POLICY:-post-copy}
state=${NOVA_AIO_STATE:-/var/tmp/nova-aio}
port=${NOVA_AIO_PORT:-8774}
venv=${NOVA_MAIN_VENV:-$top/.venv-main}

say() { printf '\n== %s\n' "$*"; }

say "System packages and the two-host lab"
tools/install-system-packages.sh test lab
STACK=${STACK:-debian12} tools/lab/setup.sh
# shellcheck disable=SC1091
. /var/tmp/nova-lab/lab.env
echo "stack $NOVA_LAB_STACK: lab-a libvirt $NOVA_LAB_A_LIBVIRT_VERSION QEMU $NOVA_LAB_A_QEMU_VERSION," \
    "lab-b libvirt $NOVA_LAB_B_LIBVIRT_VERSION QEMU $NOVA_LAB_B_QEMU_VERSION"

say "Python environment ($venv)"
if [ ! -x "$venv/bin/nova-all" ] || [ setup.cfg -nt "$venv/.installed" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -e '.[plot]' python-novaclient
    touch "$venv/.installed"
fi
export PATH="$venv/bin:$PATH"

say "Configuration: completion policy '$policy'"
rm -rf "$state"
mkdir -p "$state"
case "$policy" in
    post-copy) post=true; auto=false ;;
    auto-converge) post=false; auto=true ;;
    none|force-complete) post=false; auto=false ;;
    *) echo "unknown POLICY $policy" >&2; exit 2 ;;
esac
cat > "$state/nova.conf" <<EOF
[DEFAULT]
state_path = $state
debug = false

[libvirt]
live_migration_permit_post_copy = $post
live_migration_permit_auto_converge = $auto
# The lab guest dirties 60 MiB/s; a 32 MiB/s cap makes pre-copy alone fail.
live_migration_bandwidth = 32
live_migration_downtime_delay = 3
# 256 MiB counts as 2 GiB: a 60 s completion timeout.
live_migration_completion_timeout = 30
# Each lab host's private /var/lib/libvirt: local disks, so the migration
# (block_migration auto) copies the guest's disk first.
instances_path = /var/lib/libvirt/instances
EOF
cat "$state/nova.conf"

say "Starting nova-all (API on port $port, computes lab-a and lab-b)"
nova-all --config-file "$state/nova.conf" --lab-env /var/tmp/nova-lab/lab.env \
    --port "$port" > "$state/nova-all.log" 2>&1 &
aio=$!
cleanup() {
    if [ -n "${probe:-}" ]; then kill "$probe" 2>/dev/null || true; fi
    if [ -n "${server:-}" ]; then
        nova delete "$server" >/dev/null 2>&1 || true
        sleep 3
    fi
    kill "$aio" 2>/dev/null || true
    wait "$aio" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
    kill -0 "$aio" 2>/dev/null || { cat "$state/nova-all.log"; exit 1; }
    sleep 0.5
done

export OS_AUTH_URL="http://127.0.0.1:$port/identity" OS_USERNAME=admin \
    OS_PASSWORD=admin OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default \
    OS_PROJECT_DOMAIN_NAME=Default OS_COMPUTE_API_VERSION=2.latest
nova() { command nova "$@" 2> >(grep -v 'deprecated' >&2); }

say "nova service-list / hypervisor-list"
nova service-list
nova hypervisor-list

say "Booting a busy guest on lab-a (dirties 60 MiB/s of 64 MiB; a 128 MiB disk, 32 MiB of it checked)"
server=$(nova boot --flavor lab.small --image lab-guest \
    --meta dirty_mib=64 --meta dirty_rate=60 \
    --meta disk_mib=128 --meta disk_fill_mib=32 --meta disk_rate=1 --meta disk_check_s=5 \
    --meta net_ip="$NOVA_LAB_GUEST_ADDR_FIRST/$NOVA_LAB_GUEST_PREFIX" \
    --availability-zone nova:lab-a busy-guest | awk '/ id /{print $4}')
echo "server $server"
for _ in $(seq 1 120); do
    status=$(nova show "$server" | awk '/ status /{print $4}')
    [ "$status" = ACTIVE ] && break
    [ "$status" = ERROR ] && { nova show "$server"; exit 1; }
    sleep 1
done
console="$NOVA_LAB_SHARED_DIR/console/$server.log"
for _ in $(seq 1 120); do
    [ "$(grep -c DIRTIER "$console" 2>/dev/null || true)" -ge 2 ] && break
    sleep 1
done
echo "guest console: $(grep DIRTIER "$console" | tail -1)"
nova show "$server" | grep -E 'OS-EXT-SRV-ATTR:host |status'

# The guest's NIC (on the lab's bridge, br-lab) answers a client on the
# lab network; the probe sends it a UDP echo every 10 ms through the move.
guest_ip=$NOVA_LAB_GUEST_ADDR_FIRST
probe_py() {
    ip netns exec "$NOVA_LAB_CLIENT_NETNS" "$venv/bin/python" -I \
        "$top/nova/bench/blackout_probe.py" "$guest_ip" "$@"
}
say "A client in $NOVA_LAB_CLIENT_NETNS probes the guest at $guest_ip (UDP echo every 10 ms)"
for _ in $(seq 1 60); do probe_py --once && break; sleep 1; done
probe_py --once || { echo "the guest does not answer at $guest_ip" >&2; exit 1; }
probe_py --tcp && echo "the guest answers UDP and TCP echo at $guest_ip"
# Started directly (ip netns exec execs Python), so $probe is the probe
# itself: SIGTERM makes it write its record.
ip netns exec "$NOVA_LAB_CLIENT_NETNS" "$venv/bin/python" -I \
    "$top/nova/bench/blackout_probe.py" "$guest_ip" \
    >"$state/probe.json" 2>"$state/probe.log" &
probe=$!
sleep 1

say "nova live-migration busy-guest lab-b (block migration: auto, the disk is local)"
nova live-migration "$server" lab-b
mid=
for _ in $(seq 1 120); do
    # awk reads the whole table: a reader that stops early breaks nova's
    # pipe (BrokenPipeError).
    mid=$(nova server-migration-list "$server" |
        awk -F'|' '/^\| [0-9]/ && !id { gsub(/ /, "", $2); id = $2 }
                   END { print id }')
    [ -n "$mid" ] && break
    sleep 0.5
done
[ -n "$mid" ] || { echo "no migration listed for $server" >&2; exit 1; }
manage() { nova-manage --config-file "$state/nova.conf" "$@"; }
forcer=
if [ "$policy" = force-complete ]; then
    # The operator forces completion once the copy runs.
    (
        for _ in $(seq 1 120); do
            nova server-migration-show "$server" "$mid" 2>/dev/null |
                grep -q '| status .*| running ' && break
            sleep 1
        done
        sleep 5
        say "nova live-migration-force-complete $server $mid"
        nova live-migration-force-complete "$server" "$mid"
    ) &
    forcer=$!
fi

say "nova-manage live-migration watch $mid"
manage live-migration watch "$mid" --timeout 900 || true
[ -z "$forcer" ] || wait "$forcer"
disk_offset=$(stat -c %s "$console")
sleep 1
kill -TERM "$probe" 2>/dev/null || true
wait "$probe" || true
probe=

say "nova-manage live-migration show $mid"
manage live-migration show "$mid"
downtime=$(virsh -q -c "$NOVA_LAB_B_URI" domjobinfo "$server" --completed --keep-completed 2>/dev/null |
    awk -F': *' '/downtime/ { print $2; exit }')
echo "QEMU's downtime (lab-b's completed job): ${downtime:-none reported (none after post-copy)}"
probe_py --report "$state/probe.json"
if probe_py --once && probe_py --tcp; then
    echo "the guest answers UDP and TCP echo at $guest_ip after the move"
else
    echo "the guest does not answer at $guest_ip after the move" >&2
    exit 1
fi
plot="$state/migration-$mid.png"
if manage live-migration plot "$mid" -o "$plot"; then
    echo "the migration's timeline, plotted: $plot"
fi

# The guest re-reads its disk every 5 s; a check that started after the
# move read lab-b's copy.
grep -E 'block_migration auto|Created .* for the incoming block migration|Root disk' \
    "$state/nova-all.log" | sed -e 's/^[0-9-]* [0-9:.]* [0-9]* //' || true
for _ in $(seq 1 60); do
    n=$(tail -c +"$((disk_offset + 1))" "$console" | sed -n 's/.*LABDISK checking n=\([0-9]*\).*/\1/p' | head -n1)
    [ -n "$n" ] && grep -qE "LABDISK check n=$n (ok|BAD)" "$console" && break
    sleep 1
done
if [ -z "$n" ] || grep -q 'LABDISK check n=[0-9]* BAD' "$console" ||
    ! grep -qE "LABDISK check n=$n ok" "$console"; then
    echo "the guest's disk check on lab-b failed: $(grep 'LABDISK check' "$console" | tail -n 3)" >&2
    exit 1
fi
echo "guest disk: $(grep "LABDISK check n=$n " "$console") (a check that started on lab-b)"

say "What the monitor did (compute log)"
grep -E 'Live migration monitor|downtime now|migration (pre|post)-copy for|migration (completed|failed|cancelled)|switched to post-copy|not requested|not used|Queued live migration' \
    "$state/nova-all.log" | sed -e 's/^[0-9-]* [0-9:.]* [0-9]* //' || true

say "Outcome"
nova migration-list --instance-uuid "$server"
nova show "$server" | grep -E 'OS-EXT-SRV-ATTR:host |status|OS-EXT-STS:task_state'
before=$(grep -c DIRTIER "$console")
sleep 4
after=$(grep -c DIRTIER "$console")
echo "guest console: $(grep DIRTIER "$console" | tail -1)"
if [ "$after" -gt "$before" ]; then
    echo "the guest keeps running (its counter went on: $before -> $after reports)"
else
    echo "the guest's console stopped reporting" >&2
    exit 1
fi
if grep -qE 'Kernel panic|Oops|DIRTIER CORRUPT' "$console"; then
    echo "the guest reported damage" >&2
    exit 1
fi
