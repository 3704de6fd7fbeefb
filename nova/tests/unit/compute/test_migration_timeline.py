"""The timeline's verdict and ETA on constructed migrations, retention and
the calibration helpers."""

import types

import fixtures
import testtools

from nova.compute import migration_timeline as mtl

MiB = mtl.MiB


def precopy_run(total_mib, link_mib_s, dirty_mib_s, downtime_ms=500,
                dt=0.5, limit_s=120.0, throttle_at=None):
    """Points of a pre-copy migration, pass by pass as QEMU runs it.

    The link sends the dirty pages at its rate while the guest dirties
    more (at most all of its memory). When what is left of a pass fits in
    the allowed downtime QEMU syncs the dirty bitmap (a new pass begins
    with what was dirtied meanwhile) and stops the guest if it still fits.
    QEMU reports a dirty rate from the second pass on. With
    ``throttle_at`` (s), the dirty rate halves from then (a throttle step).
    Returns (points, duration), duration None when it never finished.
    """
    total = total_mib * MiB
    link = link_mib_s * MiB
    fits = link * downtime_ms / 1000.0
    t, iteration, remaining, dirtied = 0.0, 1, float(total), 0.0
    points = []
    while t < limit_s:
        dirty = dirty_mib_s * MiB
        throttle = 0
        if throttle_at is not None and t >= throttle_at:
            dirty, throttle = dirty / 2, 50
        points.append(mtl.TimelinePoint(
            elapsed=round(t, 6), iteration=iteration,
            memory_remaining=int(remaining), memory_total=total,
            data_remaining=int(remaining),
            dirty_bps=dirty if iteration > 1 else 0.0, transfer_bps=link,
            throttle=throttle, downtime_ms=downtime_ms))
        step = min(dt, max(remaining - fits, 0.0) / link) or dt
        remaining = max(remaining - link * step, 0.0)
        dirtied = min(dirtied + dirty * step, total - remaining)
        t += step
        if remaining <= fits + 1:
            remaining, dirtied = remaining + dirtied, 0.0
            iteration += 1
            if remaining <= fits + 1:
                return points, t + remaining / link
    return points, None


def on_grid(points, dt=0.5):
    return [p for p in points if abs(p.elapsed / dt - round(p.elapsed / dt))
            < 1e-9]


