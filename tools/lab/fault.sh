#!/bin/bash
# Fault injection on the two-host lab, for the fault drills
# (nova/tests/functional/drills) and for trying things by hand.
#
#   fault.sh kill-libvirtd HOST [SIGNAL]   signal HOST's libvirtd (KILL):
#                                          its guests (QEMU) keep running
#   fault.sh start-libvirtd HOST           start it again inside the host,
#                                          wait until it answers
#   fault.sh restart-libvirtd HOST [DOWN_S] kill -9, stay down DOWN_S (0),
#                                          start again
#   fault.sh link-down | link-up           cut / restore the veth pair
#                                          between the hosts (both ends)
#   fault.sh link-status                   prints "up" or "down"
#   fault.sh partition [all|stream]        drop packets silently (nftables in
#                                          each host's namespace; the link
#                                          stays up): "all" (default) every
#                                          packet between the hosts, "stream"
#                                          only the QEMU migration streams
#                                          (ports 49152-49215), libvirt's own
#                                          connection (16509) kept
#   fault.sh heal                          remove the partition
#   fault.sh partition-status              prints "none", "all" or "stream"
#
# Carrier loss (link-down) and a silent drop differ: with the carrier gone
# the kernel answers local sends with errors at once (no route), a drop
# just leaves the peers retransmitting into a void until TCP or libvirt's
# keepalive gives up.
#
# Only processes named in the lab's pid files are signalled.  Everything is
# undone by the matching command or by setup.sh (which restarts a dead
# libvirtd in place and sets the link up).
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || die "fault.sh must run as root"

need_host() {
    host_letter "${1:-}" >/dev/null || die "unknown host '${1:-}' (lab-a or lab-b)"
}

kill_libvirtd() {
    local host=$1 sig=${2:-KILL} pid i=0
    pid=$(pid_from_file "$(host_run_dir "$host")/libvirtd.pid")
    pid_matches "$pid" libvirtd || die "$host: libvirtd is not running"
    kill "-$sig" "$pid"
    # Gone (or, for a non-fatal signal, at least delivered) before we return.
    while [ -d "/proc/$pid" ] && [ "$i" -lt 100 ]; do
        case "$sig" in KILL|9|TERM|15) ;; *) break ;; esac
        sleep 0.1
        i=$((i + 1))
    done
    [ ! -d "/proc/$pid" ] || case "$sig" in KILL|9|TERM|15)
        die "$host: libvirtd $pid still alive after SIG$sig" ;; esac
    log "$host: libvirtd $pid got SIG$sig"
}

link() {
    local state=$1 h
    for h in $LAB_HOSTS; do
        ip -n "$(host_netns "$h")" link set "$(host_veth "$h")" "$state"
    done
    log "link lab-a <-> lab-b $state"
}

# The nftables table the partition lives in, one per host namespace.
PART_TABLE=nova_lab_partition
MIG_PORTS=49152-49215

partition() {
    local what=${1:-all} h peer match
    case "$what" in
        all) match="" ;;
        stream) match="tcp dport $MIG_PORTS" ;;
        *) die "partition all|stream (got $what)" ;;
    esac
    command -v nft >/dev/null || die "nft not found (package nftables; setup.sh installs it)"
    for h in $LAB_HOSTS; do
        peer=$(host_addr "$(host_peer "$h")")
        # On input only, at both ends: whatever comes from the peer
        # vanishes, while the sender sees no error (an output drop would
        # hand local senders EPERM, which is not what a lost network does).
        ip netns exec "$(host_netns "$h")" nft -f - <<EOF
table inet $PART_TABLE
delete table inet $PART_TABLE
table inet $PART_TABLE {
    comment "nova lab partition: $what"
    chain input {
        type filter hook input priority 0;
        ip saddr $peer ${match:+$match} drop
        ${match:+ip saddr $peer ${match/dport/sport} drop}
    }
}
EOF
    done
    log "partition lab-a <-> lab-b: $what (packets dropped silently)"
}

heal() {
    local h
    for h in $LAB_HOSTS; do
        netns_exists "$(host_netns "$h")" || continue
        command -v nft >/dev/null || return 0
        ip netns exec "$(host_netns "$h")" nft delete table inet "$PART_TABLE" 2>/dev/null || true
    done
    log "partition healed"
}

partition_status() {
    local c
    command -v nft >/dev/null || { echo none; return 0; }
    c=$(ip netns exec "$(host_netns lab-a)" nft list table inet "$PART_TABLE" 2>/dev/null |
        sed -n 's/.*comment "nova lab partition: \([a-z]*\)".*/\1/p')
    echo "${c:-none}"
}

cmd=${1:-}
case "$cmd" in
    kill-libvirtd) need_host "${2:-}"; kill_libvirtd "$2" "${3:-KILL}" ;;
    start-libvirtd)
        need_host "${2:-}"
        start_libvirtd "$2" || die "$2: libvirtd did not come back"
        log "$2: libvirtd up (pid $(pid_from_file "$(host_run_dir "$2")/libvirtd.pid"))" ;;
    restart-libvirtd)
        need_host "${2:-}"
        kill_libvirtd "$2" KILL
        sleep "${3:-0}"
        start_libvirtd "$2" || die "$2: libvirtd did not come back"
        log "$2: libvirtd restarted (pid $(pid_from_file "$(host_run_dir "$2")/libvirtd.pid"))" ;;
    link-down) link down ;;
    link-up) link up ;;
    partition) partition "${2:-all}" ;;
    heal) heal ;;
    partition-status) partition_status ;;
    link-status)
        if ip -n lab-a link show veth-lab-a 2>/dev/null | grep -q 'state UP'; then
            echo up
        else
            echo down
        fi ;;
    *) die "usage: fault.sh kill-libvirtd|start-libvirtd|restart-libvirtd HOST | link-down|link-up|link-status | partition [all|stream]|heal|partition-status" ;;
esac
