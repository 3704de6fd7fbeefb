#!/bin/bash
# Install the Debian packages listed in bindep.txt that are missing.
# Usage: tools/install-system-packages.sh [profile ...]   (default: test)
# Runs apt-get only when something is missing, so re-runs cost nothing.
set -eu
cd "$(dirname "$0")/.."
profiles=${*:-test}
wanted=()
while read -r line; do
    line=${line%%#*}
    [ -n "${line// }" ] || continue
    pkg=${line%% *}
    for p in $profiles; do
        case "$line" in *" $p"*|*"[$p"*) wanted+=("$pkg"); break;; esac
    done
done < bindep.txt
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present (${#wanted[@]})"
    exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
