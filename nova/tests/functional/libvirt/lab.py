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
