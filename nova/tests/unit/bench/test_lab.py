"""The lab benchmark's pure parts: matrix, figures, pairing, tables.

Nothing here needs the lab: the backend's sample handling is fed made-up
monitor samples, and the model runs on the simulated hypervisor.
"""

import csv
import io

import testtools

from nova.bench import cli
from nova.bench import compare
from nova.bench import lab
from nova.bench import lab_matrix
from nova.bench import labcli
from nova.bench import labreport
from nova.bench import matrix
from nova.bench import metrics
from nova.bench import simulated
from nova.simulator import migration_model as mm
from nova.virt.libvirt import guest as libvirt_guest

MiB = 1024 * 1024
STRATEGIES = {s.name: s for s in matrix.STRATEGIES}


def info(**kw):
    return libvirt_guest.JobInfo(**kw)


class LabMatrixTestCase(testtools.TestCase):

    def test_workload_units(self):
        spec = lab_matrix.workload(256, 32, 1.5)
        self.assertEqual('256MiB-x1.5-32MiBps', spec.name)
        self.assertEqual(256, spec.memory_mib)
        self.assertAlmostEqual(32 * MiB, spec.bandwidth)
        self.assertAlmostEqual(48 * MiB, spec.dirty_rate)
        self.assertAlmostEqual(8.0, spec.floor_s)
        self.assertEqual(64 * MiB, spec.working_set_bytes)
        self.assertEqual((46 + 64) * MiB, spec.resident_bytes)
        self.assertAlmostEqual(lab_matrix.LINK_MIB_S * MiB,
                               spec.link_bandwidth)
        options = dict(spec.options)
        self.assertEqual(32, options['live_migration_bandwidth'])
        self.assertEqual(lab_matrix.COMPLETION_TIMEOUT,
                         options['live_migration_completion_timeout'])
        self.assertEqual({'dirty_mib': '64', 'dirty_rate': '48'},
                         lab_matrix.guest_metadata(spec))
        self.assertEqual(32, lab_matrix.cap_mib_s(spec))

    def test_simulated_specs_keep_their_link(self):
        spec = matrix.WorkloadSpec(4, 1.5, 10)
        self.assertEqual(spec.bandwidth, spec.link_bandwidth)
        self.assertIsNone(spec.resident_bytes)
        self.assertEqual((), spec.options)

    def test_dirty_rate_must_be_whole_mib(self):
        self.assertRaises(ValueError, lab_matrix.workload, 256, 16, 0.3)

    def test_resident_uses_the_nearest_measured_size(self):
        self.assertEqual(75 + 100, lab_matrix.resident_mib(512, 100))
        self.assertEqual(83 + 10, lab_matrix.resident_mib(2048, 10))
        self.assertEqual(128, lab_matrix.resident_mib(128, 100))

    def test_matrix_shape(self):
        pairs = lab_matrix.pairs()
        self.assertEqual(sum(len(c.strategies) for c in lab_matrix.CELLS),
                         len(pairs))
        specs = {spec.name: spec for _s, spec in pairs}
        self.assertEqual({256, 512, 1024},
                         {s.memory_mib for s in specs.values()})
        self.assertEqual({0.5, 1.5}, {s.dirty_ratio for s in specs.values()})
        # Every strategy of the simulated matrix runs on the lab.
        self.assertEqual(set(STRATEGIES), {s.name for s, _w in pairs})
        self.assertIn(lab_matrix.TIMELINE_WORKLOAD, specs)
        timeline = [s.name for s, w in pairs
                    if w.name == lab_matrix.TIMELINE_WORKLOAD]
        self.assertEqual(list(lab_matrix.EVERY_STRATEGY), timeline)

    def test_pairs_filtered(self):
        pairs = lab_matrix.pairs(strategies=['post-copy'])
        self.assertEqual({'post-copy'}, {s.name for s, _w in pairs})
        one = lab_matrix.find_cell_pairs(pairs, ['512MiB-x0.5-32MiBps'])
        self.assertEqual(1, len(one))
        self.assertRaises(ValueError, lab_matrix.find_cell_pairs, pairs,
                          ['nope'])
        self.assertEqual(pairs, lab_matrix.find_cell_pairs(pairs, []))

    def test_cli_lab_alias(self):
        args = cli.parse_args(['lab', '--workloads', 'x'])
        self.assertEqual('lab', args.backend)
        self.assertEqual('x', args.workloads)
        self.assertEqual('simulated', cli.parse_args([]).backend)


