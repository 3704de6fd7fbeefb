"""The lab for tests: the product's ``nova.bench.labhosts`` plus what only
a test case needs (skip or fail without the lab, figures and logs as test
details).
"""

import json
import os
import time

import testtools

from nova.bench import labhosts

# The lab's own helpers, under the names the tests use.
DEFAULT_ENV = labhosts.DEFAULT_ENV
DIRTIER = labhosts.DIRTIER
LabUnavailable = labhosts.LabUnavailable
env_path = labhosts.env_path
load_env = labhosts.load_env
migrate_data = labhosts.migrate_data
host_env = labhosts.host_env
boot_image = labhosts.boot_image
console_reports = labhosts.console_reports
INIT_BANNER = labhosts.INIT_BANNER
DIRTIER_EXITED = labhosts.DIRTIER_EXITED
DIRTIER_START = labhosts.DIRTIER_START
console_restarts = labhosts.console_restarts
guest_verdict = labhosts.guest_verdict
console_problems = labhosts.console_problems
wait_for = labhosts.wait_for
tcg_kernel_damage = labhosts.tcg_kernel_damage


def wait_reports_or_crash(testcase, path, count, virt_type, timeout=60):
    """Wait for ``count`` console reports; skip on TCG's kernel damage.

    A guest that QEMU's TCG damaged during the copy (tcg_kernel_damage)
    stops reporting: the test is skipped with the crash line, since the
    driver's part of the migration already passed its checks and what
    broke is the emulator. Anything else that stops the guest still fails
    (the wait times out, or the caller's verdict check fails).
    """
    def done():
        if len(console_reports(path)) >= count:
            return True
        return bool(tcg_kernel_damage(path, virt_type))
    wait_for(done, timeout, what='the guest to keep reporting')
    damage = tcg_kernel_damage(path, virt_type)
    if damage:
        testcase.skipTest('the guest kernel crashed under QEMU TCG after '
                          'the migration (the guest program lost no '
                          'write; the driver\'s checks had passed): %s'
                          % damage)


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
