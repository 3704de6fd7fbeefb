"""nova-manage live-migration show / watch / plot and db purge.

``watch`` is tested on a real pseudo-terminal (the pty module): in
process with a scripted migration, and as the nova-manage command in a
child process while the test moves the migration along in the database.
"""

import datetime
import fcntl
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from unittest import mock

import fixtures
import testtools

from nova.cmd import live_migration
from nova.cmd import manage
from nova.compute import migration_timeline as mtl
from nova.db import api as db_api
from nova.objects import migration as migration_obj
from nova.tests.unit.compute import cloud

MiB = mtl.MiB


def point(elapsed, remaining, phase=mtl.PRE_COPY, iteration=2):
    return mtl.TimelinePoint(
        elapsed=elapsed, iteration=iteration,
        memory_remaining=remaining * MiB, memory_total=256 * MiB,
        data_remaining=remaining * MiB, dirty_bps=8.0 * MiB,
        transfer_bps=32.0 * MiB, downtime_ms=50, phase=phase)


def terminal(columns=200):
    """A pseudo-terminal (master, slave) ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack('HHHH', 40, columns, 0, 0))
    return master, slave


def read_all(fd, timeout=5.0, until=None):
    """What a pseudo-terminal's master side has to read: until quiet, or
    until ``until`` was read.
    """
    data = b''
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until is not None and until.encode() in data:
            break
        ready, _w, _x = select.select([fd], [], [], 0.2)
        if not ready:
            if data and until is None:
                break
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:         # the child closed its side
            break
        if not chunk:
            break
        data += chunk
    return data.decode()


class Scripted(object):
    """load() for watch: each call the next (migration, timeline)."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.calls = 0

    def __call__(self):
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        return step


def state(status, points, events=()):
    return (migration_obj.Migration(id=7, status=status),
            migration_obj.Timeline(list(points), list(events)))


class ProgressLineTestCase(testtools.TestCase):

    def test_running(self):
        result = mtl.assess([point(3.0, 64)],
                            [mtl.TimelineEvent(2.0, 'downtime', 'step 2')])
        line = live_migration.progress_line('running', result, 2.26, 3.0)
        self.assertIn('[' + '#' * 22 + '.' * 8 + ']', line)
        self.assertIn(' 75.0%', line)
        self.assertIn('ETA 2.3 s', line)
        self.assertIn('pre-copy', line)
        self.assertIn('last: downtime (step 2)', line)

    def test_finished_and_long_eta(self):
        result = mtl.assess([point(300.0, 0)])
        line = live_migration.progress_line('completed', result, None, 300.0)
        self.assertIn('completed  after 5m00s', line)
        self.assertNotIn('ETA', line)
        result = mtl.assess([point(3.0, 64)])
        self.assertIn('ETA ?', live_migration.progress_line(
            'running', result, None, 3.0))
        self.assertIn('ETA 2m05s', live_migration.progress_line(
            'running', result, 125.0, 3.0))

    def test_fits_the_terminal(self):
        result = mtl.assess([point(3.0, 64)], [mtl.TimelineEvent(
            2.0, 'postcopy', 'a very long reason ' * 10)])
        line = live_migration.progress_line('running', result, 1.0, 3.0,
                                            width=60)
        self.assertEqual(59, len(line))
        self.assertTrue(line.endswith('...'))


