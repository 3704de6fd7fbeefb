"""Guest cost in the model, the peers, the oracle and the calibration."""

import os

import fixtures
import testtools

from nova.bench import calibration
from nova.bench import labreport
from nova.bench import matrix
from nova.bench import metrics
from nova.bench import oracle
from nova.bench import simulated
from nova.simulator import migration_model as mm

MiB = mm.MiB
LAB_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                       'doc', 'source', 'admin', 'bench', 'lab')
# The lab benchmark before monitor v2, its post-copy runs of this policy,
# and the current full run (with the blackout probe).
LAB_RESULTS = os.path.join(LAB_DIR, 'v1', 'results.csv')
LAB_V2_RESULTS = os.path.join(LAB_DIR, 'postcopy-v2', 'results.csv')
LAB_NOW_RESULTS = os.path.join(LAB_DIR, 'results.csv')
LAB_NOW_BLACKOUT = os.path.join(LAB_DIR, 'blackout.csv')


def _job(dirty_mib_s, fault_service=0.0, ws_mib=64, ram_mib=256):
    workload = mm.Workload(ram=ram_mib * MiB, dirty_rate=dirty_mib_s * MiB,
                           working_set=ws_mib * MiB)
    link = mm.Link(bandwidth=100 * MiB, fault_service=fault_service)
    return mm.MigrationModel(workload, link, postcopy_permitted=True)


def _postcopy(job, switch_at=4.0):
    job.advance(switch_at)
    job.start_postcopy()
    while not job.ended:
        job.advance(0.5)
    return job


class GuestCostTestCase(testtools.TestCase):

    def test_idle_guest_loses_nothing_in_postcopy(self):
        job = _postcopy(_job(0))
        self.assertEqual(0.0, job.fault_wait_seconds)
        self.assertEqual(job.guest_stopped_time, job.guest_impact_seconds)

    def test_busy_guest_waits_for_faults(self):
        job = _postcopy(_job(150))
        self.assertGreater(job.postcopy_requests, 0)
        self.assertGreater(job.fault_wait_seconds, 0.0)
        # Never more lost than the time spent in post-copy.
        self.assertLessEqual(job.fault_wait_seconds,
                             job.elapsed - job.postcopy_started_at + 1e-6)
        self.assertAlmostEqual(
            job.guest_stopped_time + job.fault_wait_seconds,
            job.guest_impact_seconds)

    def test_fault_service_slows_guest_and_stream(self):
        quick = _postcopy(_job(150))
        slow = _postcopy(_job(150, fault_service=0.004))
        self.assertGreater(slow.fault_wait_seconds,
                           2 * quick.fault_wait_seconds)
        self.assertGreater(slow.elapsed, quick.elapsed)

    def test_fault_cost_is_round_trip_service_and_page(self):
        job = _job(10, fault_service=0.001)
        self.assertAlmostEqual(0.0002 + 0.001 + 4096 / (100.0 * MiB),
                               job.fault_cost())

    def test_throttle_counts_as_lost_time(self):
        workload = mm.Workload(ram=256 * MiB, dirty_rate=150 * MiB,
                               working_set=64 * MiB)
        job = mm.MigrationModel(workload, mm.Link(bandwidth=100 * MiB),
                                auto_converge=True)
        job.advance(30)
        self.assertGreater(job.throttle_cpu_seconds, 0)
        self.assertEqual(job.throttle_cpu_seconds, job.lost_guest_seconds)

    def test_passes_recorded(self):
        job = _job(150)
        job.advance(6)
        numbers = [n for _t, n, _b in job.passes]
        self.assertEqual(list(range(1, job.iteration + 1)), numbers)
        self.assertEqual(64 * MiB, job.passes[-1][2])


class PassMetricsTestCase(testtools.TestCase):

    def test_stall_pass(self):
        passes = ((0, 1, 1000), (1, 2, 250), (2, 3, 240), (3, 4, 240))
        self.assertEqual(3, metrics.stall_pass(passes))
        self.assertIsNone(metrics.stall_pass(passes[:2]))
        self.assertEqual(2, metrics.pass_at(passes, 1.5))
        self.assertIsNone(metrics.pass_at((), 1.0))


