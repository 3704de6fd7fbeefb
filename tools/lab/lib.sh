# Shared definitions for the two-host libvirt lab (sourced, not executed).
# Safe under `set -eu`.
# shellcheck disable=SC2034  # variables are used by the scripts sourcing this

LAB_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=${NOVA_LAB_DIR:-/var/tmp/nova-lab}
case "$LAB_DIR" in
    /*) ;;
    *) echo "nova-lab: NOVA_LAB_DIR must be an absolute path: $LAB_DIR" >&2; exit 2 ;;
esac
case "$LAB_DIR" in
    *[[:space:]]*|*\'*|*\"*|*\\*)
        echo "nova-lab: NOVA_LAB_DIR must not contain spaces or quotes" >&2; exit 2 ;;
esac

LAB_HOSTS="lab-a lab-b"
LAB_SUBNET_PREFIX=24
LAB_ENV_FILE=$LAB_DIR/lab.env
LAB_GUEST_DIR=$LAB_DIR/guest
LAB_KERNEL=$LAB_GUEST_DIR/vmlinuz
LAB_INITRD=$LAB_GUEST_DIR/initrd.img
LAB_KERNEL_DEB=$LAB_GUEST_DIR/kernel.deb
LAB_GUEST_MODULES=$LAB_GUEST_DIR/modules
LAB_SHARED_DIR=$LAB_DIR/shared
# The user-space NFS export of guests' disks (setup.sh step_shared_storage).
LAB_NFS_DIR=$LAB_DIR/nfs
LAB_NFS_EXPORT=$LAB_NFS_DIR/export
QEMU_BIN=/usr/bin/qemu-system-x86_64

# The directories each host gets a private copy of (bind-mounted inside the
# host's mount namespace).  Format: <subdir under the host dir>:<mount point>.
LAB_PRIVATE_MOUNTS="run:/run/libvirt lib:/var/lib/libvirt etc:/etc/libvirt log:/var/log/libvirt cache:/var/cache/libvirt"

# Stacks (libvirt + QEMU builds).  "system" is whatever the machine's
# packages installed (Debian 12: libvirt 9.0, QEMU 7.2); "backports" is
# Debian's bookworm-backports build (libvirt 11.3, QEMU 10.0) unpacked under
# $LAB_STACKS_DIR/backports/root (never installed) and laid over /usr inside
# the host's own mount namespace, so each daemon runs its own binaries by
# the usual paths.  The lab's STACK (setup.sh writes it to $LAB_STACK_FILE):
#   debian12  both hosts on the system stack (default)
#   backports both hosts on the backports stack
#   mixed     lab-a system, lab-b backports: a rolling upgrade
LAB_STACKS="debian12 backports mixed"
LAB_STACK_FILE=$LAB_DIR/stack
LAB_STACKS_DIR=$LAB_DIR/stacks
LAB_BACKPORTS_SUITE=bookworm-backports
# What is unpacked for the backports stack: the daemons, their libraries
# and QEMU with its firmware; the rest comes from the system.
LAB_BACKPORTS_PACKAGES="libvirt0 libvirt-common libvirt-daemon libvirt-daemon-common
libvirt-daemon-log libvirt-daemon-driver-qemu libvirt-daemon-driver-storage
libvirt-clients qemu-system-x86 qemu-system-common qemu-system-data seabios"

LAB_STACK_OWN_DIRS="/usr/lib/x86_64-linux-gnu/libvirt /usr/lib/libvirt /usr/share/libvirt
/usr/lib/x86_64-linux-gnu/qemu /usr/lib/qemu /usr/share/qemu /usr/share/seabios"

# lab_stack: the lab's current stack (debian12 when none was chosen).
lab_stack() {
    local s
    s=$(cat "$LAB_STACK_FILE" 2>/dev/null || true)
    echo "${s:-debian12}"
}

# stack_of_host STACK HOST -> system | backports
stack_of_host() {
    case "$1" in
        debian12) echo system ;;
        backports) echo backports ;;
        mixed) if [ "$2" = lab-a ]; then echo system; else echo backports; fi ;;
        *) return 1 ;;
    esac
}
host_stack() { stack_of_host "$(lab_stack)" "$1"; }
stack_root() { echo "$LAB_STACKS_DIR/$1/root"; }

# mount_stack BUILD: inside a private mount namespace, lay BUILD's /usr over
# the system's (read-only overlay; files BUILD lacks come from the system).
mount_stack() {
    local root
    [ "$1" = system ] && return 0
    root=$(stack_root "$1")
    [ -x "$root/usr/sbin/libvirtd" ] || die "stack $1 is not unpacked under $root (run setup.sh)"
    mount -t overlay "nova-lab-$1" -o "lowerdir=$root/usr:/usr" /usr
    # Directories of loadable modules and data are the build's alone: the
    # system's libvirt 9.0 driver modules would not load into a newer
    # libvirtd (and QEMU checks its modules' build too).
    for d in $LAB_STACK_OWN_DIRS; do
        if [ -d "$root$d" ]; then mount --bind "$root$d" "$d"; fi
    done
}

# in_stack BUILD CMD...: run CMD with BUILD's binaries (own mount namespace).
in_stack() {
    local build=$1
    shift
    if [ "$build" = system ]; then
        "$@"
    else
        unshare --mount --propagation private -- bash -c \
            '. "$1"; mount_stack "$2" && shift 2 && exec "$@"' \
            in_stack "$LAB_TOOLS/lib.sh" "$build" "$@"
    fi
}

# Per-host facts: host_<field> <host>
host_letter() { case "$1" in lab-a) echo A ;; lab-b) echo B ;; *) return 1 ;; esac; }
host_addr() { case "$1" in lab-a) echo 198.18.0.1 ;; lab-b) echo 198.18.0.2 ;; esac; }
host_peer() { case "$1" in lab-a) echo lab-b ;; lab-b) echo lab-a ;; esac; }
host_veth() { case "$1" in lab-a) echo veth-lab-a ;; lab-b) echo veth-lab-b ;; esac; }
host_uuid() {
    case "$1" in
        lab-a) echo 6e6f7661-6c61-4200-8000-00000000000a ;;
        lab-b) echo 6e6f7661-6c61-4200-8000-00000000000b ;;
    esac
}
host_mig_ports() { case "$1" in lab-a) echo "49152 49183" ;; lab-b) echo "49184 49215" ;; esac; }
host_netns() { echo "$1"; }
host_dir() { echo "$LAB_DIR/hosts/$1"; }
host_run_dir() { echo "$LAB_DIR/hosts/$1/run"; }
host_log_dir() { echo "$LAB_DIR/hosts/$1/log"; }
host_console_dir() { echo "$LAB_DIR/hosts/$1/console"; }
host_sock() { echo "$LAB_DIR/hosts/$1/run/libvirt-sock"; }
host_uri() { echo "qemu+unix:///system?socket=$(host_sock "$1")"; }
host_peer_uri() { echo "qemu+tcp://$(host_addr "$1")/system"; }
host_keeper_name() { echo "nova-lab-keeper-$1"; }
# The guests' network (setup.sh lab_bridge_up): each host's bridge over the
# lab link, carrying the host's address; guests take addresses from
# LAB_GUEST_ADDR_FIRST on (their metadata's net_ip).
host_lan_dev() { echo br-lab; }
LAB_GUEST_ADDR_FIRST=198.18.0.100

# The management network (setup.sh step_mgmt_link): the root namespace
# plays the controller (API, database, message bus) at LAB_MGMT_ADDR on the
# bridge LAB_MGMT_BRIDGE; each host reaches it through a veth pair,
# host_mgmt_veth in the root namespace (in the bridge) <-> LAB_MGMT_IFACE
# inside the host, at host_mgmt_addr.  Separate from the hosts' own link
# (198.18.0.0/24), as an operator's management LAN is from the migration
# network.
LAB_MGMT_BRIDGE=nova-lab-mgmt
LAB_MGMT_ADDR=198.19.0.1
LAB_MGMT_PREFIX=24
LAB_MGMT_IFACE=mgmt0
# The hosts' own link, unreachable from the root namespace (step_mgmt_link).
LAB_LINK_NET=198.18.0.0/$LAB_SUBNET_PREFIX
host_mgmt_addr() { case "$1" in lab-a) echo 198.19.0.2 ;; lab-b) echo 198.19.0.3 ;; esac; }
host_mgmt_veth() { echo "mgmt-$1"; }

# mgmt_link_down: remove the management network (the hosts' ends go with
# their veth pairs).  Idempotent.
mgmt_link_down() {
    local h
    for h in $LAB_HOSTS; do
        ip link del "$(host_mgmt_veth "$h")" 2>/dev/null || true
    done
    ip link del "$LAB_MGMT_BRIDGE" 2>/dev/null || true
    ip route del unreachable "$LAB_LINK_NET" 2>/dev/null || true
}

# shared_storage_stop: stop the lab's NFS server and its rpcbind (by their
# pid files).  Idempotent.
shared_storage_stop() {
    kill_pidfile "$LAB_NFS_DIR/run/ganesha.pid" ganesha.nfsd
    kill_pidfile "$LAB_NFS_DIR/run/rpcbind.pid" rpcbind
}

log() { echo "nova-lab: $*"; }
warn() { echo "nova-lab: WARNING: $*" >&2; }
die() { echo "nova-lab: ERROR: $*" >&2; exit 1; }

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# pid_from_file FILE -> prints the pid if FILE holds one, else nothing.
pid_from_file() {
    local f=$1 pid
    [ -s "$f" ] || return 0
    pid=$(head -n1 "$f" 2>/dev/null | tr -cd '0-9')
    [ -n "$pid" ] && echo "$pid"
    return 0
}

# pid_matches PID PATTERN: the process exists and its command line contains
# PATTERN (guards against pid reuse before we signal anything).
pid_matches() {
    local pid=$1 pattern=$2
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# kill_pidfile FILE PATTERN [WAIT_S]: SIGTERM the process named in FILE if it
# matches PATTERN, wait, then SIGKILL.  Removes FILE.
kill_pidfile() {
    local f=$1 pattern=$2 wait_s=${3:-10} pid i
    pid=$(pid_from_file "$f")
    if [ -n "$pid" ] && pid_matches "$pid" "$pattern"; then
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while [ -d "/proc/$pid" ] && [ "$i" -lt $((wait_s * 10)) ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if pid_matches "$pid" "$pattern"; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -f "$f"
}

# virsh against a lab host from the root namespace.
lab_virsh() {
    local host=$1
    shift
    virsh -q -c "$(host_uri "$host")" "$@"
}

# netns_exists NAME
netns_exists() { [ -e "/run/netns/$1" ] && ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"; }

# host_daemon_ok HOST: keeper, virtlogd and libvirtd alive, libvirtd in the
# host's current network namespace, and answering on its socket.
host_daemon_ok() {
    local host=$1 run lpid
    run=$(host_run_dir "$host")
    pid_matches "$(pid_from_file "$run/keeper.pid")" "$(host_keeper_name "$host")" || return 1
    pid_matches "$(pid_from_file "$run/virtlogd.pid")" virtlogd || return 1
    lpid=$(pid_from_file "$run/libvirtd.pid")
    pid_matches "$lpid" libvirtd || return 1
    netns_exists "$(host_netns "$host")" || return 1
    [ "$(stat -L -c %i "/proc/$lpid/ns/net" 2>/dev/null)" = \
      "$(stat -L -c %i "/run/netns/$(host_netns "$host")" 2>/dev/null)" ] || return 1
    timeout 10 virsh -q -c "$(host_uri "$host")" version >/dev/null 2>&1 || return 1
}

# stop_host HOST: destroy and undefine every domain of HOST, then stop the
# processes the lab started for it (by their pid files only).  Idempotent.
stop_host() {
    local host=$1 run dom f
    run=$(host_run_dir "$host")
    [ -d "$run" ] || return 0
    if pid_matches "$(pid_from_file "$run/libvirtd.pid")" libvirtd &&
        timeout 10 virsh -q -c "$(host_uri "$host")" version >/dev/null 2>&1; then
        for dom in $(timeout 30 virsh -q -c "$(host_uri "$host")" list --all --name 2>/dev/null || true); do
            log "$host: destroying leftover domain $dom"
            timeout 30 virsh -q -c "$(host_uri "$host")" destroy "$dom" >/dev/null 2>&1 || true
            timeout 30 virsh -q -c "$(host_uri "$host")" undefine "$dom" >/dev/null 2>&1 || true
        done
    fi
    kill_pidfile "$run/libvirtd.pid" libvirtd 15
    # QEMU processes that outlived libvirtd (pid files written by libvirt).
    for f in "$run"/qemu/*.pid; do
        [ -e "$f" ] || continue
        kill_pidfile "$f" qemu-system 5
    done
    kill_pidfile "$run/virtlogd.pid" virtlogd 10
    kill_pidfile "$run/keeper.pid" "$(host_keeper_name "$host")" 5
    # Everything in the run dir is runtime state of the processes just stopped.
    find "$run" -mindepth 1 -delete 2>/dev/null || true
}

# host_keeper_ok HOST: the host's namespaces are held (keeper alive, in the
# host's current network namespace) and its virtlogd runs: libvirtd alone
# can be (re)started in place, keeping the host's running guests.
host_keeper_ok() {
    local host=$1 run kpid
    run=$(host_run_dir "$host")
    kpid=$(pid_from_file "$run/keeper.pid")
    pid_matches "$kpid" "$(host_keeper_name "$host")" || return 1
    pid_matches "$(pid_from_file "$run/virtlogd.pid")" virtlogd || return 1
    netns_exists "$(host_netns "$host")" || return 1
    [ "$(stat -L -c %i "/proc/$kpid/ns/net" 2>/dev/null)" = \
      "$(stat -L -c %i "/run/netns/$(host_netns "$host")" 2>/dev/null)" ] || return 1
}

# libvirtd_running HOST: the libvirtd named in the host's pid file is alive.
libvirtd_running() {
    pid_matches "$(pid_from_file "$(host_run_dir "$1")/libvirtd.pid")" libvirtd
}

# start_libvirtd HOST [TIMEOUT_S]: start libvirtd inside the host's existing
# namespaces (entered through the keeper), the way host-boot.sh does, and
# wait until it answers.  A restarted libvirtd reconnects to the QEMU
# processes of its domains, so the host's guests keep running.
start_libvirtd() {
    local host=$1 tmo=${2:-60} run kpid i=0
    run=$(host_run_dir "$host")
    host_keeper_ok "$host" || { warn "$host: no keeper to start libvirtd in"; return 1; }
    if ! libvirtd_running "$host"; then
        kpid=$(pid_from_file "$run/keeper.pid")
        (
            for fd in /proc/"$BASHPID"/fd/*; do
                fd=${fd##*/}
                case "$fd" in 0|1|2) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
            done
            exec setsid nsenter -t "$kpid" -n -m -u -- \
                libvirtd -d --listen -p /run/libvirt/libvirtd.pid
        ) </dev/null >>"$(host_dir "$host")/boot.log" 2>&1
    fi
    until host_daemon_ok "$host"; do
        i=$((i + 1))
        [ "$i" -le $((tmo * 5)) ] || { warn "$host: libvirtd did not answer within $tmo s"; return 1; }
        sleep 0.2
    done
}
