"""``migration.decide``: one poll's facts in, ordered actions out.

The precedence (operator abort > operator force-complete > timeouts >
automatic switch > downtime) is tested here and only here.
"""

import copy

import testtools

from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration

A = migration.Action
MiB = migration.MiB
LADDER = ((0, 50), (10, 100), (20, 150))


def info(**kw):
    kw.setdefault('type', libvirt_guest.JOB_UNBOUNDED)
    kw.setdefault('memory_bps', 100 * MiB)
    return libvirt_guest.JobInfo(**kw)


def stuck_tracker():
    """A tracker with enough evidence that pre-copy cannot finish."""
    t = migration.ProgressTracker(started_at=0)
    for i, remaining in enumerate((1000, 980, 970, 965), start=1):
        t.observe(float(i), i, remaining * MiB, 0, 100 * MiB,
                  processed=i * 100 * MiB)
    return t


def policy(**kw):
    kw.setdefault('ladder', LADDER)
    kw.setdefault('postcopy_enabled', True)
    return migration.Policy(**kw)


def taken(**kw):
    kw.setdefault('totals_saved', True)
    kw.setdefault('stats_saved_at', 0.0)
    kw.setdefault('status_saved', 'running')
    kw.setdefault('downtime_step', 0)
    return migration.ActionsTaken(**kw)