class WatchTestCase(testtools.TestCase):

    def steps(self):
        return Scripted([
            state('preparing', []),
            state('running', [point(0.5, 240, iteration=1)]),
            state('running', [point(0.5, 240, iteration=1)]),
            state('running', [point(0.5, 240, iteration=1),
                              point(1.0, 100)],
                  [mtl.TimelineEvent(0.8, 'downtime', 'step 1')]),
            state('completed', [point(0.5, 240, iteration=1),
                                point(1.0, 100), point(1.5, 0)],
                  [mtl.TimelineEvent(0.8, 'downtime', 'step 1')]),
        ])

    def test_on_a_pseudo_terminal_the_line_is_redrawn(self):
        master, slave = terminal()
        self.addCleanup(os.close, master)
        out = os.fdopen(slave, 'w')
        self.addCleanup(out.close)
        load = self.steps()
        code = live_migration.watch(load, out, sleep=lambda s: None)
        text = read_all(master)
        self.assertEqual(live_migration.EXIT_COMPLETED, code)
        self.assertEqual(5, load.calls)
        # Five redraws in place, one line feed at the end.
        self.assertEqual(5, text.count('\x1b[K'))
        self.assertEqual(1, text.count('\n'))
        frames = [f for f in text.split('\r') if f.strip()]
        self.assertIn('ETA', frames[1])
        self.assertIn('last: downtime (step 1)', frames[3])
        self.assertIn('completed  after 1.5 s', frames[-1])

    def test_not_a_terminal_writes_plain_lines_when_they_change(self):
        out = io.StringIO()
        code = live_migration.watch(self.steps(), out, sleep=lambda s: None)
        self.assertEqual(live_migration.EXIT_COMPLETED, code)
        text = out.getvalue()
        self.assertNotIn('\r', text)
        self.assertNotIn('\x1b', text)
        lines = text.splitlines()
        # The two identical polls make one line.
        self.assertEqual(4, len(lines), lines)
        self.assertIn('completed', lines[-1])

    def test_eta_counts_down_between_saves(self):
        now = [0.0]
        out = io.StringIO()
        steps = Scripted([state('running', [point(1.0, 64)])] * 3 +
                         [state('failed', [point(1.0, 64)])])

        def sleep(seconds):
            now[0] += seconds
        code = live_migration.watch(steps, out, interval=1.0,
                                    clock=lambda: now[0], sleep=sleep)
        self.assertEqual(live_migration.EXIT_NOT_COMPLETED, code)
        etas = [line.split('ETA ')[1].split('  ')[0]
                for line in out.getvalue().splitlines() if 'ETA' in line]
        self.assertEqual(3, len(etas))
        self.assertEqual(sorted(etas, reverse=True), etas)
        self.assertEqual(3, len(set(etas)))

    def test_timeout(self):
        now = [0.0]
        out = io.StringIO()

        def sleep(seconds):
            now[0] += seconds
        code = live_migration.watch(
            Scripted([state('running', [point(1.0, 64)])]), out,
            interval=1.0, timeout=3.0, clock=lambda: now[0], sleep=sleep)
        self.assertEqual(live_migration.EXIT_TIMEOUT, code)
        self.assertIn('Still running after 3.0 s; stopped watching.',
                      out.getvalue())


