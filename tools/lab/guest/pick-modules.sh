#!/bin/bash
# pick-modules.sh MODDIR OUTDIR NAME...
#
# Copies the kernel modules NAME... and every module they depend on from
# MODDIR (an unpacked Debian kernel's lib/modules/<version>) into OUTDIR,
# flat, and writes OUTDIR/load.order: one file name a line, dependencies
# before the modules that need them (the order the guest's /init insmods
# them in; busybox insmod resolves nothing itself).
#
# The Debian package ships no modules.dep (depmod runs at install time), so
# the dependencies are read from each module's own .modinfo strings
# ("depends=a,b").  A module built into the kernel (modules.builtin) needs
# no file and is skipped.  Only uncompressed .ko files are handled (Debian
# 12's kernel ships them so); anything else is an error, not a guess.
set -eu

MODDIR=${1:?usage: pick-modules.sh MODDIR OUTDIR NAME...}
OUTDIR=${2:?usage: pick-modules.sh MODDIR OUTDIR NAME...}
shift 2

die() { echo "pick-modules: ERROR: $*" >&2; exit 1; }

[ -d "$MODDIR/kernel" ] || die "$MODDIR has no kernel/ directory"
mkdir -p "$OUTDIR"
: >"$OUTDIR/load.order"

# Module names treat '-' and '_' alike; files use either.
norm() { echo "$1" | tr '-' '_'; }

declare -A KO=()
while IFS= read -r f; do
    b=${f##*/}
    KO[$(norm "${b%.ko}")]=$f
done < <(find "$MODDIR/kernel" -name '*.ko')

is_builtin() {
    [ -f "$MODDIR/modules.builtin" ] &&
        sed 's|.*/||; s|\.ko$||' "$MODDIR/modules.builtin" | tr '-' '_' | grep -qx -- "$1"
}

declare -A DONE=()
declare -A VISITING=()
visit() {
    local m dep deps f
    m=$(norm "$1")
    [ -z "${DONE[$m]:-}" ] || return 0
    [ -z "${VISITING[$m]:-}" ] || die "dependency cycle through $m"
    f=${KO[$m]:-}
    if [ -z "$f" ]; then
        if is_builtin "$m"; then
            DONE[$m]=builtin
            return 0
        fi
        if find "$MODDIR/kernel" -name "$1.ko.*" -o -name "$m.ko.*" | grep -q .; then
            die "module $m is compressed; only plain .ko files are supported"
        fi
        die "module $m not found under $MODDIR"
    fi
    VISITING[$m]=1
    deps=$(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')
    for dep in $deps; do
        visit "$dep"
    done
    unset "VISITING[$m]"
    cp "$f" "$OUTDIR/${f##*/}"
    echo "${f##*/}" >>"$OUTDIR/load.order"
    DONE[$m]=file
}

for name in "$@"; do
    visit "$name"
done