class SamplesTestCase(testtools.TestCase):
    """The backend's reading of real monitor samples."""

    SAMPLES = [(0.0, info(memory_processed=10 * MiB, memory_iteration=1)),
               (1.0, info(memory_processed=40 * MiB, memory_iteration=2,
                          auto_converge_throttle=20)),
               (3.0, info(memory_processed=90 * MiB, memory_iteration=3,
                          auto_converge_throttle=30)),
               (3.5, info(memory_processed=99 * MiB, memory_iteration=3))]

    def test_throttle_cpu_seconds(self):
        # 20% for 2 s, 30% for 0.5 s.
        self.assertAlmostEqual(0.55, lab.throttle_cpu_seconds(self.SAMPLES))
        self.assertEqual(0, lab.throttle_cpu_seconds([]))

    def test_completed_with_libvirt_totals(self):
        done = info(time_elapsed=4200, memory_processed=120 * MiB,
                    downtime=25, memory_iteration=4)
        obs = lab.lab_observation(metrics.OUTCOME_COMPLETED, self.SAMPLES,
                                  [], 4.0, done, False, 'auto-converge')
        self.assertEqual(4.2, obs.total_s)
        self.assertEqual(120 * MiB, obs.sent_bytes)
        self.assertEqual(0.025, obs.qemu_downtime_s)
        self.assertEqual(0.025, obs.guest_stop_s)
        self.assertEqual(30, obs.max_throttle)
        self.assertEqual(4, obs.iterations)
        self.assertEqual(4, obs.polls)

    def test_post_copy_without_totals(self):
        # After post-copy the lab's libvirt reports an all-zero job.
        actions = [(3.0, 'postcopy', 'not converging')]
        obs = lab.lab_observation(metrics.OUTCOME_COMPLETED, self.SAMPLES,
                                  actions, 5.5, info(), False, 'post-copy')
        self.assertEqual(5.5, obs.total_s)
        self.assertEqual(99 * MiB, obs.sent_bytes)
        self.assertIsNone(obs.qemu_downtime_s)
        self.assertIsNone(obs.guest_stop_s)
        self.assertEqual(3.0, obs.postcopy_started_at)

    def test_paused_guest_stops_from_the_pause(self):
        actions = [(2.0, 'pause', 'completion timeout reached')]
        done = info(time_elapsed=6000, memory_processed=1, downtime=40)
        obs = lab.lab_observation(metrics.OUTCOME_COMPLETED, self.SAMPLES,
                                  actions, 6.5, done, True, 'pre-copy')
        self.assertEqual(4.0, obs.guest_stop_s)
        self.assertEqual(0.04, obs.qemu_downtime_s)
        self.assertEqual(4000, compare.from_observation(obs)['downtime_ms'])

    def test_times_on_the_jobs_clock(self):
        # The monitor first saw the job 0.4 s after libvirt started it.
        samples = [(0.0, info(time_elapsed=400)),
                   (0.5, info(time_elapsed=900))] + self.SAMPLES[2:]
        actions = [(3.0, 'postcopy', 'x')]
        obs = lab.lab_observation(metrics.OUTCOME_COMPLETED, samples,
                                  actions, 5.0, None, False, 'post-copy')
        self.assertEqual(0.4, lab.job_clock_lag(samples))
        self.assertEqual(3.4, obs.postcopy_started_at)
        self.assertEqual(((3.4, 'postcopy', 'x'),), obs.actions)
        self.assertEqual(5.4, obs.total_s)
        tl = lab.lab_timeline(samples, actions, [(0, 50), (3, 95)])
        self.assertEqual([0.4, 0.9, 3.4, 3.9], tl['t'])
        self.assertEqual([50, 50, 95, 95], tl['downtime_ms'])
        self.assertEqual(3.4, tl['postcopy_at'])

    def test_aborted_has_no_downtime(self):
        actions = [(3.0, 'abort', 'completion timeout reached')]
        obs = lab.lab_observation(metrics.OUTCOME_ABORTED, self.SAMPLES,
                                  actions, 4.0, None, False, 'pre-copy')
        self.assertIsNone(obs.guest_stop_s)
        self.assertIsNone(obs.qemu_downtime_s)
        row = metrics.compute('defaults', lab_matrix.workload(256, 32, 1.5),
                              obs, 500)
        self.assertIsNone(row.stop_ratio)
        self.assertEqual('abort', row.first_action)

    def test_mode_and_ladder(self):
        self.assertEqual('post-copy', lab.mode_of(True, True))
        self.assertEqual('auto-converge', lab.mode_of(False, True))
        self.assertEqual('pre-copy', lab.mode_of(False, False))
        ladder = [(0, 50), (6, 95), (12, 140)]
        self.assertEqual(50, lab.downtime_at(ladder, 5.9))
        self.assertEqual(140, lab.downtime_at(ladder, 30))
        tl = lab.lab_timeline(self.SAMPLES, [(3.0, 'postcopy', '')], ladder)
        self.assertEqual([0.0, 1.0, 3.0, 3.5], tl['t'])
        self.assertEqual(3.0, tl['postcopy_at'])
        self.assertEqual([50, 50, 50, 50], tl['downtime_ms'])

    def test_guest_rate_skips_the_calibration_second(self):
        reports = [{'rate': 3.0}, {'rate': 47.0}, {'rate': 48.0},
                   {'rate': 49.0}]
        self.assertEqual(48.0, lab.guest_rate(reports))
        self.assertIsNone(lab.guest_rate([{'rate': 1.0}]))