class ManageTestCase(testtools.TestCase):

    def setUp(self):
        super(ManageTestCase, self).setUp()
        fixture = self.useFixture(cloud.DatabaseFixture())
        self.db, self.url = fixture.db, fixture.url
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def migration(self, status='running', points=(), events=()):
        row = db_api.migration_create(self.db, {
            'instance_uuid': 'aaaabbbb-0000', 'status': status,
            'migration_type': 'live-migration', 'source_compute': 'lab-a',
            'dest_compute': 'lab-b'})
        mig = migration_obj.Migration.get_by_id(self.db, row['id'])
        mig.add_timeline_points(points)
        for event in events:
            mig.add_timeline_event(event)
        return mig

    def manage(self, *argv):
        out = io.StringIO()
        err = self.useFixture(fixtures.StringStream('stderr')).stream
        with mock.patch('sys.stderr', err):
            code = manage.main(['--database-connection', self.url] +
                               list(argv), out=out)
        err.seek(0)
        return code, out.getvalue(), err.read()

    def test_show(self):
        mig = self.migration(points=[point(0.5, 240, iteration=1),
                                     point(1.0, 100)],
                             events=[mtl.TimelineEvent(
                                 0.8, 'postcopy', 'no progress')])
        code, out, _err = self.manage('live-migration', 'show', str(mig.id))
        self.assertEqual(0, code)
        self.assertIn('lab-a -> lab-b', out)
        self.assertIn('Verdict           converging', out)
        self.assertIn('0.8 s  postcopy', out)
        self.assertIn('no progress', out)
        code, out, _err = self.manage('live-migration', 'show', str(mig.id),
                                      '--json')
        values = json.loads(out)
        self.assertEqual(('converging', 2, 'postcopy'), (
            values['verdict'], values['points'],
            values['events'][0]['action']))

    def test_show_errors(self):
        code, _out, err = self.manage('live-migration', 'show', '999')
        self.assertEqual((1, True), (code, '999' in err))
        code, _out, err = self.manage('live-migration', 'show', 'x')
        self.assertEqual(1, code)
        self.assertIn('a migration id is a number', err)

    def test_plot_without_matplotlib_says_how_to_get_it(self):
        mig = self.migration(points=[point(0.5, 240)])
        with mock.patch.dict(sys.modules, {'matplotlib': None}):
            code, _out, err = self.manage('live-migration', 'plot',
                                          str(mig.id), '-o',
                                          os.path.join(self.tmp, 'a.png'))
        self.assertEqual(1, code)
        self.assertIn("pip install 'nova[plot]'", err)

    def test_plot(self):
        try:
            import matplotlib   # noqa: F401
        except ImportError:
            self.skipTest("matplotlib is not installed here (it is the "
                          "optional extra: pip install '.[plot]')")
        mig = self.migration(points=[point(0.5 * i, 256 - 10 * i)
                                     for i in range(20)],
                             events=[mtl.TimelineEvent(4.0, 'postcopy',
                                                       'no progress')])
        path = os.path.join(self.tmp, 'm.png')
        code, out, _err = self.manage('live-migration', 'plot', str(mig.id),
                                      '-o', path)
        self.assertEqual(0, code)
        self.assertIn('20 samples, 1 decisions', out)
        with open(path, 'rb') as f:
            self.assertEqual(b'\x89PNG', f.read(4))
        empty = self.migration()
        code, _out, err = self.manage('live-migration', 'plot', str(empty.id),
                                      '-o', path)
        self.assertEqual(1, code)
        self.assertIn('no saved timeline', err)

    def test_purge(self):
        old = self.migration('completed', [point(1.0, 0)],
                             [mtl.TimelineEvent(0.5, 'pause', 'asked')])
        failed = self.migration('failed', [point(1.0, 10)])
        live = self.migration('running', [point(1.0, 10)])
        recent = self.migration('completed', [point(1.0, 0)])
        long_ago = db_api.utcnow() - datetime.timedelta(days=40)
        for mig in (old, failed, live):
            with self.db.session() as session:
                session.execute(db_api.sa.update(
                    db_api.models.Migration).where(
                    db_api.models.Migration.id == mig.id).values(
                    updated_at=long_ago, created_at=long_ago))
        code, out, _err = self.manage('db', 'purge', '--older-than', '30',
                                      '--dry-run')
        self.assertEqual(0, code)
        self.assertIn('Would purge 2 finished migration(s)', out)
        archive = os.path.join(self.tmp, 'archive.jsonl')
        code, out, _err = self.manage('db', 'purge', '--older-than', '30',
                                      '--archive', archive)
        self.assertEqual(0, code)
        self.assertIn('Purged 2 finished migration(s)', out)
        self.assertIn('and 3 timeline row(s) (archived to', out)
        with open(archive) as f:
            records = [json.loads(line) for line in f]
        self.assertEqual([old.id, failed.id], [r['id'] for r in records])
        self.assertEqual(['point', 'event'],
                         sorted([row['kind'] for row in
                                 records[0]['timeline']], reverse=True))
        left = [m['id'] for m in db_api.migration_get_all(self.db)]
        self.assertEqual(sorted([live.id, recent.id]), sorted(left))
        self.assertEqual([], db_api.migration_timeline_get(self.db, old.id))
        code, _out, err = self.manage('db', 'purge', '--older-than', '-1')
        self.assertEqual(1, code)

    def test_watch_command_on_a_pseudo_terminal(self):
        """The real command in a child process, its output a terminal."""
        mig = self.migration(points=[point(0.5, 240, iteration=1)])
        master, slave = terminal()
        self.addCleanup(os.close, master)
        child = subprocess.Popen(
            [sys.executable, '-m', 'nova.cmd.manage',
             '--database-connection', self.url, 'live-migration', 'watch',
             str(mig.id), '--interval', '0.1', '--timeout', '60'],
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
            close_fds=True)
        os.close(slave)
        self.addCleanup(child.kill)
        first = read_all(master, timeout=30.0, until='ETA')
        mig.add_timeline_points([point(1.0, 100)])
        mig.add_timeline_event(mtl.TimelineEvent(0.9, 'downtime', 'step 1'))
        second = read_all(master, timeout=10.0, until='(step 1)')
        mig.add_timeline_points([point(1.5, 0)])
        mig.status = 'completed'
        mig.save()
        self.assertEqual(0, child.wait(timeout=30))
        rest = read_all(master, timeout=5.0, until='\r\n')
        text = first + second + rest
        self.assertIn('\r', first)
        self.assertIn('\x1b[K', first)
        self.assertIn('last: downtime (step 1)', second)
        self.assertIn('completed  after 1.5 s', rest or text)
        self.assertTrue(text.endswith('\r\n'), repr(text[-40:]))
