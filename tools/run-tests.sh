#!/bin/bash
# The project's test command (README.rst, .ci/run): installs what it needs
# on a fresh Debian machine, then runs every tox environment CI checks.
# Usage: tools/run-tests.sh [tox envs, comma separated]
set -eu
cd "$(dirname "$0")/.."
# tempest: Tempest's compute API tests on the simulated hypervisors
# (tools/tempest); it prints how long it took.
# functional-mixed: the live-migration cases and every drill again on the
# rolling-upgrade lab (lab-a libvirt 9.0/QEMU 7.2, lab-b 11.3/10.0).
envs=${1:-pep8,py3,py3-eventlet,genconfig,docs,releasenotes,tempest,functional,functional-mixed}
tools/install-system-packages.sh test lab
venv=${NOVA_TOOLS_VENV:-.venv-tools}
if [ ! -x "$venv/bin/tox" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q 'tox>=4.0'
fi
# One phase per tox environment, each timed and bounded: CI must finish
# within an hour on a 2-core machine, so a phase over its budget (seconds,
# NOVA_CI_BUDGET_<env> overrides; "-" and "." read as "_") is stopped and
# fails the run. STACK (debian12, backports, mixed) is the lab's for
# functional (tools/lab/README.rst).
declare -A budget=([pep8]=600 [py3]=600 [py3-eventlet]=600 [genconfig]=120
    [docs]=420 [releasenotes]=240 [tempest]=600 [functional]=1800 [functional-mixed]=900 [drills]=900)
t_all=$(date +%s)
rc=0
summary=""
IFS=, read -ra env_list <<<"$envs"
for env in "${env_list[@]}"; do
    var=NOVA_CI_BUDGET_$(echo "$env" | tr -- '-.' '__')
    limit=${!var:-${budget[$env]:-900}}
    t0=$(date +%s)
    echo "== phase $env (budget ${limit} s) started $(date -u +%H:%M:%S)"
    set +e
    timeout --foreground -k 30 "$limit" "$venv/bin/tox" -e "$env"
    prc=$?
    set -e
    took=$(( $(date +%s) - t0 ))
    verdict=ok
    if [ "$prc" = 124 ] || [ "$prc" = 137 ]; then
        verdict="OVER BUDGET (stopped at ${limit} s)"
    elif [ "$prc" != 0 ]; then
        verdict="FAILED (exit $prc)"
    fi
    [ "$verdict" = ok ] || rc=1
    summary="$summary$(printf '  %-14s %5d s  budget %5d s  %s' "$env" "$took" "$limit" "$verdict")"$'\n'
    echo "== phase $env: ${took} s (budget ${limit} s): $verdict"
done
total=$(( $(date +%s) - t_all ))
total_limit=${NOVA_CI_BUDGET_TOTAL:-3600}
echo "== phases (total ${total} s, budget ${total_limit} s):"
printf '%s' "$summary"
if [ "$total" -gt "$total_limit" ]; then
    echo "== the phases together went over ${total_limit} s"
    rc=1
fi
exit "$rc"
