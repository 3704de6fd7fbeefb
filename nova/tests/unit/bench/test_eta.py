"""The ETA calibration: monitor samples to timelines, and the report."""

import io
import types

import testtools

from nova.bench import eta
from nova.compute import migration_timeline as mtl

MiB = mtl.MiB


def info(remaining, iteration=2, dirty_pages=0, throttle=0):
    return types.SimpleNamespace(
        memory_iteration=iteration, memory_remaining=remaining,
        memory_total=256 * MiB, data_remaining=remaining,
        memory_dirty_rate=dirty_pages, memory_page_size=4096,
        memory_bps=32 * MiB, auto_converge_throttle=throttle)


class EtaTestCase(testtools.TestCase):

    def test_timeline_of_monitor_samples(self):
        samples = [(0.0, info(256 * MiB, iteration=1)),
                   (0.5, info(100 * MiB, dirty_pages=256)),
                   (1.0, info(50 * MiB)), (1.5, info(10 * MiB))]
        actions = [(0.7, 'postcopy', 'no progress'), (1.2, 'pause', 'x')]
        ladder = [(0, 30), (1.0, 60)]
        points, events = eta.timeline_of(samples, actions, ladder)
        self.assertEqual([mtl.PRE_COPY, mtl.PRE_COPY, mtl.POST_COPY,
                          mtl.POST_COPY], [p.phase for p in points])
        self.assertEqual([30, 30, 60, 60], [p.downtime_ms for p in points])
        self.assertEqual(1.0 * MiB, points[1].dirty_bps)
        self.assertEqual(['postcopy', 'pause'], [e.action for e in events])
        self.assertEqual(mtl.PAUSED, eta.phase_at([(1.0, 'pause', '')], 2))

    def test_round_trip_and_report(self):
        points = [mtl.TimelinePoint(elapsed=0.5 * i, iteration=1,
                                    memory_remaining=(256 - 16 * i) * MiB,
                                    memory_total=256 * MiB,
                                    transfer_bps=32.0 * MiB)
                  for i in range(17)]
        exact = eta.run_to_dict(mtl.RecordedRun('exact', points, [], 8.0),
                                completed=True)
        late = eta.run_to_dict(mtl.RecordedRun('late', points, [], 16.0),
                               completed=True)
        aborted = dict(exact, name='aborted', completed=False)
        self.assertEqual(points, eta.run_from_dict(exact).points)
        out = io.StringIO()
        summary = eta.report([exact, late, aborted], out=out)
        median, covered, total = summary[0.25]
        self.assertEqual((2, 2), (covered, total))
        errors = [mtl.eta_error_at(eta.run_from_dict(r), 0.25)
                  for r in (exact, late)]
        self.assertNotEqual(errors[0], errors[1])
        self.assertAlmostEqual(sum(errors) / 2, median)
        text = out.getvalue()
        self.assertIn('exact', text)
        self.assertNotIn('aborted', text)
        self.assertIn('at 50% of the duration', text)
