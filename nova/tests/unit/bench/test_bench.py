"""The migration benchmark: metrics, tables, determinism, the runner."""

import csv
import io
import json
import logging
import os
import time

import fixtures
import testtools

import nova.conf
from nova.bench import cli
from nova.bench import matrix
from nova.bench import metrics
from nova.bench import overhead
from nova.bench import report
from nova.bench import runner
from nova.bench import simulated
from nova.simulator import libvirt as fakelibvirt
from nova import utils

STRATEGIES = {s.name: s for s in matrix.STRATEGIES}
# 1 GiB on 10 Gbit/s: floor = 2^30 / 1.25e9 s.
IDLE = matrix.WorkloadSpec(1, 0.0, 10)
# Cheap runs that still differ by strategy (25 Gbit/s, 1 GiB).
# (A working set the top downtime cannot carry: post-copy is needed.)
BUSY = matrix.WorkloadSpec(1, 3.0, 1)
CALM = matrix.WorkloadSpec(1, 0.1, 25)


class MatrixTestCase(testtools.TestCase):

    def test_default_matrix_is_issue_5s(self):
        specs = matrix.default_matrix()
        self.assertEqual(4 * 5 * 3 + 1, len(specs))
        self.assertEqual(len(specs), len({s.name for s in specs}))
        self.assertEqual(1, len([s for s in specs if s.phases]))

    def test_units(self):
        spec = matrix.WorkloadSpec(64, 1.5, 1)
        self.assertEqual(1.25e8, spec.bandwidth)
        self.assertAlmostEqual(64 * 2 ** 30 / 1.25e8, spec.floor_s)
        self.assertEqual(16 * 2 ** 30, spec.working_set_bytes)
        self.assertEqual(1.5 * 1.25e8, spec.dirty_rate)

    def test_phases_scale_with_the_floor(self):
        spec = matrix.phased_workload()
        phases = spec.model_phases()
        self.assertAlmostEqual(0.75 * spec.floor_s, phases[0][0])
        self.assertAlmostEqual(0.1 * spec.bandwidth, phases[0][1])
        self.assertAlmostEqual(1.5 * spec.bandwidth, phases[1][1])

    def test_strategies_by_name(self):
        self.assertEqual(['defaults', 'post-copy'], [
            s.name for s in matrix.strategies_named(['post-copy',
                                                     'defaults'])])
        self.assertEqual(matrix.ALL_STRATEGIES, matrix.strategies_named([]))
        self.assertRaises(ValueError, matrix.strategies_named, ['nope'])


class MetricsTestCase(testtools.TestCase):

    def test_compute(self):
        spec = matrix.WorkloadSpec(4, 1.5, 10)
        obs = metrics.Observation(
            outcome='completed', total_s=spec.floor_s * 3,
            sent_bytes=spec.ram_bytes * 2.5, guest_stop_s=0.25,
            qemu_downtime_s=0.22, throttle_cpu_s=12.34, max_throttle=40,
            postcopy_started_at=spec.floor_s * 2,
            actions=((8.0, 'postcopy', 'why'), (9.0, 'pause', '')),
            iterations=7, polls=20, mode='post-copy')
        r = metrics.compute('x', spec, obs, 500)
        self.assertEqual(3.0, r.time_ratio)
        self.assertEqual(0.5, r.stop_ratio)
        self.assertEqual(220, r.qemu_downtime_ms)
        self.assertEqual(2.5, r.sent_ratio)
        self.assertEqual(round(spec.floor_s, 2), r.postcopy_s)
        self.assertEqual((8.0, 'postcopy'), (r.first_action_s,
                                             r.first_action))
        self.assertEqual(12.3, r.throttle_cpu_s)
        self.assertEqual(len(metrics.RUN_COLUMNS), len(r.row()))

    def _result(self, strategy, outcome, ratio, stop, first=None):
        return metrics.RunResult(
            strategy=strategy, workload='w', ram_gib=1, dirty_ratio=1,
            gbit=1, mode='pre-copy', outcome=outcome, total_s=ratio,
            floor_s=1, time_ratio=ratio, guest_stop_s=stop,
            stop_ratio=stop * 2, qemu_downtime_ms=0, throttle_cpu_s=1.0,
            max_throttle=0, postcopy_s=None, sent_ratio=1,
            first_action_s=first, first_action='', iterations=1, polls=1)

    def test_summary_counts_aborted_runs_only_in_the_success_rate(self):
        results = [self._result('a', 'completed', 1.5, 0.1),
                   self._result('a', 'completed', 3.0, 0.4, first=10.0),
                   self._result('a', 'completed', 2.0, 0.2),
                   self._result('a', 'aborted', 900.0, 0.0, first=800.0),
                   self._result('b', 'completed', 1.0, 0.1)]
        s = metrics.summarise('a', results)
        self.assertEqual(4, s['runs'])
        self.assertEqual(3, s['completed'])
        self.assertEqual(1, s['aborted'])
        self.assertEqual(75.0, s['success_pct'])
        self.assertEqual(2.0, s['median_time_ratio'])
        self.assertEqual(3.0, s['worst_time_ratio'])
        self.assertEqual(0.4, s['worst_guest_stop_s'])
        self.assertEqual(0.8, s['worst_stop_ratio'])
        self.assertEqual(405.0, s['median_first_action_s'])
        self.assertEqual(4.0, s['throttle_cpu_s'])

    def test_summary_of_nothing_completed(self):
        s = metrics.summarise('a', [self._result('a', 'aborted', 9, 0)])
        self.assertEqual(0.0, s['success_pct'])
        self.assertIsNone(s['median_time_ratio'])
        self.assertIsNone(s['worst_guest_stop_s'])