class PeersTestCase(testtools.TestCase):

    def test_every_peer_is_valid_configuration(self):
        for strategy in matrix.PEERS:
            conf = simulated.make_conf(strategy.options)
            for name, value in strategy.options:
                self.assertEqual(value, getattr(conf.libvirt, name))

    def test_names_unique_and_recommended_present(self):
        names = [s.name for s in matrix.ALL_STRATEGIES]
        self.assertEqual(len(names), len(set(names)))
        self.assertIn(matrix.RECOMMENDED, names)

    def test_peer_wins(self):
        def row(strategy, total, impact, outcome='completed'):
            return metrics.RunResult(
                strategy=strategy, workload='w', ram_gib=1, dirty_ratio=1,
                gbit=1, mode='', outcome=outcome, total_s=total, floor_s=1,
                time_ratio=total, guest_stop_s=0, stop_ratio=0,
                qemu_downtime_ms=0, throttle_cpu_s=0, max_throttle=0,
                postcopy_s=None, sent_ratio=1, first_action_s=None,
                first_action='', iterations=1, polls=1, impact_s=impact)
        mine = {'w': row('a', 10.0, 1.0)}
        self.assertEqual(['w'], metrics.peer_wins({'w': row('b', 9.0, 1.0)},
                                                  mine))
        # Within 5%, or costlier to the guest: no win.
        self.assertEqual([], metrics.peer_wins({'w': row('b', 9.6, 0.5)},
                                               mine))
        self.assertEqual([], metrics.peer_wins({'w': row('b', 5.0, 2.0)},
                                               mine))
        self.assertEqual([], metrics.peer_wins(
            {'w': row('b', 1.0, 0.0, 'aborted')}, mine))


class OracleTestCase(testtools.TestCase):

    def test_converging_guest_needs_no_action(self):
        best = oracle.oracle(matrix.WorkloadSpec(1, 0.1, 10))
        self.assertTrue(best.plan.startswith('precopy'), best.plan)
        self.assertIsNone(best.stall_pass)
        self.assertLess(best.time_ratio, 1.4)

    def test_hot_guest_acts_after_the_first_pass(self):
        spec = matrix.WorkloadSpec(4, 3.0, 10)
        best = oracle.oracle(spec)
        self.assertIn(best.plan, ('postcopy-1', 'pause-1'))
        self.assertEqual(3, best.stall_pass)
        # No fixed plan it tried is faster.
        for kind, value in oracle.plans():
            other = oracle.run_plan(spec, kind, value)
            if other.completed:
                self.assertGreaterEqual(other.total_s, best.total_s - 1e-6)

    def test_ratio_attached_to_runs(self):
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        spec = matrix.WorkloadSpec(1, 3.0, 25)
        strategies = {s.name: s for s in matrix.ALL_STRATEGIES}
        row = simulated.SimulatedBackend().run(strategies['post-copy'], spec)
        best = oracle.oracle(spec)
        metrics.attach_oracle([row], {spec.name: best})
        self.assertAlmostEqual(row.total_s / best.total_s, row.oracle_ratio,
                               places=2)
        self.assertGreaterEqual(row.oracle_ratio, 0.95)
        self.assertEqual(best.stall_pass, row.stall_pass)


class CalibrationTestCase(testtools.TestCase):

    def test_lab_fit_is_the_model_constant(self):
        # The committed lab runs give the constant the lab model uses.
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        best, errors, phases = calibration.fit(
            LAB_V2_RESULTS, grid=(0.0, 0.0001, mm.FAULT_SERVICE_LAB_S,
                                  0.0003, 0.001), uncapped=False)
        self.assertEqual(mm.FAULT_SERVICE_LAB_S, best)
        self.assertLess(errors[best], errors[0.0])
        self.assertEqual(2, len(phases))

    def test_fit_to_the_runs_before_monitor_v2(self):
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        best, errors, phases = calibration.fit(
            LAB_RESULTS, grid=(0.0, 0.002, mm.FAULT_SERVICE_LAB_V1_S, 0.006))
        self.assertEqual(mm.FAULT_SERVICE_LAB_V1_S, best)
        self.assertEqual(6, len(phases))


class CommittedLabFitsTestCase(testtools.TestCase):
    """The lab figures the model uses are the fits to the committed run."""

    def setUp(self):
        super(CommittedLabFitsTestCase, self).setUp()
        self.useFixture(fixtures.FakeLogger(level='ERROR'))

    def test_resume_time(self):
        fitted = calibration.fit_resume_time(
            LAB_NOW_BLACKOUT, announce_delay=mm.Link(1).announce_delay)
        self.assertAlmostEqual(mm.RESUME_TIME_LAB_S, fitted, places=3)

    def test_request_wait(self):
        best, errors, _m = calibration.fit_request_wait(
            LAB_NOW_BLACKOUT, grid=(0.0, 0.03, mm.REQUEST_WAIT_LAB_S, 0.06))
        self.assertEqual(mm.REQUEST_WAIT_LAB_S, best)
        self.assertLess(errors[best], errors[0.0] / 10)

    def test_postcopy_end_time(self):
        best, errors, _p = calibration.fit_postcopy_end(
            LAB_NOW_RESULTS, grid=(0.0, 0.75, mm.POSTCOPY_END_LAB_S, 1.75))
        self.assertEqual(mm.POSTCOPY_END_LAB_S, best)
        self.assertLess(errors[best], errors[0.0] / 2)