class CompareTestCase(testtools.TestCase):

    LAB = compare.figures('completed', 8.24, 200 * MiB, None, 0,
                          [(6.0, 'postcopy', 'x')], 3)
    MODEL = compare.figures('completed', 6.1, 250 * MiB, 30, 0,
                            [(6.0, 'postcopy', 'x')], 3)

    def test_ratio(self):
        self.assertEqual(2.0, compare.ratio(4, 2))
        self.assertIsNone(compare.ratio(None, 2))
        self.assertIsNone(compare.ratio(4, 0))

    def test_figures(self):
        self.assertEqual(8.2, self.LAB['time_s'])
        self.assertEqual(200.0, self.LAB['sent_mib'])
        self.assertEqual('postcopy', self.LAB['first_action'])
        self.assertEqual(6.0, self.LAB['first_action_s'])

    def test_pair_cells(self):
        cells = dict(zip([k for k, _h, _r in compare.FIGURES],
                         compare.pair_cells(self.LAB, self.MODEL)))
        self.assertEqual('completed / completed', cells['outcome'])
        self.assertEqual('8.2 / 6.1 (1.34)', cells['time_s'])
        self.assertEqual('200 / 250 (0.8)', cells['sent_mib'])
        self.assertEqual('- / 30', cells['downtime_ms'])
        self.assertIn('guest stop', compare.pair_headings()[3])
        self.assertEqual('postcopy 6 / postcopy 6 (1)',
                         cells['first_action'])
        self.assertEqual(len(compare.FIGURES), len(compare.pair_headings()))

    def test_no_ratios_when_outcomes_differ(self):
        model = dict(self.MODEL, outcome='aborted')
        ratios = compare.pair_ratios(self.LAB, model)
        self.assertEqual({None}, set(ratios.values()))

    def test_from_result_and_observation_agree(self):
        spec = lab_matrix.workload(256, 16, 0.5)
        obs = metrics.Observation(
            outcome='completed', total_s=12.34, sent_bytes=222 * MiB,
            guest_stop_s=0.03, qemu_downtime_s=0.03,
            actions=((5.0, 'postcopy', ''),), iterations=4)
        row = metrics.compute('post-copy', spec, obs, 500)
        self.assertEqual(compare.from_observation(obs),
                         compare.from_result(row))

    def test_agreement(self):
        other = dict(self.LAB, outcome='aborted')
        stats = compare.agreement([(self.LAB, self.MODEL),
                                   (other, self.MODEL)])
        self.assertEqual(2, stats['runs'])
        self.assertEqual(1, stats['same_outcome'])
        self.assertEqual((1.34, 1.34, 1.34), stats['time_s'])


