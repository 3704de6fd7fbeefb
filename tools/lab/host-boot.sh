#!/bin/bash
# Runs INSIDE one lab host's namespaces (started by setup.sh as
#   ip netns exec <host> unshare --uts --mount --propagation private --fork \
#       bash host-boot.sh <host>
# ): sets the hostname, bind-mounts the host's private libvirt directories,
# starts virtlogd and libvirtd, then becomes the keeper process that holds
# the namespaces (its pid is in <run dir>/keeper.pid; nsenter -t <pid> -a).
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=${1:?usage: host-boot.sh <host>}
HDIR=$(host_dir "$HOST")

echo "host-boot: $(date -u +%FT%TZ) starting $HOST (pid $$)"

# UTS namespace: our own hostname.
echo "$HOST" >/proc/sys/kernel/hostname

# Mount namespace: private libvirt state, config, logs; own /etc/hosts.
for m in $LAB_PRIVATE_MOUNTS; do
    mount --bind "$HDIR/${m%%:*}" "${m#*:}"
done
mount --bind "$HDIR/hosts" /etc/hosts
# TLS: the host's own CA copy and certificates where libvirt and QEMU look
# (/etc/pki; made by setup.sh's lab_make_tls_certs / lab_install_tls_certs).
if [ -d "$HDIR/pki" ]; then
    mount --bind "$HDIR/pki" /etc/pki
fi
# The host's libvirt/QEMU build (first word of $HDIR/stack, written by
# setup.sh): "system", or an unpacked build laid over /usr.
BUILD=$(awk 'NR == 1 { print $1 }' "$HDIR/stack" 2>/dev/null || true)
mount_stack "${BUILD:-system}"
echo "host-boot: $HOST build ${BUILD:-system}: $(libvirtd --version 2>&1 | head -n1)," \
    "$(qemu-system-x86_64 --version 2>&1 | head -n1)"

virtlogd -d -p /run/libvirt/virtlogd.pid
libvirtd -d --listen -p /run/libvirt/libvirtd.pid

echo $$ >/run/libvirt/keeper.pid
echo "host-boot: $HOST daemons started; keeper pid $$"
exec -a "$(host_keeper_name "$HOST")" sleep infinity
