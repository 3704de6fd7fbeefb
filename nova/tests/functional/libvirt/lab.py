"""Access to the two-host real libvirt lab (tools/lab/setup.sh).

The lab writes ``lab.env``; this module reads it, opens the two libvirt
daemons with the real libvirt-python, boots guests through the project's
own driver and reads what the guest program prints on its console.
"""

import json
import os
import re
import time

import testtools

from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova.virt.libvirt import config as libvirt_config

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


def env_for_test(testcase):
    """lab.env for a test: skip without the lab, or fail where CI needs it.

    NOVA_LAB_REQUIRED (set by tox -e functional) turns a missing lab into
    a failure, so CI cannot pass by skipping every real migration.
    """
    try:
        return load_env()
    except LabUnavailable as exc:
        if os.environ.get('NOVA_LAB_REQUIRED'):
            testcase.fail(str(exc))
        testcase.skipTest(str(exc))


def write_figures(testcase, env_var, figures):
    """A test's measured figures: one JSON line in $env_var, and a detail.

    The drills (NOVA_DRILL_RESULTS) and the lab-vs-model runs
    (NOVA_LAB_RESULTS) collect their tables this way.
    """
    line = json.dumps(figures, sort_keys=True)
    path = os.environ.get(env_var)
    if path:
        with open(path, 'a') as handle:
            handle.write(line + '\n')
    testcase.addDetail('figures', testtools.content.text_content(line))


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
    return libvirt_config.BootImage(
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


# What the guest's /init prints once per boot, and when the program it
# runs (and restarts) exits.
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


def guest_verdict(path, before=None):
    """One word for what the console says since ``before`` (a report).

    ``restarted`` (see console_restarts), ``lost-writes`` (the program
    found a page write missing: memory damaged), ``damaged`` (oops, panic),
    ``stuck`` (no report newer than ``before``), else ``ok``; with the
    evidence. Restart is named first: it also resets ``bad``.
    """
    restarts = console_restarts(path)
    if restarts:
        return 'restarted', restarts
    reports = console_reports(path)
    lost = [r for r in reports if r['bad']]
    if lost:
        return 'lost-writes', ['bad=%d at t=%g' % (lost[0]['bad'],
                                                   lost[0]['t'])]
    problems = console_problems(path)
    if problems:
        return 'damaged', problems[:5]
    if before is not None and (not reports or
                               reports[-1]['t'] <= before['t']):
        return 'stuck', ['last report %r, before %r'
                         % (reports[-1] if reports else None, before)]
    return 'ok', []


def keep_logs_on_failure(testcase, env, consoles):
    """On failure, attach the guest consoles and both hosts' libvirtd and
    QEMU logs (what they wrote during the test) to ``testcase``.

    ``consoles`` is a callable returning the console paths known by then.
    """
    offsets = {}
    for letter in ('A', 'B'):
        log_dir = env.get('NOVA_LAB_%s_LOG_DIR' % letter)
        if not log_dir:
            continue
        path = os.path.join(log_dir, 'libvirtd.log')
        offsets[path] = _size(path)

    def attach(exc_info):
        for path in consoles():
            testcase.addDetail('console %s' % os.path.basename(path),
                               testtools.content.text_content(
                                   _tail(path, 0, 400)))
        for path, offset in offsets.items():
            host = os.path.basename(os.path.dirname(os.path.dirname(path)))
            testcase.addDetail('%s libvirtd.log' % host,
                               testtools.content.text_content(
                                   _tail(path, offset, 300)))
            qemu_dir = os.path.join(os.path.dirname(path), 'qemu')
            for name in sorted(os.listdir(qemu_dir)
                               if os.path.isdir(qemu_dir) else []):
                qlog = os.path.join(qemu_dir, name)
                if os.path.getmtime(qlog) >= testcase_started:
                    testcase.addDetail('%s qemu %s' % (host, name),
                                       testtools.content.text_content(
                                           _tail(qlog, 0, 60)))

    testcase_started = time.time() - 1
    testcase.addOnException(attach)


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _tail(path, offset, lines):
    """The last ``lines`` lines of ``path`` from byte ``offset`` on."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(offset if offset <= _size(path) else 0)
            text = handle.read().decode('utf-8', 'replace')
    except OSError as exc:
        return '(%s)' % exc
    return '\n'.join(text.splitlines()[-lines:])


def console_problems(path):
    """Lines showing the guest was damaged (oops, panic, lost writes)."""
    if not os.path.exists(path):
        return []
    bad = ('Kernel panic', 'Oops', 'soft lockup', 'DIRTIER CORRUPT',
           'BUG:', 'general protection')
    with open(path, errors='replace') as handle:
        return [line.strip() for line in handle
                if any(word in line for word in bad)]


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