class SimulatedRunTestCase(testtools.TestCase):
    """Runs through the real driver on the fake, with known answers."""

    def setUp(self):
        super(SimulatedRunTestCase, self).setUp()
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        self.backend = simulated.SimulatedBackend()

    def test_idle_guest_known_numbers(self):
        # Set-up 0.2 s; the first downtime rung (100 ms) is set at the
        # first poll, so QEMU stops once 125 MB are left: after 16 model
        # steps of 50 ms, 1 GiB - 16 x 62.5 MB = 73741824 bytes are left,
        # sent in 59 ms plus 30 ms of device state.
        r = self.backend.run(STRATEGIES['defaults'], IDLE)
        self.assertEqual('completed', r.outcome)
        self.assertEqual('pre-copy', r.mode)
        self.assertEqual(1.09, r.total_s)
        self.assertEqual(0.86, r.floor_s)
        self.assertEqual(round(1.089 / IDLE.floor_s, 2), r.time_ratio)
        self.assertEqual(0.089, r.guest_stop_s)
        self.assertEqual(89, r.qemu_downtime_ms)
        self.assertEqual(0.18, r.stop_ratio)
        self.assertEqual(1.0, r.sent_ratio)
        self.assertEqual(1, r.iterations)
        self.assertIsNone(r.postcopy_s)
        self.assertIsNone(r.first_action_s)
        self.assertEqual(0.0, r.throttle_cpu_s)

    def test_post_copy_switches_and_completes(self):
        r = self.backend.run(STRATEGIES['post-copy'], BUSY, timeline=True)
        self.assertEqual('completed', r.outcome)
        self.assertEqual('post-copy', r.mode)
        self.assertEqual('postcopy', r.first_action)
        self.assertIsNotNone(r.postcopy_s)
        self.assertEqual(0.03, r.guest_stop_s)
        self.assertAlmostEqual(r.timeline['postcopy_at'],
                               r.total_s - r.postcopy_s, places=2)
        self.assertEqual(len(r.timeline['t']), len(r.timeline['throttle']))

    def test_both_permitted_is_post_copy(self):
        a = self.backend.run(STRATEGIES['post-copy'], BUSY)
        b = self.backend.run(STRATEGIES['post-copy+auto-converge'], BUSY)
        self.assertEqual(a.row()[2:], b.row()[2:])

    def test_operator_force_complete_pauses_the_guest(self):
        spec = matrix.WorkloadSpec(1, 1.5, 1)
        r = self.backend.run(STRATEGIES['operator-force-complete'], spec)
        self.assertEqual('completed', r.outcome)
        self.assertEqual('pause', r.first_action)
        # Asked for at 2 floor times (17.18 s): the request wakes the loop,
        # which acts within one 0.1 s event slice of the virtual clock.
        self.assertEqual(17.2, r.first_action_s)
        self.assertGreater(r.guest_stop_s, r.qemu_downtime_ms / 1000.0)
        # Stopped from the pause to the end, final copy included.
        self.assertAlmostEqual(r.total_s - r.first_action_s, r.guest_stop_s,
                               delta=0.01)

    def test_auto_converge_throttles(self):
        spec = matrix.WorkloadSpec(1, 1.5, 1)
        r = self.backend.run(STRATEGIES['auto-converge'], spec)
        self.assertEqual('completed', r.outcome)
        self.assertEqual('auto-converge', r.mode)
        self.assertGreaterEqual(r.max_throttle, 20)
        self.assertGreater(r.throttle_cpu_s, 0)

    def test_figures_do_not_depend_on_the_operation_thread(self):
        # The operation thread loses the CPU right after the migration job
        # appears on the domain and gets it back only once the monitor's
        # virtual clock is 2 s on: the clock must have driven the job all
        # along (it once lagged by those 2 s, moving every action and poll
        # count, about one run in 150 under eventlet).
        strategy = matrix.strategies_named(['ovirt-post-copy'])[0]
        undisturbed = self.backend.run(strategy, BUSY)
        native = utils.native_threading()
        delayed = []

        def set_job(dom, job):
            dom.__dict__['_job_under_test'] = job
            if job is None or delayed:
                return
            delayed.append(job)
            clock = dom._conn.world.clock
            give_up = time.monotonic() + 10
            while clock.now() < 2.0 and time.monotonic() < give_up:
                native.Event().wait(0.001)

        self.useFixture(fixtures.MockPatchObject(
            fakelibvirt.FakeDomain, 'job', create=True, new=property(
                lambda dom: dom.__dict__.get('_job_under_test'), set_job)))
        late = self.backend.run(strategy, BUSY)
        self.assertEqual(1, len(delayed))
        self.assertEqual(undisturbed.row(), late.row())

    def test_conf_overrides_stay_in_their_conf(self):
        a = simulated.make_conf((('live_migration_permit_post_copy', True),))
        b = simulated.make_conf(())
        self.assertTrue(a.libvirt.live_migration_permit_post_copy)
        self.assertFalse(b.libvirt.live_migration_permit_post_copy)
        nova.conf.CONF([], project='nova', default_config_files=[])
        self.assertFalse(nova.conf.CONF.libvirt.live_migration_permit_post_copy)

    def test_same_matrix_same_tables(self):
        strategies = [STRATEGIES['defaults'], STRATEGIES['post-copy'],
                      STRATEGIES['operator-force-complete']]
        workloads = [CALM, matrix.WorkloadSpec(1, 1.5, 25)]
        first = runner.run_matrix(self.backend, strategies, workloads)
        # Another seed changes the guests' UUIDs, nothing in the tables.
        second = runner.run_matrix(simulated.SimulatedBackend(seed=7),
                                   strategies, workloads)
        names = [s.name for s in strategies]
        self.assertEqual(report.runs_csv(first), report.runs_csv(second))
        self.assertEqual(
            report.summary_markdown(metrics.summary_table(names, first)),
            report.summary_markdown(metrics.summary_table(names, second)))
        self.assertEqual([(s.name, w.name) for s in strategies
                          for w in workloads],
                         [(r.strategy, r.workload) for r in first])


