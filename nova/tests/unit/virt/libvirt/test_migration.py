"""The monitor's decisions, one function at a time, on plain values."""

import testtools

from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration

GiB = migration.GiB
MiB = migration.MiB


def info(**kw):
    kw.setdefault('type', libvirt_guest.JOB_UNBOUNDED)
    return libvirt_guest.JobInfo(**kw)


class GuestDataTestCase(testtools.TestCase):

    def test_small_guest_counts_as_two_gib(self):
        self.assertEqual(2.0, migration.guest_data_gb(512))

    def test_large_guest_and_disk(self):
        self.assertEqual(8.5, migration.guest_data_gb(8192, GiB // 2))

    def test_negative_disk_ignored(self):
        self.assertEqual(4.0, migration.guest_data_gb(4096, -5))

    def test_unknown_memory_counts_as_the_minimum(self):
        # A flavor without memory_mb must not break the monitor.
        self.assertEqual(2.0, migration.guest_data_gb(None))
        self.assertEqual(2.5, migration.guest_data_gb(None, GiB // 2))


class FinishedJobTypeTestCase(testtools.TestCase):

    def test_guest_gone_is_completed(self):
        self.assertEqual(libvirt_guest.JOB_COMPLETED,
                         migration.finished_job_type(False, False, None,
                                                     False))

    def test_guest_shut_off_after_migration_is_completed(self):
        self.assertEqual(libvirt_guest.JOB_COMPLETED,
                         migration.finished_job_type(True, False, None,
                                                     False))

    def test_guest_still_running_is_failed(self):
        self.assertEqual(libvirt_guest.JOB_FAILED,
                         migration.finished_job_type(True, True, None,
                                                     False))

    def test_guest_still_running_after_operator_abort_is_cancelled(self):
        self.assertEqual(libvirt_guest.JOB_CANCELLED,
                         migration.finished_job_type(True, True,
                                                     Exception('x'), True))

    def test_error_with_guest_gone_is_not_reported_as_success(self):
        self.assertEqual(libvirt_guest.JOB_FAILED,
                         migration.finished_job_type(False, False,
                                                     Exception('x'), False))

    def test_unknown_domain_state_trusts_the_migration_call(self):
        # libvirt failed with something other than "no domain" when asked.
        self.assertEqual(libvirt_guest.JOB_COMPLETED,
                         migration.finished_job_type(None, None, None, False))
        self.assertEqual(libvirt_guest.JOB_FAILED,
                         migration.finished_job_type(None, None,
                                                     Exception('x'), False))
        self.assertEqual(libvirt_guest.JOB_CANCELLED,
                         migration.finished_job_type(None, None,
                                                     Exception('x'), True))


class ProgressTrackerTestCase(testtools.TestCase):

    def test_setup_phase_samples_are_no_baseline(self):
        # Real libvirt reports zeros while QEMU sets the migration up. The
        # first pass of an idle guest then copies at full speed: every
        # sample is progress, so the progress timeout never fires.
        t = migration.ProgressTracker(started_at=0)
        for now in (0.0, 0.5, 1.0):
            t.observe(now, 0, 0, 0, 0, processed=0)
        self.assertIsNone(t.last_progress_at)
        self.assertEqual(0, t.iteration)
        for k in range(1, 20):
            t.observe(1.0 + k, 1, (2000 - 100 * k) * MiB, 0, 100 * MiB,
                      processed=100 * k * MiB)
            self.assertEqual(1.0 + k, t.last_progress_at)
        self.assertEqual(0.0, t.stalled_for(20.0))

    def test_first_pass_new_lows_are_progress(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 1000)
        t.observe(10, 1, 900)
        t.observe(20, 1, 950)   # not a new low
        self.assertEqual(10, t.last_progress_at)
        self.assertEqual(15, t.stalled_for(25))

    def test_small_wiggles_are_not_progress(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 1000)
        t.observe(1, 1, 990)    # 1% lower: below MIN_PENDING_DROP
        self.assertEqual(0, t.last_progress_at)

    def test_ups_and_downs_between_passes_are_not_progress(self):
        # A stalled migration: every 2 s pass sets out to send 500 bytes
        # and drains to 0 while the guest dirties 250 bytes/s. Raw data
        # remaining hits a new low at the end of every pass.
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 2000)
        t.observe(4, 2, 500, 250)   # pass 2 began: progress
        self.assertEqual(4, t.last_progress_at)
        now = 4
        for iteration in range(2, 12):
            t.observe(now + 1, iteration, 250, 250)
            t.observe(now + 1.99, iteration, 3, 250)
            now += 2
            t.observe(now, iteration + 1, 500, 250)
        self.assertEqual(4, t.last_progress_at)
        self.assertEqual(now - 4, t.stalled_for(now))

    def test_converging_passes_progress_within_a_pass(self):
        # Dirtying 30/s while sending 100/s: what would be left falls by
        # 70/s, also in the middle of a long pass.
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 4000)
        t.observe(40, 2, 1200, 30)
        for second in range(41, 52):
            t.observe(second, 2, 1200 - 100 * (second - 40), 30)
            self.assertEqual(second, t.last_progress_at)

    def test_first_dirty_rate_starts_a_new_baseline(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 4000)
        t.observe(40, 1, 16)            # pass 1 drained, no dirty rate yet
        t.observe(41, 2, 1200, 30)      # 70% less than pass 1: progress
        self.assertEqual(41, t.last_progress_at)
        self.assertEqual(1200, t.progress_level)

    def test_first_dirty_rate_with_a_stalled_pass_is_no_progress(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 1000)
        t.observe(9, 1, 10)
        t.observe(10, 2, 980, 100)      # pass 2 as big as pass 1
        self.assertEqual(9, t.last_progress_at)
        self.assertEqual(980, t.progress_level)

    def test_pass_start_placed_between_samples_by_transfer_rate(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 1000, 0, 100)
        t.observe(9.5, 1, 50, 0, 100)   # pass 1 ends at 10.0
        t.observe(10.4, 2, 260, 0, 100)  # 0.4 s into pass 2
        self.assertEqual(300, t.pass_start)
        self.assertAlmostEqual(10.0, t.pass_started_at)

    def test_passes_skipped_between_samples_are_not_compared(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 1000, 0, 100)
        t.observe(9.5, 1, 50, 0, 100)
        t.observe(10.0, 4, 40, 0, 100)     # passes 2 and 3 went unseen
        self.assertIsNone(t.pass_shrink())
        t.observe(10.5, 5, 45, 0, 100)     # pass 4's size is unknown too
        self.assertIsNone(t.pass_shrink())
        t.observe(11.0, 6, 44, 0, 100)     # 5 -> 6 both seen whole
        self.assertIsNotNone(t.pass_shrink())

    def test_pass_start_is_the_largest_sample_of_the_pass(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, 100)
        t.observe(1, 2, 80)
        t.observe(2, 2, 90)
        self.assertEqual(90, t.pass_start)
        self.assertAlmostEqual(0.1, t.pass_shrink())

    def test_negative_values_are_zero(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 1, -5, -3)
        self.assertEqual(0, t.progress_level)

    def test_unknown_iteration_falls_back_to_new_lows(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(0, 0, 100)
        t.observe(1, 0, 50)
        self.assertEqual(1, t.last_progress_at)
        self.assertIsNone(t.pass_shrink())

    def test_no_sample_no_stall(self):
        t = migration.ProgressTracker(started_at=0)
        self.assertEqual(0.0, t.stalled_for(100))


class TimeoutTestCase(testtools.TestCase):

    def test_completion_timeout_scaled(self):
        self.assertEqual(3200,
                         migration.completion_timeout_seconds(800, 4.0))
        self.assertEqual(0, migration.completion_timeout_seconds(0, 4.0))

    def test_completion_due(self):
        self.assertEqual('completion',
                         migration.timeout_action_due(101, 100, 0, 0, False))
        self.assertIsNone(migration.timeout_action_due(100, 100, 0, 0, False))

    def test_zero_means_no_timeout(self):
        self.assertIsNone(migration.timeout_action_due(10 ** 6, 0, 10 ** 6,
                                                       0, False))

    def test_progress_due(self):
        self.assertEqual('progress',
                         migration.timeout_action_due(50, 100, 31, 30, False))

    def test_never_in_postcopy(self):
        self.assertIsNone(migration.timeout_action_due(10 ** 6, 1, 10 ** 6,
                                                       1, True))


class PostcopySwitchTestCase(testtools.TestCase):

    def _tracker(self, *passes, bps=100 * MiB, dirty=0, dt=1.0):
        """One sample every ``dt`` s, each in a new pass, data moving."""
        t = migration.ProgressTracker(started_at=0)
        for i, remaining in enumerate(passes, start=1):
            t.observe(i * dt, i, remaining, dirty, bps,
                      processed=i * 50 * MiB)
        return t

    def _switch(self, tracker, **kw):
        kw.setdefault('memory_bps', 100 * MiB)
        return migration.should_switch_to_postcopy(info(**kw), tracker)

    def test_not_during_first_pass(self):
        t = self._tracker(1000 * MiB, dirty=200 * MiB)
        self.assertIsNone(self._switch(t, memory_dirty_rate=10 ** 6,
                                       memory_page_size=4096))

    def test_two_stalled_passes_switch(self):
        t = self._tracker(1000 * MiB, 950 * MiB, 940 * MiB)
        self.assertEqual('2 memory passes in a row shrank less than 10% '
                         '(pass 3 set out to send 940 MiB, pass 2 950 MiB)',
                         self._switch(t))

    def test_one_stalled_pass_is_not_enough(self):
        # A single noisy pass: the next one shrinks again.
        t = self._tracker(1000 * MiB, 950 * MiB)
        self.assertIsNone(self._switch(t))
        t = self._tracker(1000 * MiB, 950 * MiB, 500 * MiB)
        self.assertIsNone(self._switch(t))

    def test_tiny_tail_passes_do_not_switch(self):
        # 4, 6, 7 MiB at 16 MiB/s: under a second each, a converging tail.
        t = self._tracker(256 * MiB, 4 * MiB, 6 * MiB, 7 * MiB,
                          bps=16 * MiB, dt=0.25)
        self.assertIsNone(self._switch(t, memory_bps=16 * MiB))
        # The same sizes over a slower link take longer than a second.
        t = self._tracker(256 * MiB, 4 * MiB, 6 * MiB, 7 * MiB, bps=4 * MiB,
                          dt=0.25)
        self.assertIsNotNone(self._switch(t, memory_bps=4 * MiB))

    def test_slow_passes_switch_unless_the_top_downtime_carries_them(self):
        # 20% shrink per pass: converging, too slowly to wait for.
        t = self._tracker(1000 * MiB, 250 * MiB, 200 * MiB, 160 * MiB)
        self.assertEqual(3, t.slow_passes)
        self.assertIsNone(self._switch(t))
        reason = migration.should_switch_to_postcopy(
            info(memory_bps=100 * MiB), t, 500)
        self.assertIn('pass 4 shrank less than 80%', reason)
        # 160 MiB at 1000 MiB/s fits 500 ms: the ladder finishes it.
        self.assertIsNone(migration.should_switch_to_postcopy(
            info(memory_bps=1000 * MiB), t, 500))

    def test_rung_sized_for_a_pass_that_does_not_shrink(self):
        ladder = ((0, 50), (10, 100), (20, 500))
        t = self._tracker(1000 * MiB, 250 * MiB, 240 * MiB)
        # 240 MiB x 1.1 at 1000 MiB/s needs 264 ms: the 500 ms rung.
        self.assertEqual(2, migration.rung_for_pending(ladder, 0, t,
                                                       1000 * MiB))
        self.assertIsNone(migration.rung_for_pending(ladder, 2, t,
                                                     1000 * MiB))
        # Too big for any rung, or still shrinking: nothing.
        self.assertIsNone(migration.rung_for_pending(ladder, 0, t,
                                                     100 * MiB))
        t = self._tracker(1000 * MiB, 150 * MiB, 20 * MiB)
        self.assertIsNone(migration.rung_for_pending(ladder, 0, t,
                                                     1000 * MiB))

    def test_growing_passes(self):
        t = self._tracker(1000 * MiB, 400 * MiB, 600 * MiB, 700 * MiB)
        self.assertIsNotNone(self._switch(t))

    def test_shrinking_passes_keep_precopy(self):
        t = self._tracker(1000 * MiB, 500 * MiB, 250 * MiB)
        self.assertIsNone(self._switch(t))

    def test_dirty_rate_at_transfer_rate_twice(self):
        t = self._tracker(1000 * MiB, 500 * MiB, 400 * MiB,
                          dirty=100 * MiB)
        reason = self._switch(t, memory_dirty_rate=100 * MiB // 4096,
                              memory_page_size=4096)
        self.assertEqual('guest dirties 100 MiB/s, migration sends 100 MiB/s',
                         reason)

    def test_dirty_rate_at_transfer_rate_once_is_noise(self):
        t = migration.ProgressTracker(started_at=0)
        t.observe(1.0, 1, 1000 * MiB, 0, 100 * MiB, processed=100 * MiB)
        t.observe(2.0, 2, 500 * MiB, 20 * MiB, 100 * MiB,
                  processed=200 * MiB)
        t.observe(3.0, 3, 300 * MiB, 95 * MiB, 100 * MiB,
                  processed=300 * MiB)
        self.assertEqual(1, t.hot_polls)
        self.assertIsNone(self._switch(t, memory_dirty_rate=95 * MiB // 4096))

    def test_dirty_rate_just_below_ninety_percent_keeps_precopy(self):
        t = self._tracker(1000 * MiB, 500 * MiB, 400 * MiB, dirty=89 * MiB)
        self.assertIsNone(self._switch(t))
        t = self._tracker(1000 * MiB, 500 * MiB, 400 * MiB, dirty=90 * MiB)
        self.assertIsNotNone(self._switch(t))

    def test_zero_bps_is_no_signal(self):
        t = self._tracker(1000 * MiB, 1000 * MiB, 1000 * MiB, bps=0)
        self.assertIsNone(self._switch(t, memory_bps=0))

    def test_finished_job(self):
        t = self._tracker(1000 * MiB, 1000 * MiB, 1000 * MiB)
        self.assertIsNone(self._switch(t, type=libvirt_guest.JOB_NONE))

    def test_never_while_no_data_moves(self):
        # The evidence is there, but nothing moved in the last second: the
        # link may be failing, and post-copy over it could lose the guest.
        t = self._tracker(1000 * MiB, 950 * MiB, 940 * MiB)
        t.observe(3.5, 3, 940 * MiB, 0, 100 * MiB, processed=150 * MiB)
        t.observe(4.5, 3, 940 * MiB, 0, 100 * MiB, processed=150 * MiB)
        self.assertTrue(t.link_looks_down(100 * MiB))
        self.assertIsNone(self._switch(t))

    def test_never_while_the_rate_collapsed(self):
        t = self._tracker(1000 * MiB, 950 * MiB, 940 * MiB)
        t.observe(3.5, 3, 900 * MiB, 0, 30 * MiB, processed=200 * MiB)
        self.assertIsNone(self._switch(t, memory_bps=30 * MiB))
        # Once the low rate is all the last LINK_PEAK_WINDOW saw, it is
        # the link's rate, not a dip.
        for k in range(1, 33):
            t.observe(3.5 + k, 3 + k, (900 - k) * MiB, 0, 30 * MiB,
                      processed=(200 + 30 * k) * MiB)
        self.assertIsNotNone(self._switch(t, memory_bps=30 * MiB))


class DowntimeTestCase(testtools.TestCase):

    def test_ladder_defaults_small_guest(self):
        ladder = migration.downtime_steps(2.0, 500, 10, 75)
        self.assertEqual(11, len(ladder))
        # 500 / 10 = 50 ms is below the 100 ms first rung.
        self.assertEqual((0, 100), ladder[0])
        self.assertEqual((150, 140), ladder[1])
        self.assertEqual((1500, 500), ladder[-1])

    def test_ladder_three_steps(self):
        self.assertEqual([(0, 166), (10, 277), (20, 388), (30, 500)],
                         migration.downtime_steps(1.0, 500, 3, 10))

    def test_ladder_is_monotonic(self):
        ladder = migration.downtime_steps(6.5, 1234, 7, 13)
        times = [t for t, _ in ladder]
        values = [v for _, v in ladder]
        self.assertEqual(sorted(times), times)
        self.assertEqual(sorted(values), values)
        self.assertEqual(1234, values[-1])

    def test_step_due(self):
        ladder = [(0, 10), (10, 20), (20, 30)]
        self.assertEqual(0, migration.downtime_step_due(ladder, -1, 0))
        self.assertIsNone(migration.downtime_step_due(ladder, 0, 9.9))
        self.assertEqual(2, migration.downtime_step_due(ladder, 0, 25))
        self.assertIsNone(migration.downtime_step_due(ladder, 2, 1000))


class StatsTestCase(testtools.TestCase):

    def test_progress_zero_total(self):
        self.assertEqual(0, migration.progress_percent(info()))

    def test_completed_is_one_hundred_percent(self):
        # A 0 MiB guest, or one that ended before libvirt gave totals.
        self.assertEqual(100, migration.progress_percent(
            info(type=libvirt_guest.JOB_COMPLETED)))

    def test_progress(self):
        self.assertEqual(75, migration.progress_percent(
            info(data_total=400, data_remaining=100)))

    def test_progress_clamps_odd_values(self):
        self.assertEqual(100, migration.progress_percent(
            info(data_total=400, data_remaining=-7)))
        self.assertEqual(0, migration.progress_percent(
            info(data_total=400, data_remaining=900)))

    def test_progress_summary(self):
        text = migration.progress_summary(info(
            memory_iteration=4, data_remaining=300 * MiB,
            data_total=1024 * MiB, memory_bps=100 * MiB,
            memory_dirty_rate=150 * MiB // 4096, memory_page_size=4096,
            auto_converge_throttle=0), 32.0, 'post-copy', 3)
        self.assertEqual('migration post-copy for 32 s, pass 4, 300 MiB of '
                         '1024 MiB remaining, sending 100 MiB/s, guest '
                         'dirtying 150 MiB/s, throttle 0%, allowed downtime '
                         'step 3', text)

    def test_completed_stats_from_last_sample(self):
        done = migration.completed_stats(info(
            memory_total=100, memory_processed=150, memory_remaining=40,
            disk_total=10, disk_processed=3, disk_remaining=7,
            data_total=110, data_remaining=47), 512)
        self.assertEqual((100, 150, 0, 10, 10, 0),
                         tuple(getattr(done, f)
                               for f in migration.STAT_FIELDS))
        self.assertEqual(100, migration.progress_percent(done))

    def test_completed_stats_before_any_totals(self):
        # The only sample fell in libvirt's set-up phase, or none at all.
        for last in (info(), None):
            done = migration.completed_stats(last, 256)
            self.assertEqual(256 * MiB, done.memory_total)
            self.assertEqual(256 * MiB, done.memory_processed)
            self.assertEqual(0, done.memory_remaining)
            self.assertEqual(100, migration.progress_percent(done))