class AssessTestCase(testtools.TestCase):

    def test_no_sample_is_starting(self):
        result = mtl.assess([])
        self.assertEqual((mtl.STARTING, None), (result.verdict,
                                                result.eta_s))

    def test_converging_eta_is_close_to_the_real_end(self):
        points, duration = precopy_run(512, 64, 40)
        self.assertIsNotNone(duration)
        points = on_grid(points)
        half = [p for p in points if p.elapsed <= duration / 2]
        result = mtl.assess(half, finish_s=0)
        self.assertEqual(mtl.CONVERGING, result.verdict)
        left = duration - half[-1].elapsed
        self.assertLess(abs(result.eta_s - left) / left, 0.05)
        self.assertAlmostEqual(result.eta_s + mtl.FINISH_S,
                               mtl.assess(half).eta_s)
        self.assertIn('outruns', result.why)
        self.assertEqual([], result.would_finish)

    def test_eta_counts_down_with_time(self):
        points, duration = precopy_run(512, 64, 16)
        points = on_grid(points)
        etas = [mtl.assess([p for p in points if p.elapsed <= at]).eta_s
                for at in (0.5 * duration, 0.6 * duration, 0.7 * duration)]
        self.assertTrue(etas[0] > etas[1] > etas[2] > 0, etas)

    def test_first_pass_is_the_bulk_copy(self):
        points, _duration = precopy_run(256, 32, 0)
        result = mtl.assess(points[:3], finish_s=0)
        self.assertEqual(mtl.CONVERGING, result.verdict)
        self.assertAlmostEqual((256 - 32) / 32.0, result.eta_s, places=3)
        self.assertIn('first pass', result.why)
        self.assertIn('not measured yet', result.why)
        self.assertAlmostEqual(32.0 / 256, result.progress, places=3)

    def test_first_pass_with_an_assumed_dirty_rate(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova.compute.migration_timeline.FIRST_PASS_DIRTY_RATIO', 0.5))
        points, _duration = precopy_run(256, 32, 0)
        result = mtl.assess(points[:3], finish_s=0)
        # 7 s to end the pass, then passes of 128, 64, 32 and 16 MiB at
        # 32 MiB/s (the guest assumed to dirty 16 MiB/s), the last one
        # within the allowed 500 ms.
        self.assertAlmostEqual(7.0 + 4 + 2 + 1 + 0.5, result.eta_s,
                               places=3)
        self.assertIn('(assumed 50% of the link)', result.why)
        # Right for a guest that does dirty half the link.
        points, duration = precopy_run(256, 32, 16)
        points = on_grid(points)
        seen = [p for p in points if p.elapsed <= duration / 4]
        self.assertEqual(1, seen[-1].iteration)
        left = duration - seen[-1].elapsed
        self.assertLess(abs(mtl.assess(seen, finish_s=0).eta_s - left) / left,
                        0.05)

    def test_not_converging_says_why_and_what_would_finish(self):
        points, duration = precopy_run(256, 32, 48, limit_s=20)
        self.assertIsNone(duration)
        events = [mtl.TimelineEvent(9.0, 'downtime', 'step 3: 150 ms')]
        result = mtl.assess(points, events)
        self.assertEqual(mtl.NOT_CONVERGING, result.verdict)
        self.assertIsNone(result.eta_s)
        self.assertIn('48.0 MiB/s', result.why)
        self.assertIn('32.0 MiB/s', result.why)
        options = [name for name, _how in result.would_finish]
        self.assertEqual([mtl.OPT_AUTO_CONVERGE, mtl.OPT_POST_COPY,
                          mtl.OPT_FORCE_COMPLETE, mtl.OPT_DOWNTIME],
                         options)
        # 1 - 32 / (48 x 1.05) = 36.5%: a 37% throttle is enough.
        self.assertIn('37%', result.would_finish[0][1])
        self.assertEqual('downtime', result.last_action.action)

    def test_a_throttle_step_counts_at_once(self):
        points, duration = precopy_run(256, 32, 48, throttle_at=8.0)
        self.assertIsNotNone(duration)
        before = mtl.assess([p for p in points if p.elapsed < 8.0])
        after = mtl.assess([p for p in points if p.elapsed <= 8.5])
        self.assertEqual(mtl.NOT_CONVERGING, before.verdict)
        self.assertEqual(mtl.CONVERGING, after.verdict)
        self.assertEqual(50, after.throttle)

    def test_options_already_used_are_not_offered(self):
        points, _duration = precopy_run(256, 32, 4000, limit_s=20)
        result = mtl.assess(points, [mtl.TimelineEvent(5.0, 'pause', 'x')])
        options = [name for name, _how in result.would_finish]
        # 4000 MiB/s against 32: no throttle up to 99% is enough.
        self.assertNotIn(mtl.OPT_AUTO_CONVERGE, options)
        self.assertNotIn(mtl.OPT_FORCE_COMPLETE, options)
        self.assertIn(mtl.OPT_POST_COPY, options)

    def test_post_copy_eta_is_the_remaining_pull(self):
        points = [
            mtl.TimelinePoint(elapsed=6.0, iteration=3,
                              memory_remaining=100 * MiB,
                              memory_total=256 * MiB, dirty_bps=48 * MiB,
                              transfer_bps=32 * MiB),
            mtl.TimelinePoint(elapsed=6.5, iteration=3,
                              memory_remaining=64 * MiB,
                              memory_total=256 * MiB, transfer_bps=32 * MiB,
                              phase=mtl.POST_COPY)]
        events = [mtl.TimelineEvent(6.2, 'postcopy', 'no progress')]
        result = mtl.assess(points, events)
        self.assertEqual(mtl.IN_POST_COPY, result.verdict)
        self.assertAlmostEqual(2.0 + mtl.FINISH_S, result.eta_s)
        self.assertAlmostEqual(2.0, mtl.assess(points, events,
                                               finish_s=0).eta_s)
        self.assertEqual(0.0, result.dirty_bps)
        self.assertEqual('no progress', result.last_action.reason)

    def test_paused_by_force_complete(self):
        points = [mtl.TimelinePoint(elapsed=10.0, iteration=5,
                                    memory_remaining=20 * MiB,
                                    memory_total=256 * MiB,
                                    transfer_bps=40 * MiB,
                                    phase=mtl.PAUSED)]
        result = mtl.assess(points)
        self.assertEqual(mtl.PAUSED_FOR_COMPLETION, result.verdict)
        # 20 MiB at 40 MiB/s, then the job's finish.
        self.assertAlmostEqual(0.5 + mtl.FINISH_S, result.eta_s)

    def test_link_rate_from_the_remainder_when_libvirt_gives_none(self):
        points = [mtl.TimelinePoint(elapsed=t, iteration=1,
                                    memory_remaining=(100 - 10 * t) * MiB,
                                    memory_total=100 * MiB)
                  for t in (0.0, 0.5, 1.0)]
        result = mtl.assess(points, finish_s=0)
        self.assertAlmostEqual(10 * MiB, result.transfer_bps)
        self.assertAlmostEqual(9.0, result.eta_s)

    def test_as_dict(self):
        points, _duration = precopy_run(256, 32, 48, limit_s=20)
        values = mtl.assess(points).as_dict()
        self.assertEqual(mtl.NOT_CONVERGING, values['verdict'])
        self.assertEqual(mtl.OPT_AUTO_CONVERGE,
                         values['would_finish'][0]['option'])


class PointTestCase(testtools.TestCase):

    def test_from_job_info(self):
        info = types.SimpleNamespace(
            memory_iteration=4, memory_remaining=10, memory_total=100,
            data_remaining=12, memory_dirty_rate=256, memory_page_size=4096,
            memory_bps=2048, auto_converge_throttle=30)
        point = mtl.point_from_job_info(1.23456, info, mtl.PRE_COPY, 300)
        self.assertEqual(mtl.TimelinePoint(
            elapsed=1.235, iteration=4, memory_remaining=10,
            memory_total=100, data_remaining=12, dirty_bps=1048576.0,
            transfer_bps=2048.0, throttle=30, downtime_ms=300), point)

    def test_phase(self):
        self.assertEqual([mtl.PRE_COPY, mtl.POST_COPY, mtl.PAUSED],
                         [mtl.phase_of(False, False), mtl.phase_of(True, False),
                          mtl.phase_of(False, True)])
        self.assertRaises(ValueError, mtl.TimelinePoint, elapsed=0,
                          phase='copying')


class BoundedTestCase(testtools.TestCase):

    def test_short_lists_stay(self):
        self.assertEqual(list(range(10)), mtl.bounded(range(10), 10, 4))

    def test_head_kept_rest_thinned_newest_kept(self):
        kept = mtl.bounded(range(1000), 100, 20)
        self.assertLessEqual(len(kept), 100)
        self.assertGreater(len(kept), 50)
        self.assertEqual(list(range(20)), kept[:20])
        self.assertEqual(999, kept[-1])
        gaps = {b - a for a, b in zip(kept[20:-1], kept[21:-1])}
        self.assertEqual(1, len(gaps), gaps)

    def test_appending_keeps_it_bounded(self):
        kept = []
        for i in range(5000):
            kept = mtl.bounded(kept + [i], 60, 10)
            self.assertLessEqual(len(kept), 60)
        self.assertEqual(list(range(10)), kept[:10])
        self.assertEqual(4999, kept[-1])

    def test_limit_must_leave_room(self):
        self.assertRaises(ValueError, mtl.bounded, range(10), 5, 4)


class CalibrationTestCase(testtools.TestCase):

    def test_error_of_a_run_the_estimate_models_is_small(self):
        points, duration = precopy_run(512, 64, 40)
        run = mtl.RecordedRun('model', on_grid(points), [], duration)
        for fraction in (0.5, 0.75):
            self.assertLess(mtl.eta_error_at(run, fraction, finish_s=0),
                            0.01)

    def test_error_is_against_the_time_really_left(self):
        points, duration = precopy_run(512, 64, 40)
        points = on_grid(points)
        run = mtl.RecordedRun('late', points, [], duration * 2)
        seen = [p for p in points if p.elapsed <= duration]
        eta = mtl.assess(seen).eta_s
        left = 2 * duration - seen[-1].elapsed
        self.assertAlmostEqual(abs(eta - left) / left,
                               mtl.eta_error_at(run, 0.5))
        self.assertGreater(mtl.eta_error_at(run, 0.5), 0.4)

    def test_no_eta_is_not_counted(self):
        points, _duration = precopy_run(256, 32, 48, limit_s=20)
        stuck = mtl.RecordedRun('stuck', points, [], 20.0)
        points, duration = precopy_run(512, 64, 40)
        good = mtl.RecordedRun('good', on_grid(points), [], duration)
        report = mtl.calibration([stuck, good], fractions=(0.75,),
                                 finish_s=0)
        median, with_eta, runs = report[0.75]
        self.assertEqual((1, 2), (with_eta, runs))
        self.assertLess(median, 0.01)


class FaultTestCase(testtools.TestCase):

    def test_from_the_last_decision(self):
        events = [mtl.TimelineEvent(6.5, 'postcopy', 'no progress'),
                  mtl.TimelineEvent(20.0, 'postcopy-recovery-failed',
                                    'resume refused\n3 times')]
        self.assertEqual(
            'Live migration 4 to lab-b ended in error: '
            'postcopy-recovery-failed after 20.0 s: resume refused 3 times',
            mtl.fault_message(4, 'lab-b', events))

    def test_given_reason_and_length(self):
        self.assertEqual('Live migration 4 to lab-b ended in error: boom',
                         mtl.fault_message(4, 'lab-b', [], 'boom'))
        self.assertIn('no decision recorded',
                      mtl.fault_message(4, 'lab-b', []))
        self.assertEqual(255, len(mtl.fault_message(4, 'b', [], 'x' * 400)))


class RecorderTestCase(testtools.TestCase):

    def info(self, remaining):
        return types.SimpleNamespace(
            memory_iteration=1, memory_remaining=remaining,
            memory_total=100, data_remaining=remaining, memory_dirty_rate=0,
            memory_page_size=4096, memory_bps=10,
            auto_converge_throttle=0)

    def test_keeps_every_sample_saves_at_the_interval(self):
        saved = types.SimpleNamespace(points=[], events=[])
        migration = types.SimpleNamespace(
            add_timeline_points=lambda pts: saved.points.append(list(pts)),
            add_timeline_event=saved.events.append)
        recorder = mtl.Recorder(migration, interval=5.0)
        for i in range(12):
            recorder.sample(0.5 * i, self.info(100 - i), mtl.PRE_COPY, 50)
        recorder.decision(5.5, 'postcopy', 'stuck')
        self.assertEqual(12, len(recorder.points))
        # Saved at 0 s (the first) and 5 s (the next ten); one left.
        self.assertEqual([1, 10], [len(batch) for batch in saved.points])
        recorder.flush()
        self.assertEqual([1, 10, 1], [len(b) for b in saved.points])
        self.assertEqual(['postcopy'], [e.action for e in saved.events])
        self.assertEqual(mtl.CONVERGING, recorder.assess().verdict)
        self.assertEqual('stuck', recorder.assess().last_action.reason)

    def test_a_failed_save_is_retried_and_never_raises(self):
        calls = []

        def add(points):
            calls.append(len(points))
            if len(calls) == 1:
                raise RuntimeError('database gone')

        def add_event(event):
            raise RuntimeError('database gone')
        migration = types.SimpleNamespace(add_timeline_points=add,
                                          add_timeline_event=add_event)
        recorder = mtl.Recorder(migration, interval=1.0)
        recorder.sample(0.0, self.info(100))
        recorder.sample(0.5, self.info(90))
        recorder.sample(1.0, self.info(80))
        recorder.decision(1.0, 'pause', 'asked')
        self.assertEqual([1, 3], calls)
        self.assertEqual(1, len(recorder.events))

    def test_without_a_migration(self):
        recorder = mtl.Recorder(None, interval=1.0)
        recorder.sample(0.0, self.info(100))
        recorder.flush()
        self.assertEqual(1, len(recorder.points))
