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
    link-status)
        if ip -n lab-a link show veth-lab-a 2>/dev/null | grep -q 'state UP'; then
            echo up
        else
            echo down
        fi ;;
    *) die "usage: fault.sh kill-libvirtd|start-libvirtd|restart-libvirtd HOST | link-down|link-up|link-status" ;;
esac