class ResumeTimeFitTestCase(testtools.TestCase):
    """The hand-over fitted from what the blackout probe saw."""

    ROWS = (
        # strategy, outcome, QEMU downtime ms, blackout seen
        ('defaults', 'completed', '78', '184 +/- 10'),
        ('auto-converge', 'completed', '30', '94 +/- 10'),
        ('auto-converge', 'completed', '42', '138 +/- 10'),
        # post-copy: no QEMU downtime; aborted: the guest never moved
        ('post-copy', 'completed', '-', '932 +/- 10'),
        ('defaults', 'aborted', '-', '116 +/- 10'),
        ('operator-force-complete', 'completed', '1951', '2068 +/- 10'),
    )

    def write(self):
        path = self.useFixture(fixtures.TempDir()).join('blackout.csv')
        with open(path, 'w') as f:
            f.write(labreport.blackout_csv([]))
            for strategy, outcome, downtime, seen in self.ROWS:
                f.write('%s,w,%s,%s,,%s,,,,\n' % (strategy, outcome,
                                                  downtime, seen))
        return path

    def test_samples_are_completed_switch_overs(self):
        samples = calibration.hand_over_samples(self.write())
        self.assertEqual([0.101, 0.059, 0.091, 0.112],
                         [round(s, 3) for s in samples])

    def test_fit_is_the_median_less_the_announce(self):
        fitted = calibration.fit_resume_time(self.write(),
                                             announce_delay=0.001)
        self.assertAlmostEqual((0.091 + 0.101) / 2 - 0.001, fitted)

    def test_no_runs_is_an_error(self):
        self.ROWS = ()
        self.assertRaises(ValueError, calibration.fit_resume_time,
                          self.write())


class RequestWaitFitTestCase(testtools.TestCase):
    """The requested page's wait behind the stream, fitted to blackouts."""

    KEYS = (('post-copy', '256MiB-x1.5-32MiBps'),
            ('post-copy', '1024MiB-x1.5-64MiBps'))

    def test_fit_finds_the_wait_that_made_the_blackouts(self):
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        params = dict(mm.lab_link_params(), request_wait=0.02)
        made = calibration.model_blackouts(self.KEYS, params)
        # Longer than the switch-over alone: the answer's pages queue.
        without = calibration.model_blackouts(
            self.KEYS, dict(params, request_wait=0.0))
        for key in self.KEYS:
            self.assertGreater(made[key], without[key] + 0.1)
        path = self.useFixture(fixtures.TempDir()).join('blackout.csv')
        with open(path, 'w') as f:
            f.write(labreport.blackout_csv([]))
            for (strategy, workload), seconds in sorted(made.items()):
                # As the probe reports it: +5 ms is half its interval.
                f.write('%s,%s,completed,-,,%d +/- 10,,,,\n' % (
                    strategy, workload, round(seconds * 1000) + 5))
            # A pre-copy finish: not a post-copy blackout.
            f.write('defaults,256MiB-x0.5-16MiBps,completed,70,,180 +/- 10'
                    ',,,,\n')
        self.assertEqual(set(self.KEYS),
                         set(calibration.postcopy_blackouts(path)))
        best, errors, _models = calibration.fit_request_wait(
            path, grid=(0.0, 0.01, 0.02, 0.04))
        self.assertEqual(0.02, best)
        self.assertLess(errors[best], errors[0.0])


class RealOverheadTestCase(testtools.TestCase):
    """The harness of the real-costs overhead, on the fake and SQLite."""

    def setUp(self):
        super(RealOverheadTestCase, self).setUp()
        from nova.db import api as db_api
        from nova.db import migration as db_migration
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        path = self.useFixture(fixtures.TempDir()).path
        self.db = db_api.Database('sqlite:///%s/nova.sqlite' % path)
        self.addCleanup(self.db.dispose)
        db_migration.db_sync(self.db.engine)

    def test_polls_decide_and_save_at_the_interval(self):
        from nova.bench import real_overhead
        from nova.db import api as db_api
        [guest] = real_overhead.fake_guests(1)
        [mig_id] = real_overhead._migrations(self.db, 1)
        mon = real_overhead.Monitored(guest, self.db, mig_id)
        for now in (100.0, 101.0, 103.0, 105.5):
            mon.poll(now, started=100.0)
        self.assertEqual((4, 0), (mon.polls, mon.errors))
        # At the first poll and once the 5 s interval passed.
        self.assertEqual(2, mon.saves)
        row = db_api.migration_get(self.db, mig_id)
        self.assertEqual(real_overhead.running_sample(5.5).memory_processed,
                         row['memory_processed'])

    def test_cpu_of_this_process(self):
        from nova.bench import real_overhead
        self.assertGreater(real_overhead._proc_cpu([os.getpid()]), 0.0)
        self.assertEqual(0.0, real_overhead._proc_cpu([2 ** 22 + 7]))