class ReportTestCase(testtools.TestCase):

    def test_markdown_table(self):
        text = report.markdown_table(['a', 'b'], [[1, None], [0.5, 'x']])
        self.assertEqual('| a | b |\n|---|---|\n| 1 |  |\n| 0.5 | x |\n',
                         text)

    def test_csv_round_trip(self):
        r = metrics.compute('s', IDLE, metrics.Observation(
            outcome='aborted', total_s=10, sent_bytes=IDLE.ram_bytes,
            guest_stop_s=0, qemu_downtime_s=0), 500)
        rows = list(csv.DictReader(io.StringIO(report.runs_csv([r]))))
        self.assertEqual('aborted', rows[0]['outcome'])
        self.assertEqual('', rows[0]['postcopy_s'])
        self.assertEqual(list(metrics.RUN_COLUMNS), list(rows[0]))


class CliTestCase(testtools.TestCase):

    def test_writes_the_tables(self):
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        out = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', io.StringIO()))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        level = logging.getLogger('nova').level
        rc = cli.main(['--out', out, '--jobs', '1', '--no-plots',
                       '--no-overhead', '--strategies', 'defaults,post-copy',
                       '--workloads', '1GiB-x0.1-25Gbit,1GiB-x3-25Gbit',
                       '--doc-dir', os.path.join(out, 'doc')])
        self.assertEqual(0, rc)
        # The CLI quiets the driver's logging while it runs, only then.
        self.assertEqual(level, logging.getLogger('nova').level)
        with open(os.path.join(out, 'summary.csv')) as f:
            summary = list(csv.DictReader(f))
        self.assertEqual(['defaults', 'post-copy'],
                         [row['strategy'] for row in summary])
        self.assertEqual(['2', '2'], [row['runs'] for row in summary])
        with open(os.path.join(out, 'results.md')) as f:
            text = f.read()
        self.assertIn('## Summary per strategy', text)
        self.assertIn('1GiB-x3-25Gbit', text)
        with open(os.path.join(out, 'run-info.json')) as f:
            self.assertEqual(4, json.load(f)['runs'])
        self.assertTrue(os.path.exists(os.path.join(out, 'doc',
                                                    'summary.csv')))


class OverheadTestCase(testtools.TestCase):

    def test_measure_a_few_monitors(self):
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        figures = overhead.measure(migrations=2, seconds=0.6, warmup=0.05)
        self.assertEqual(2, figures['migrations'])
        self.assertEqual(2, figures['monitoring_at_end'])
        self.assertGreater(figures['polls'], 0)
        self.assertGreaterEqual(figures['process_cpu_s'],
                                figures['monitor_cpu_s'])
