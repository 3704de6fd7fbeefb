#!/bin/bash
# Prints whether both lab hosts are up.  Exit 0 when both are, 1 otherwise.
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
if [ -s "$LAB_ENV_FILE" ]; then
    echo "lab dir:   $LAB_DIR (env: $LAB_ENV_FILE)"
    echo "virt type: $(sed -n 's/^NOVA_LAB_VIRT_TYPE=//p' "$LAB_ENV_FILE")"
    echo "machine:   $(sed -n 's/^NOVA_LAB_MACHINE_TYPE=//p' "$LAB_ENV_FILE") (guests pinned to it)"
else
    echo "lab dir:   $LAB_DIR (no lab.env: run tools/lab/setup.sh)"
    rc=1
fi
echo "stack:     $(lab_stack) (lab-a $(host_stack lab-a), lab-b $(host_stack lab-b))"
for h in $LAB_HOSTS; do
    run=$(host_run_dir "$h")
    if host_daemon_ok "$h"; then
        doms=$(timeout 10 virsh -q -c "$(host_uri "$h")" list --all --name 2>/dev/null | grep -c . || true)
        echo "$h: UP   addr $(host_addr "$h")  hostname $(lab_virsh "$h" hostname 2>/dev/null)" \
            " libvirtd pid $(pid_from_file "$run/libvirtd.pid")  keeper pid $(pid_from_file "$run/keeper.pid")" \
            " domains $doms"
        echo "      uri $(host_uri "$h")"
        # What the running daemon reports, not what the packages say.
        lab_virsh "$h" version --daemon 2>/dev/null | awk -F': *' -v b="$(host_stack "$h")" '
            /Running against daemon/ { l = $2 }
            /Running hypervisor/ { q = $2 }
            END { printf "      build %s: libvirt %s, %s\n", b, l, q }'
    else
        echo "$h: DOWN (keeper pid $(pid_from_file "$run/keeper.pid"), libvirtd pid $(pid_from_file "$run/libvirtd.pid"), netns $(netns_exists "$h" && echo present || echo absent))"
        rc=1
    fi
done
if [ "$rc" = 0 ]; then
    if ip netns exec lab-a timeout 10 virsh -q -c "$(host_peer_uri lab-b)" hostname >/dev/null 2>&1 &&
        ip netns exec lab-b timeout 10 virsh -q -c "$(host_peer_uri lab-a)" hostname >/dev/null 2>&1; then
        echo "peers: lab-a <-> lab-b reachable over qemu+tcp"
    else
        echo "peers: NOT reachable over qemu+tcp"
        rc=1
    fi
fi
exit "$rc"
