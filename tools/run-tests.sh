#!/bin/bash
# The project's test command (README.rst, .ci/run): installs what it needs
# on a fresh Debian machine, then runs every tox environment CI checks.
# Usage: tools/run-tests.sh [tox envs, comma separated]
set -eu
cd "$(dirname "$0")/.."
# tempest: Tempest's compute API tests on the simulated hypervisors
# (tools/tempest); it prints how long it took.
envs=${1:-pep8,py3,py3-eventlet,genconfig,docs,releasenotes,tempest,functional}
tools/install-system-packages.sh test lab
venv=${NOVA_TOOLS_VENV:-.venv-tools}
if [ ! -x "$venv/bin/tox" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q 'tox>=4.0'
fi
exec "$venv/bin/tox" -e "$envs"
