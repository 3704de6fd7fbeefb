"""The two-host real libvirt lab (tools/lab/setup.sh), as code sees it.

The lab writes ``lab.env``; this module reads it, says where each host's
libvirt daemon is, builds the boot image and migrate data the project's
own driver takes, and reads what the guest program prints on its console.
Used by the lab benchmark (``nova-migration-bench lab``), tools/lab and the
functional tests; it imports nothing of the tests.
"""

import os
import re
import time

from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova.virt import image as virt_image

DEFAULT_ENV = '/var/tmp/nova-lab/lab.env'


DIRTIER = re.compile(r'DIRTIER t=(?P<t>[0-9.]+) pages=(?P<pages>\d+) '
                     r'rate_mib_s=(?P<rate>[0-9.]+)(?: bad=(?P<bad>\d+))?')


class LabUnavailable(Exception):
    pass


def env_path():
    return os.environ.get('NOVA_LAB_ENV', DEFAULT_ENV)


def load_env(path=None):
    """lab.env as a dict; raises LabUnavailable with the reason."""
    path = path or env_path()
    if not os.path.exists(path):
        raise LabUnavailable('%s not found: run tools/lab/setup.sh (as '
                             'root) to start the two-host lab' % path)
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith('#') and '=' in line:
                key, value = line.split('=', 1)
                values[key] = value
    return values


def migrate_data(dest_addr, saver=None):
    """Migrate data for lab-a -> lab-b, with a fresh Migration record.

    ``saver(migration)``, when given, sees every save of the record.
    """
    mig = migration_obj.Migration(status='preparing', source_compute='lab-a',
                                  dest_compute='lab-b', saver=saver)
    return migrate_data_obj.LibvirtLiveMigrateData(
        migration=mig, target_connect_addr=dest_addr)


def host_env(env, letter):
    prefix = 'NOVA_LAB_%s_' % letter
    return {key[len(prefix):].lower(): value for key, value in env.items()
            if key.startswith(prefix)}


def boot_image(env):
    return virt_image.BootImage(
        kernel=env['NOVA_LAB_KERNEL'], initrd=env['NOVA_LAB_INITRD'],
        cmdline='console=ttyS0 quiet')


def console_reports(path):
    """The guest program's per-second reports: list of dicts."""
    if not os.path.exists(path):
        return []
    with open(path, errors='replace') as handle:
        text = handle.read()
    reports = []
    for match in DIRTIER.finditer(text):
        reports.append({'t': float(match.group('t')),
                        'pages': int(match.group('pages')),
                        'rate': float(match.group('rate')),
                        'bad': int(match.group('bad') or 0)})
    return reports


INIT_BANNER = 'LABGUEST init up'


DIRTIER_EXITED = 'LABGUEST dirtier exited'


DIRTIER_START = 'DIRTIER start'


def _console_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, errors='replace') as handle:
        return handle.read().splitlines()


def console_restarts(path):
    """Evidence that the guest restarted, or its program did: [str].

    A guest whose memory came through a migration intact goes on counting
    from where it was. A second init banner means the guest booted again;
    "LABGUEST dirtier exited" or a second "DIRTIER start" means the program
    died and /init started a new one; a counter going down means the same,
    even when its banner was lost. A restart is not a lost write: the
    counter starts again from 0 with ``bad=0``, which a check of ``bad``
    alone would call healthy.
    """
    lines = _console_lines(path)
    evidence = []
    banners = [line for line in lines if INIT_BANNER in line]
    if len(banners) > 1:
        evidence.append('guest booted %d times (%r seen %d times)'
                        % (len(banners), INIT_BANNER, len(banners)))
    exits = [line.strip() for line in lines if DIRTIER_EXITED in line]
    if exits:
        evidence.append('guest program exited: %s' % exits[0])
    starts = [line for line in lines if DIRTIER_START in line]
    if len(starts) > 1:
        evidence.append('guest program started %d times' % len(starts))
    previous = None
    for report in console_reports(path):
        if previous is not None and report['t'] < previous['t']:
            evidence.append('counter went down: t=%g -> t=%g (pages %d -> '
                            '%d)' % (previous['t'], report['t'],
                                     previous['pages'], report['pages']))
            break
        previous = report
    return evidence


def guest_verdict(path, before=None, stall_s=0):
    """One word for what the console says since ``before`` (a report).

    ``restarted`` (see console_restarts), ``lost-writes`` (the program
    found a page write missing: memory damaged), ``damaged`` (oops, panic),
    ``stuck`` (no report newer than ``before``), else ``ok``; with the
    evidence. Restart is named first: it also resets ``bad``. ``stall_s``:
    how long the test itself kept the guest's vCPU waiting (a post-copy
    stream cut on purpose), see console_problems.
    """
    restarts = console_restarts(path)
    if restarts:
        return 'restarted', restarts
    reports = console_reports(path)
    lost = [r for r in reports if r['bad']]
    if lost:
        return 'lost-writes', ['bad=%d at t=%g' % (lost[0]['bad'],
                                                   lost[0]['t'])]
    problems = console_problems(path, stall_s)
    if problems:
        return 'damaged', problems[:5]
    if before is not None and (not reports or
                               reports[-1]['t'] <= before['t']):
        return 'stuck', ['last report %r, before %r'
                         % (reports[-1] if reports else None, before)]
    return 'ok', []


SOFT_LOCKUP = re.compile(r'soft lockup - CPU#\d+ stuck for (\d+)s')


def console_problems(path, stall_s=0):
    """Lines showing the guest was damaged (oops, panic, lost writes).

    A soft-lockup warning is damage unless it is no longer than
    ``stall_s``: a vCPU waiting for a page that a cut post-copy stream
    cannot bring is stuck for as long as the cut lasts, by design, and the
    guest kernel's watchdog says so once the page arrives.
    """
    if not os.path.exists(path):
        return []
    bad = ('Kernel panic', 'Oops', 'soft lockup', 'DIRTIER CORRUPT',
           'BUG:', 'general protection')
    problems = []
    with open(path, errors='replace') as handle:
        for line in handle:
            if not any(word in line for word in bad):
                continue
            lockup = SOFT_LOCKUP.search(line)
            if lockup and int(lockup.group(1)) <= stall_s:
                continue
            problems.append(line.strip())
    return problems


# What a guest kernel prints when it crashes (not a soft lockup).
KERNEL_CRASH = ('Kernel panic', 'Oops', 'BUG:', 'general protection')


def tcg_kernel_damage(path, virt_type):
    """The kernel crash QEMU's TCG left in a migrated guest, or None.

    Under TCG (QEMU 7.2 on the lab), a guest very rarely lands with a
    kernel structure damaged (a NULL or garbage pointer in the timer code,
    seconds after it resumed) while the guest program's own check of its
    pages found every write: the emulator lost a kernel page write during
    the copy. No libvirt call the driver makes can do that (the driver
    does not touch guest memory). Returned only when all of this holds:
    TCG, a kernel crash line, no lost program write, no restart; any
    other damage is the test's failure. See tools/lab/README.rst, "A
    kernel crash after a TCG migration".
    """
    if virt_type != 'qemu' or not os.path.exists(path):
        return None
    if console_restarts(path):
        return None
    if any(r['bad'] for r in console_reports(path)):
        return None
    problems = console_problems(path)
    if any('DIRTIER CORRUPT' in line for line in problems):
        return None
    crash = [line for line in problems
             if any(word in line for word in KERNEL_CRASH) and
             not SOFT_LOCKUP.search(line)]
    return crash[0] if crash else None


def wait_for(predicate, timeout, interval=0.5, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)