def _run(strategy='post-copy', lab_outcome='completed'):
    spec = lab_matrix.workload(256, 32, 1.5)
    model = simulated.SimulatedBackend().run(STRATEGIES[strategy], spec)
    obs = metrics.Observation(
        outcome=lab_outcome, total_s=8.2, sent_bytes=205 * MiB,
        guest_stop_s=None, qemu_downtime_s=None,
        actions=((6.0, 'postcopy', ''),), iterations=3, polls=13,
        mode='post-copy')
    real = metrics.compute(strategy, spec, obs, 500)
    return labreport.LabRun(
        lab=real, model=model, lab_figures=compare.from_observation(obs),
        model_figures=compare.from_result(model), guest_rate_mib_s=45.9,
        guest_ok=True, wall_s=20.0)


class LabReportTestCase(testtools.TestCase):

    def test_model_of_a_lab_guest(self):
        # The model gets the lab's cap, uncapped link and zero pages: the
        # busy guest is switched to post-copy as in the lab, after sending
        # less than its RAM.
        run = _run()
        self.assertEqual('completed', run.model.outcome)
        self.assertEqual('postcopy', run.model.first_action)
        self.assertLess(run.model.sent_ratio, 1.5)
        # The switch waits for its evidence twice in a row (monitor v2).
        self.assertLess(run.model.total_s, 12)

    def test_table_row(self):
        row = labreport.table_row(_run())
        self.assertEqual(['post-copy', 256, 32, '48 / 45.9'], row[:4])
        self.assertEqual('completed / completed', row[4])
        self.assertEqual('yes', row[-1])
        self.assertEqual(len(labreport.table_headings()), len(row))

    def test_csv(self):
        rows = list(csv.reader(io.StringIO(labreport.lab_csv(
            [_run(), _run('defaults', 'completed')]))))
        self.assertEqual(list(labreport.CSV_COLUMNS), rows[0])
        self.assertEqual(3, len(rows))
        first = dict(zip(rows[0], rows[1]))
        self.assertEqual('8.2', first['lab_time_s'])
        self.assertEqual('postcopy', first['lab_first_action_name'])
        self.assertEqual('256MiB-x1.5-32MiBps', first['workload'])
        second = dict(zip(rows[0], rows[2]))
        self.assertEqual('', second['ratio_time_s'])   # outcomes differ

    def test_results_markdown(self):
        runs = [_run(), _run('defaults', 'completed')]
        text = labreport.results_markdown(runs, ['post-copy', 'defaults'],
                                          [('backend', 'lab')])
        for heading in ('Lab beside the model', 'Summary per strategy, lab',
                        'Every lab run', 'Every model run'):
            self.assertIn(heading, text)
        self.assertIn('same outcome: 1 of 2 runs', text)
        self.assertIn('outcome differs: defaults', text)

    def test_table_csv_has_the_markdown_cells(self):
        rows = list(csv.reader(io.StringIO(labreport.table_csv([_run()]))))
        self.assertEqual(labreport.table_headings(), rows[0])
        self.assertEqual([str(c) for c in labreport.table_row(_run())],
                         rows[1])

    def test_remodel_keeps_the_lab_and_predicts_again(self):
        # A refit model predicts the saved lab runs again (--remodel): the
        # lab's figures stay, the model's follow the new link.
        run = _run()
        backend = simulated.SimulatedBackend(link_params={
            'resume_time': 0.5})
        [again] = labcli.remodel([run], backend)
        self.assertIs(run.lab, again.lab)
        self.assertEqual(run.lab_figures, again.lab_figures)
        self.assertAlmostEqual(run.model.blackout_s + 0.48,
                               again.model.blackout_s, places=3)
        self.assertEqual(compare.from_result(again.model),
                         again.model_figures)

    def test_lab_backend_uses_the_fitted_link(self):
        spec = lab_matrix.workload(256, 32, 1.5)
        plain = simulated.SimulatedBackend(
            fault_service=mm.FAULT_SERVICE_LAB_S).run(
                STRATEGIES['auto-converge'], spec)
        lab_model = simulated.lab_backend().run(
            STRATEGIES['auto-converge'], spec)
        self.assertAlmostEqual(
            plain.blackout_s + mm.RESUME_TIME_LAB_S - mm.Link(1).resume_time,
            lab_model.blackout_s, places=3)

    def test_link_params_must_be_link_fields(self):
        self.assertRaises(ValueError, simulated.SimulatedBackend,
                          link_params={'resume': 1.0})
