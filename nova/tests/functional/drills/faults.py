"""Fault injection on the two-host lab, from Python.

Thin wrappers around ``tools/lab/fault.sh`` (which signals only the
processes named in the lab's pid files) so a drill and an operator at a
shell inject exactly the same faults. ``restore()`` undoes all of them; the
drills register it as a cleanup, so the lab works for the next test even
when a drill fails half-way.
"""

import os
import subprocess

TOOLS = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..', '..', 'tools', 'lab'))
FAULT_SH = os.path.join(TOOLS, 'fault.sh')


class FaultError(Exception):
    pass


def _run(*args, timeout=90):
    proc = subprocess.run(['bash', FAULT_SH] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True,
                          timeout=timeout)
    if proc.returncode:
        raise FaultError('fault.sh %s failed (%s): %s'
                         % (' '.join(args), proc.returncode, proc.stdout))
    return proc.stdout.strip()


def kill_libvirtd(host, signal='KILL'):
    """The host's libvirt daemon dies; its QEMU processes do not."""
    return _run('kill-libvirtd', host, signal)


def start_libvirtd(host):
    """Start it again inside the host; returns once it answers."""
    return _run('start-libvirtd', host)


def restart_libvirtd(host, down_s=0):
    """kill -9, ``down_s`` seconds without a daemon, start again."""
    return _run('restart-libvirtd', host, str(down_s))


def link_down():
    """Cut the veth pair between the hosts (no RST: packets just vanish)."""
    return _run('link-down')


def link_up():
    return _run('link-up')


def link_is_up():
    return _run('link-status') == 'up'


def partition(what='all'):
    """Drop packets between the hosts silently, the link staying up.

    ``all``: every packet; ``stream``: only the QEMU migration streams
    (libvirt's own connection kept). Unlike ``link_down`` nobody gets an
    error: peers retransmit until TCP or libvirt's keepalive gives up.
    """
    return _run('partition', what)


def heal():
    return _run('heal')


def partition_status():
    return _run('partition-status')


def libvirtd_answers(uri):
    """True when a libvirt daemon answers at ``uri``."""
    proc = subprocess.run(['virsh', '-q', '-c', uri, 'version'],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=30)
    return proc.returncode == 0


def restore(env):
    """Link up, no partition, both libvirt daemons running: the lab as
    tests expect it.

    Safe to call when nothing is broken.
    """
    problems = []
    try:
        if not link_is_up():
            link_up()
        if partition_status() != 'none':
            heal()
    except Exception as exc:
        problems.append(str(exc))
    for letter, host in (('A', 'lab-a'), ('B', 'lab-b')):
        if libvirtd_answers(env['NOVA_LAB_%s_URI' % letter]):
            continue
        try:
            start_libvirtd(host)
        except Exception as exc:
            problems.append(str(exc))
    if problems:
        raise FaultError('could not restore the lab: %s' % '; '.join(problems))