class DecideTestCase(testtools.TestCase):

    def decide(self, now=4.0, elapsed=4.0, sample=None, pol=None,
               requests=None, progress=None, postcopy=None, done=None):
        args = (now, elapsed, info() if sample is None else sample,
                pol or policy(), requests or migration.Requests(),
                progress if progress is not None else
                migration.ProgressTracker(started_at=0),
                postcopy or migration.PostcopyState(), done or taken())
        before = copy.deepcopy(args)
        decisions = migration.decide(*args)
        # Pure: nothing it was given changed.
        self.assertEqual(repr(before), repr(args))
        return decisions

    def actions(self, decisions):
        return [(d.action, d.origin) for d in decisions]

    # -- precedence -------------------------------------------------------

    def test_operator_abort_wins_over_everything_in_the_same_poll(self):
        decisions = self.decide(
            elapsed=1000.0,
            pol=policy(completion_timeout=100,
                       timeout_action='force_complete'),
            requests=migration.Requests(abort=True, force_complete=True),
            progress=stuck_tracker())
        self.assertEqual([(A.ABORT, 'operator'), (A.SAVE_STATS, 'automatic')],
                         self.actions(decisions))

    def test_delete_aborts_with_the_aborts_rank(self):
        decisions = self.decide(
            requests=migration.Requests(delete=True, force_complete=True),
            progress=stuck_tracker())
        self.assertEqual((A.ABORT, 'delete'), self.actions(decisions)[0])
        self.assertEqual('the server is being deleted', decisions[0].reason)

    def test_force_complete_wins_over_timeout_and_switch(self):
        decisions = self.decide(
            elapsed=1000.0, pol=policy(completion_timeout=100),
            requests=migration.Requests(force_complete=True),
            progress=stuck_tracker())
        self.assertEqual([(A.SWITCH_TO_POSTCOPY, 'operator'),
                          (A.SAVE_STATS, 'automatic')],
                         self.actions(decisions))

    def test_timeout_wins_over_automatic_switch(self):
        decisions = self.decide(elapsed=1000.0,
                                pol=policy(completion_timeout=100),
                                progress=stuck_tracker())
        self.assertEqual((A.ABORT, 'timeout'), self.actions(decisions)[0])
        self.assertEqual('completion', decisions[0].timeout)

    def test_automatic_switch_before_downtime(self):
        decisions = self.decide(elapsed=25.0, progress=stuck_tracker())
        self.assertEqual([(A.SWITCH_TO_POSTCOPY, 'automatic'),
                          (A.SAVE_STATS, 'automatic')],
                         self.actions(decisions))

    def test_nothing_acts_while_an_abort_is_on_its_way(self):
        decisions = self.decide(
            elapsed=1000.0, pol=policy(completion_timeout=100),
            requests=migration.Requests(force_complete=True),
            progress=stuck_tracker(), done=taken(abort_sent=True))
        self.assertEqual([], [d for d in decisions
                              if d.action != A.SAVE_STATS])

    # -- abort ----------------------------------------------------------------

    def test_abort_refused_once_libvirt_confirmed_postcopy(self):
        decisions = self.decide(
            requests=migration.Requests(abort=True),
            postcopy=migration.PostcopyState(requested=True, confirmed=True))
        self.assertEqual(A.REFUSE, decisions[0].action)
        self.assertIn('post-copy', decisions[0].reason)

    def test_abort_goes_ahead_while_postcopy_is_only_requested(self):
        # libvirt has not switched yet: cancelling is still possible (and
        # libvirt refuses it if the switch happened meanwhile).
        decisions = self.decide(
            requests=migration.Requests(abort=True),
            postcopy=migration.PostcopyState(requested=True))
        self.assertEqual((A.ABORT, 'operator'), self.actions(decisions)[0])

    # -- force-complete -------------------------------------------------------

    def test_force_complete_pauses_without_postcopy(self):
        decisions = self.decide(pol=policy(postcopy_enabled=False),
                                requests=migration.Requests(
                                    force_complete=True))
        self.assertEqual((A.PAUSE, 'operator'), self.actions(decisions)[0])

    def test_force_complete_twice_is_refused(self):
        for postcopy, done, pol in (
                (migration.PostcopyState(requested=True), taken(), policy()),
                (migration.PostcopyState(), taken(paused_by_monitor=True),
                 policy(postcopy_enabled=False))):
            decisions = self.decide(
                pol=pol, postcopy=postcopy, done=done,
                requests=migration.Requests(force_complete=True))
            self.assertEqual(A.REFUSE, decisions[0].action)

    def test_operator_force_complete_uses_postcopy_whatever_the_start(self):
        for start in migration.POSTCOPY_START_CHOICES:
            decisions = self.decide(
                pol=policy(postcopy_start=start),
                requests=migration.Requests(force_complete=True))
            self.assertEqual(A.SWITCH_TO_POSTCOPY, decisions[0].action)

    # -- timeouts and live_migration_post_copy_start ------------------------

    def test_timeout_combinations(self):
        # (post_copy_start, timeout_action) -> action at the timeout.
        expected = {
            ('automatic', 'abort'): A.ABORT,
            ('timeout', 'abort'): A.ABORT,
            ('operator', 'abort'): A.ABORT,
            ('automatic', 'force_complete'): A.SWITCH_TO_POSTCOPY,
            ('timeout', 'force_complete'): A.SWITCH_TO_POSTCOPY,
            ('operator', 'force_complete'): A.PAUSE,
        }
        for (start, action), want in expected.items():
            decisions = self.decide(
                elapsed=200.0, pol=policy(
                    completion_timeout=100, timeout_action=action,
                    postcopy_start=start))
            self.assertEqual((want, 'timeout'), self.actions(decisions)[0],
                             (start, action))

    def test_automatic_switch_only_when_the_start_is_automatic(self):
        for start, switches in (('automatic', True), ('timeout', False),
                                ('operator', False)):
            decisions = self.decide(pol=policy(postcopy_start=start),
                                    progress=stuck_tracker())
            self.assertEqual(switches, A.SWITCH_TO_POSTCOPY in
                             [d.action for d in decisions], start)

    def test_no_switch_without_postcopy(self):
        decisions = self.decide(pol=policy(postcopy_enabled=False),
                                progress=stuck_tracker())
        self.assertNotIn(A.SWITCH_TO_POSTCOPY, [d.action for d in decisions])

    def test_no_timeout_once_postcopy_is_requested(self):
        decisions = self.decide(
            elapsed=200.0, pol=policy(completion_timeout=100),
            postcopy=migration.PostcopyState(requested=True))
        self.assertNotIn(A.ABORT, [d.action for d in decisions])

    def test_timeout_taken_once(self):
        decisions = self.decide(elapsed=200.0,
                                pol=policy(completion_timeout=100),
                                done=taken(timeout_action='completion'))
        self.assertNotIn(A.ABORT, [d.action for d in decisions])

    def test_progress_timeout(self):
        progress = migration.ProgressTracker(started_at=0)
        progress.observe(1.0, 1, 100 * MiB, processed=10 * MiB)
        decisions = self.decide(now=50.0, elapsed=49.0,
                                pol=policy(progress_timeout=30),
                                progress=progress)
        self.assertEqual('progress', decisions[0].timeout)

    # -- no sample this poll --------------------------------------------------

    def test_without_a_sample_only_requests_and_the_clock_count(self):
        decide = migration.decide
        decisions = decide(500.0, 500.0, None, policy(completion_timeout=100),
                           migration.Requests(), stuck_tracker(),
                           migration.PostcopyState(), taken())
        self.assertEqual([(A.ABORT, 'timeout'), (A.SAVE_STATS, 'automatic')],
                         self.actions(decisions))
        decisions = decide(25.0, 25.0, None, policy(), migration.Requests(),
                           stuck_tracker(), migration.PostcopyState(),
                           taken())
        self.assertEqual([], decisions)

    # -- downtime, stream, stats ----------------------------------------------

    def test_downtime_step_when_due(self):
        decisions = self.decide(elapsed=21.0, progress=None)
        self.assertEqual([(A.STEP_DOWNTIME, 'automatic')],
                         self.actions(decisions))
        self.assertEqual(2, decisions[0].step)

    def test_downtime_stepped_on_stalled_passes(self):
        pol = policy(downtime_schedule=migration.DOWNTIME_SCHEDULE_STALLED,
                     postcopy_enabled=False, ladder=LADDER + ((30, 200),))
        tracker = stuck_tracker()
        self.assertEqual(3, tracker.stalled_passes)
        # Time alone (elapsed 20 s would reach rung 2) does not step it.
        d = self.decide(elapsed=20.0, pol=pol,
                        progress=migration.ProgressTracker(started_at=0),
                        done=taken(downtime_step=0))
        self.assertNotIn(A.STEP_DOWNTIME, [x.action for x in d])
        d = self.decide(pol=pol, progress=tracker,
                        done=taken(downtime_step=0))
        self.assertEqual([(A.STEP_DOWNTIME, 3)],
                         [(x.action, x.step) for x in d
                          if x.action == A.STEP_DOWNTIME])

    def test_stalled_schedule_runs_out_into_the_timeout_action(self):
        tracker = stuck_tracker()
        tracker.stalled_passes = len(LADDER)
        for action, expected in (('abort', A.ABORT),
                                 ('force_complete', A.PAUSE)):
            pol = policy(
                downtime_schedule=migration.DOWNTIME_SCHEDULE_STALLED,
                postcopy_enabled=False, timeout_action=action)
            d = self.decide(pol=pol, progress=tracker,
                            done=taken(downtime_step=2))
            self.assertEqual((expected, 'schedule'),
                             (d[0].action, d[0].timeout))
        # One stalled pass fewer: still on the schedule.
        tracker.stalled_passes = len(LADDER) - 1
        pol = policy(downtime_schedule=migration.DOWNTIME_SCHEDULE_STALLED,
                     postcopy_enabled=False)
        d = self.decide(pol=pol, progress=tracker,
                        done=taken(downtime_step=2))
        self.assertNotIn(A.ABORT, [x.action for x in d])

    def test_no_downtime_step_in_postcopy(self):
        decisions = self.decide(
            elapsed=21.0, postcopy=migration.PostcopyState(
                requested=True, confirmed=True, moved_at=20.0),
            done=taken(status_saved='running (post-copy)'))
        self.assertEqual([], decisions)

    def test_stalled_postcopy_stream_is_paused_once_the_peer_answers(self):
        done = taken(status_saved='running (post-copy)', stats_saved_at=24.0)
        for recoverable, reachable, want in (
                (True, True, [A.PAUSE_POSTCOPY_STREAM]),
                # Paused while packets are dropped, only the source would
                # know: wait for libvirt's keepalive or the network.
                (True, False, []), (True, None, []),
                (False, True, [])):
            postcopy = migration.PostcopyState(
                requested=True, confirmed=True, moved_at=10.0,
                dest_reachable=reachable)
            decisions = self.decide(
                now=25.0, pol=policy(postcopy_recoverable=recoverable,
                                     postcopy_stall_timeout=10),
                postcopy=postcopy, done=done)
            self.assertEqual(want, [d.action for d in decisions],
                             (recoverable, reachable))

    def test_stats_at_the_interval_and_on_a_status_change(self):
        self.assertEqual([A.SAVE_STATS], [d.action for d in self.decide(
            done=taken(stats_saved_at=None))])
        self.assertEqual([], self.decide(now=4.0, done=taken()))
        self.assertEqual([A.SAVE_STATS], [d.action for d in self.decide(
            now=5.0, done=taken())])
        decisions = self.decide(
            postcopy=migration.PostcopyState(requested=True, confirmed=True,
                                             moved_at=4.0))
        self.assertEqual('status changed', decisions[-1].reason)

    def test_first_real_figures_are_saved_at_once(self):
        # The set-up samples (zeros) were saved; the first figures do not
        # wait for the stats interval.
        zeros = info(data_total=0)
        self.assertEqual([], self.decide(
            now=1.0, sample=zeros, done=taken(totals_saved=False)))
        decisions = self.decide(
            now=1.0, sample=info(data_total=512 * MiB,
                                 data_remaining=500 * MiB),
            done=taken(totals_saved=False))
        self.assertEqual([(A.SAVE_STATS, 'first figures')],
                         [(d.action, d.reason) for d in decisions])


class RecoverDecisionsTestCase(testtools.TestCase):

    def test_unpause_only_a_guest_the_monitor_paused(self):
        self.assertEqual([A.UNPAUSE], [d.action for d in
                                       migration.recover_decisions(
                                           taken(paused_by_monitor=True),
                                           True)])
        self.assertEqual([], migration.recover_decisions(taken(), True))
        self.assertEqual([], migration.recover_decisions(
            taken(paused_by_monitor=True), False))
