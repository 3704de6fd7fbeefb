"""The monitor's decisions, one function at a time, on plain values."""

import collections

import testtools

from nova.simulator import libvirt as fakelibvirt
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration

GiB = migration.GiB
MiB = migration.MiB


def info(**kw):
    kw.setdefault('type', libvirt_guest.JOB_UNBOUNDED)
    return libvirt_guest.JobInfo(**kw)


class RecordingGuest(object):
    """Records what the acting functions asked of the guest."""

    def __init__(self, exists=True, active=True, power_state=None,
                 fail=None):
        self.calls = []
        self.exists = exists
        self.active = active
        self.power_state = power_state or libvirt_guest.RUNNING
        self.fail = fail or {}

    def _call(self, name, *args):
        self.calls.append((name,) + args)
        if name in self.fail:
            raise self.fail[name]

    def migrate_start_postcopy(self):
        self._call('postcopy')

    def pause(self):
        self._call('pause')
        self.power_state = libvirt_guest.PAUSED

    def resume(self):
        self._call('resume')
        self.power_state = libvirt_guest.RUNNING

    def abort_job(self):
        self._call('abort')

    def migrate_configure_max_downtime(self, ms):
        self._call('downtime', ms)

    def exists_active(self):
        return self.exists, self.active

    def get_power_state(self):
        return self.power_state


