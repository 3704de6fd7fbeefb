#!/bin/bash
# Stops the lab: destroys and undefines leftover domains, kills only the
# processes setup.sh started (by the pids in their pid files), removes the
# veth pair and the network namespaces.  The mount and UTS namespaces go
# away with their last process.  Idempotent.
#
#   teardown.sh           keep the state dir (guest kernel/initramfs cache)
#   teardown.sh --purge   also delete $NOVA_LAB_DIR
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || die "teardown.sh must run as root"
purge=0
case "${1:-}" in
    --purge) purge=1 ;;
    "") ;;
    *) die "usage: teardown.sh [--purge]" ;;
esac

for h in $LAB_HOSTS; do
    log "$h: stopping"
    stop_host "$h"
done
ip -n lab-a link del veth-lab-a 2>/dev/null || true
ip -n lab-b link del veth-lab-b 2>/dev/null || true
shared_storage_stop
mgmt_link_down
for h in $LAB_HOSTS; do
    if netns_exists "$h"; then
        ip netns del "$h" || warn "ip netns del $h failed"
    fi
done
rm -f "$LAB_ENV_FILE"
if [ "$purge" = 1 ] && [ -d "$LAB_DIR" ]; then
    log "removing $LAB_DIR"
    rm -rf "$LAB_DIR"
fi
log "lab stopped"