class GuestDataTestCase(testtools.TestCase):

    def test_small_guest_counts_as_two_gib(self):
        self.assertEqual(2.0, migration.guest_data_gb(512))

    def test_large_guest_and_disk(self):
        self.assertEqual(8.5, migration.guest_data_gb(8192, GiB // 2))

    def test_negative_disk_ignored(self):
        self.assertEqual(4.0, migration.guest_data_gb(4096, -5))


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

    def test_find_job_type_asks_the_guest(self):
        guest = RecordingGuest(exists=False, active=False)
        self.assertEqual(libvirt_guest.JOB_COMPLETED,
                         migration.find_job_type(guest, None, False))
        guest = RecordingGuest(exists=True, active=True)
        self.assertEqual(libvirt_guest.JOB_FAILED,
                         migration.find_job_type(guest, None, False))


class ProgressTrackerTestCase(testtools.TestCase):

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

    def _tracker(self, *passes):
        t = migration.ProgressTracker(started_at=0)
        for i, remaining in enumerate(passes, start=1):
            t.observe(i, i, remaining)
        return t

    def test_not_enabled(self):
        t = self._tracker(1000, 1000, 1000)
        self.assertIsNone(migration.should_switch_to_postcopy(
            info(), t, False, False))

    def test_already_in_postcopy(self):
        t = self._tracker(1000, 1000, 1000)
        self.assertIsNone(migration.should_switch_to_postcopy(
            info(), t, True, True))

    def test_not_during_first_pass(self):
        t = self._tracker(1000)
        i = info(memory_dirty_rate=10 ** 6, memory_page_size=4096,
                 memory_bps=1)
        self.assertIsNone(migration.should_switch_to_postcopy(
            i, t, True, False))

    def test_stalled_pass(self):
        t = self._tracker(1000 * MiB, 950 * MiB)
        reason = migration.should_switch_to_postcopy(info(), t, True, False)
        self.assertEqual('memory pass 2 set out to send 950 MiB, pass 1 '
                         '1000 MiB: not 10% less', reason)

    def test_tiny_tail_pass_does_not_switch(self):
        # 6 MiB after 4 MiB at 16 MiB/s: under a second, a converging tail.
        t = self._tracker(256 * MiB, 4 * MiB, 6 * MiB)
        self.assertIsNone(migration.should_switch_to_postcopy(
            info(memory_bps=16 * MiB), t, True, False))
        # The same sizes over a slower link take longer than a second.
        self.assertIsNotNone(migration.should_switch_to_postcopy(
            info(memory_bps=4 * MiB), t, True, False))

    def test_growing_pass(self):
        t = self._tracker(1000, 400, 600)
        self.assertIsNotNone(migration.should_switch_to_postcopy(
            info(), t, True, False))

    def test_shrinking_pass_keeps_precopy(self):
        t = self._tracker(1000, 500)
        self.assertIsNone(migration.should_switch_to_postcopy(
            info(memory_bps=100 * MiB), t, True, False))

    def test_dirty_rate_at_transfer_rate(self):
        t = self._tracker(1000, 500)
        i = info(memory_dirty_rate=100 * MiB // 4096, memory_page_size=4096,
                 memory_bps=100 * MiB)
        reason = migration.should_switch_to_postcopy(i, t, True, False)
        self.assertEqual('guest dirties 100 MiB/s, migration sends 100 MiB/s',
                         reason)

    def test_dirty_rate_without_page_size_assumes_4k(self):
        t = self._tracker(1000, 500)
        i = info(memory_dirty_rate=200 * MiB // 4096, memory_bps=100 * MiB)
        self.assertIsNotNone(migration.should_switch_to_postcopy(
            i, t, True, False))

    def test_dirty_rate_just_below_ninety_percent_keeps_precopy(self):
        t = self._tracker(1000, 500)
        i = info(memory_dirty_rate=89 * MiB // 4096, memory_page_size=4096,
                 memory_bps=100 * MiB)
        self.assertIsNone(migration.should_switch_to_postcopy(
            i, t, True, False))
        i.memory_dirty_rate = 90 * MiB // 4096
        self.assertIsNotNone(migration.should_switch_to_postcopy(
            i, t, True, False))

    def test_zero_bps_is_no_signal(self):
        t = self._tracker(1000, 500)
        i = info(memory_dirty_rate=1000, memory_bps=0)
        self.assertIsNone(migration.should_switch_to_postcopy(
            i, t, True, False))

    def test_finished_job(self):
        t = self._tracker(1000, 1000)
        self.assertIsNone(migration.should_switch_to_postcopy(
            info(type=libvirt_guest.JOB_NONE), t, True, False))


class DowntimeTestCase(testtools.TestCase):

    def test_ladder_defaults_small_guest(self):
        ladder = migration.downtime_steps(2.0, 500, 10, 75)
        self.assertEqual(11, len(ladder))
        self.assertEqual((0, 50), ladder[0])
        self.assertEqual((150, 95), ladder[1])
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

    def test_update_applies_highest_due_rung(self):
        guest = RecordingGuest()
        ladder = [(0, 10), (10, 20), (20, 30)]
        self.assertEqual(2, migration.update_downtime(guest, ladder, -1, 21))
        self.assertEqual([('downtime', 30)], guest.calls)

    def test_update_not_due_does_nothing(self):
        guest = RecordingGuest()
        self.assertEqual(0, migration.update_downtime(
            guest, [(0, 10), (10, 20)], 0, 5))
        self.assertEqual([], guest.calls)

    def test_update_error_retries_later(self):
        guest = RecordingGuest(fail={'downtime': RuntimeError('boom')})
        self.assertEqual(-1, migration.update_downtime(
            guest, [(0, 10)], -1, 0))


class StatsTestCase(testtools.TestCase):

    def test_progress_zero_total(self):
        self.assertEqual(0, migration.progress_percent(info()))

    def test_progress(self):
        self.assertEqual(75, migration.progress_percent(
            info(data_total=400, data_remaining=100)))

    def test_progress_clamps_odd_values(self):
        self.assertEqual(100, migration.progress_percent(
            info(data_total=400, data_remaining=-7)))
        self.assertEqual(0, migration.progress_percent(
            info(data_total=400, data_remaining=900)))

    def test_progress_summary(self):
        state = migration.MonitorState(data_gb=2.0, postcopy_enabled=True,
                                       started_at=10.0, downtime_step=3)
        state.postcopy_active = True
        text = migration.progress_summary(info(
            memory_iteration=4, data_remaining=300 * MiB,
            data_total=1024 * MiB, memory_bps=100 * MiB,
            memory_dirty_rate=150 * MiB // 4096, memory_page_size=4096,
            auto_converge_throttle=0), state, 42.0)
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

    def test_save_stats(self):
        class Rec(object):
            saved = 0

            def save(self):
                self.saved += 1

        inst, mig = Rec(), Rec()
        migration.save_stats(inst, mig, info(
            memory_total=100, memory_processed=60, memory_remaining=40,
            disk_total=10, disk_processed=10, disk_remaining=-1,
            data_total=110, data_remaining=40))
        self.assertEqual((100, 60, 40, 10, 10, 0),
                         tuple(getattr(mig, f)
                               for f in migration.STAT_FIELDS))
        self.assertEqual(64, inst.progress)
        self.assertEqual((1, 1), (inst.saved, mig.saved))


class TasksTestCase(testtools.TestCase):

    def _state(self, postcopy=False):
        return migration.MonitorState(data_gb=2.0, postcopy_enabled=postcopy,
                                      started_at=0.0)

    def test_force_complete_with_postcopy_switches(self):
        guest, state = RecordingGuest(), self._state(postcopy=True)
        tasks = collections.deque([migration.TASK_FORCE_COMPLETE])
        done = migration.run_tasks(tasks, guest, state, 3.0)
        self.assertEqual([('force-complete', 'postcopy')], done)
        self.assertEqual([('postcopy',)], guest.calls)
        self.assertTrue(state.postcopy_active)
        self.assertEqual([], state.recover_tasks)
        self.assertEqual((3.0, 'postcopy', 'requested by operator'),
                         state.actions[0])

    def test_force_complete_without_postcopy_pauses(self):
        guest, state = RecordingGuest(), self._state()
        migration.run_tasks(
            collections.deque([migration.TASK_FORCE_COMPLETE] * 2),
            guest, state, 1.0)
        self.assertEqual([('pause',)], guest.calls)
        self.assertEqual([migration.RECOVER_UNPAUSE], state.recover_tasks)

    def test_force_complete_in_postcopy_is_a_no_op(self):
        guest, state = RecordingGuest(), self._state(postcopy=True)
        state.postcopy_active = True
        self.assertIsNone(migration.force_complete(guest, state, 0, 'x'))
        self.assertEqual([], guest.calls)

    def test_abort(self):
        guest, state = RecordingGuest(), self._state()
        migration.run_tasks(collections.deque([migration.TASK_ABORT]),
                            guest, state, 0)
        self.assertEqual([('abort',)], guest.calls)
        self.assertTrue(state.cancelled_by_operator)

    def test_timeout_abort_is_not_an_operator_cancel(self):
        guest, state = RecordingGuest(), self._state()
        migration.abort(guest, state, 0, 'completion timeout reached')
        self.assertTrue(state.abort_requested)
        self.assertFalse(state.cancelled_by_operator)

    def test_abort_refused_in_postcopy(self):
        guest, state = RecordingGuest(), self._state(postcopy=True)
        state.postcopy_active = True
        migration.run_tasks(collections.deque([migration.TASK_ABORT]),
                            guest, state, 0)
        self.assertEqual([], guest.calls)
        self.assertFalse(state.abort_requested)

    def test_unknown_task_dropped_others_run(self):
        guest, state = RecordingGuest(), self._state()
        tasks = collections.deque(['reboot', migration.TASK_ABORT])
        done = migration.run_tasks(tasks, guest, state, 0)
        self.assertEqual([('abort', 'abort')], done)
        self.assertEqual(0, len(tasks))

    def test_task_error_does_not_stop_the_rest(self):
        error = fakelibvirt.libvirtError('no job')
        guest = RecordingGuest(fail={'pause': error})
        state = self._state()
        done = migration.run_tasks(
            collections.deque([migration.TASK_FORCE_COMPLETE,
                               migration.TASK_ABORT]), guest, state, 0)
        self.assertEqual([('abort', 'abort')], done)
        self.assertEqual([], state.recover_tasks)


class RecoverTestCase(testtools.TestCase):

    def _paused_state(self):
        state = migration.MonitorState(data_gb=2.0, postcopy_enabled=False)
        state.recover_tasks.append(migration.RECOVER_UNPAUSE)
        return state

    def test_unpause_resumes_paused_guest(self):
        guest = RecordingGuest(power_state=libvirt_guest.PAUSED)
        state = self._paused_state()
        self.assertEqual(['unpause'],
                         migration.run_recover_tasks(guest, state))
        self.assertEqual([('resume',)], guest.calls)
        self.assertEqual([], state.recover_tasks)

    def test_unpause_leaves_running_guest(self):
        guest = RecordingGuest(power_state=libvirt_guest.RUNNING)
        self.assertEqual([], migration.run_recover_tasks(
            guest, self._paused_state()))
        self.assertEqual([], guest.calls)

    def test_unpause_guest_gone(self):
        guest = RecordingGuest(exists=False, active=False)
        self.assertEqual([], migration.run_recover_tasks(
            guest, self._paused_state()))

    def test_resume_failure_is_kept_for_retry(self):
        guest = RecordingGuest(power_state=libvirt_guest.PAUSED,
                               fail={'resume': RuntimeError('x')})
        state = self._paused_state()
        self.assertEqual([], migration.run_recover_tasks(guest, state))
        self.assertEqual([migration.RECOVER_UNPAUSE], state.recover_tasks)

    def test_unknown_recovery_task(self):
        state = migration.MonitorState(data_gb=2.0, postcopy_enabled=False)
        state.recover_tasks.append('reboot')
        self.assertEqual([], migration.run_recover_tasks(RecordingGuest(),
                                                         state))
        self.assertEqual([], state.recover_tasks)
