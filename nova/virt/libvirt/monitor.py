"""The monitor of one live migration: a short loop, one applier, one state.

Per poll the loop (``MigrationMonitor.run``):

1. drains its channel: operator requests and libvirt events (post-copy
   started or failed, a new memory pass) that other threads put there;
2. reads the job statistics (``None``: libvirt had no sample this time);
3. updates its state from them (the loop is the only writer);
4. asks ``migration.decide`` what to do and hands the answer to ``apply``;
5. waits for the next event or the poll interval, whichever comes first.

The applier is the only code that acts on the guest; the precedence
between decisions is ``decide``'s business alone. Recovery of a broken
post-copy stream reuses the same loop for each resume attempt.
"""

import collections
import dataclasses
from typing import Any, Callable, Deque, List, Optional

from oslo_log import log as logging

from nova.compute import power_state
from nova import exception
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration
from nova.virt.libvirt import postcopy_recovery

LOG = logging.getLogger(__name__)

Action = migration.Action

# How often the loop polls libvirt when no event wakes it earlier
# ([libvirt] live_migration_monitor_interval sets how often stats are
# written out).
POLL_INTERVAL = 0.5

# How often a stalled post-copy stream's destination is probed.
PROBE_INTERVAL = 2.0
# How long recovery waits, once it paused the stream, for the destination
# to notice (its domain "running (post-copy failed)"): 0-12 s on the lab.
DESTINATION_NOTICE_WAIT = 20.0

# What reaches the loop through its channel.
EVENT_TASK = 'task'                         # value: a migration.TASK_*
EVENT_POSTCOPY_STARTED = 'postcopy-started'
EVENT_POSTCOPY_FAILED = 'postcopy-failed'
EVENT_ITERATION = 'iteration'               # value: the new pass number


@dataclasses.dataclass(frozen=True)
class MonitorEvent(object):
    kind: str
    at: float                 # monitor clock when it was put
    value: Any = None


@dataclasses.dataclass
class MonitorState(object):
    """Everything the monitor knows about one migration, in parts.

    ``progress`` (is it getting closer?), ``postcopy`` (requested,
    confirmed by libvirt, broken), ``taken`` (what it did, and why). Only
    the monitor loop and its applier write them.
    """

    data_gb: float
    policy: migration.Policy
    started_at: Optional[float] = None
    progress: Optional[migration.ProgressTracker] = None
    postcopy: migration.PostcopyState = dataclasses.field(
        default_factory=migration.PostcopyState)
    taken: migration.ActionsTaken = dataclasses.field(
        default_factory=migration.ActionsTaken)
    pending_tasks: List[str] = dataclasses.field(default_factory=list)
    last_info: Optional[libvirt_guest.JobInfo] = None
    # The operator's timeline (migration_timeline.Recorder), or None.
    recorder: Any = None
    # (seconds since start, JobInfo) per sample, the latest SAMPLES_KEPT.
    samples: Deque = dataclasses.field(
        default_factory=lambda: collections.deque(
            maxlen=migration.SAMPLES_KEPT))

    # Read-only views, for logs, records and the benchmark.
    @property
    def postcopy_enabled(self):
        return self.policy.postcopy_enabled

    @property
    def postcopy_active(self):
        return self.postcopy.confirmed

    @property
    def postcopy_broken(self):
        return self.postcopy.broken

    @property
    def postcopy_unrecovered(self):
        return self.postcopy.unrecovered

    @property
    def resume_attempts(self):
        return self.postcopy.resume_attempts

    @property
    def paused_by_monitor(self):
        return self.taken.paused_by_monitor

    @property
    def abort_requested(self):
        return self.taken.abort_sent

    @property
    def cancelled_by_operator(self):
        return self.taken.cancelled_by_operator

    @property
    def downtime_step(self):
        return self.taken.downtime_step

    @property
    def actions(self):
        return self.taken.log

    def elapsed(self, now):
        return now - self.started_at if self.started_at is not None else 0.0

    def record(self, now, action, detail=''):
        """Log a corrective action (for logs, records, the benchmark)."""
        elapsed = self.elapsed(now)
        self.taken.log.append((round(elapsed, 3), action, detail))
        LOG.info('Live migration monitor: %s %s (after %.1f s)', action,
                 detail, elapsed)
        self.note(now, action, detail)

    def note(self, now, action, detail=''):
        """Hand a decision to the operator's timeline, if one is kept."""
        if self.recorder is not None:
            self.recorder.decision(self.elapsed(now), action, detail)

    def phase(self):
        """The timeline's phase name: pre-copy, post-copy or paused."""
        if self.postcopy.confirmed:
            return 'post-copy'
        return 'paused' if self.taken.paused_by_monitor else 'pre-copy'

    def downtime_ms(self):
        """The allowed downtime now (0 before the first rung)."""
        step = self.taken.downtime_step
        return self.policy.ladder[step][1] if step >= 0 else 0

    def mode(self):
        mode = 'post-copy' if self.postcopy.confirmed else 'pre-copy'
        if self.progress is not None and self.progress.copying_disks:
            mode = 'disk copy'
        if self.taken.paused_by_monitor:
            mode += ', guest paused'
        return mode


class MigrationMonitor(object):
    """Watches one migration job until it ends; applies the decisions.

    ``save_progress(info, status)`` writes the job statistics and the
    Migration status out (the driver's records); the state's ``recorder``
    keeps the operator's timeline (every sample and decision).
    """

    def __init__(self, guest, instance, state, channel, clock,
                 save_progress: Callable, lv_error=Exception,
                 poll_interval=None,
                 probe_destination: Optional[Callable] = None):
        self.guest = guest
        self.instance = instance
        self.state = state
        self.channel = channel
        self.clock = clock
        self._save_progress = save_progress
        self._lv_error = lv_error
        self._poll = poll_interval or POLL_INTERVAL
        # () -> True when the destination's libvirt answers (bounded),
        # False when it does not, None when this process cannot tell.
        self.probe_destination = probe_destination or (lambda: None)
        self._probed_at = None
        self._handlers = {
            Action.ABORT: self._abort,
            Action.SWITCH_TO_POSTCOPY: self._switch_to_postcopy,
            Action.PAUSE: self._pause,
            Action.STEP_DOWNTIME: self._step_downtime,
            Action.SAVE_STATS: self._save_stats,
            Action.PAUSE_POSTCOPY_STREAM: self._pause_stream,
            Action.UNPAUSE: self._unpause,
            Action.REFUSE: self._refuse,
            Action.HOLD: self._hold,
        }

    # -- the loop -----------------------------------------------------------

    def run(self, operation, give_up_at=None):
        """Watch until the job ends; return (job type, error).

        ``give_up_at`` bounds a post-copy resume attempt: past it, an
        attempt that has not got data moving again is left to libvirt
        (whose call may never return) and reported as failed.
        """
        state, seen = self.state, False
        while True:
            self._take_events()
            info = self.guest.get_job_info()
            now = self.clock.now()
            running = migration.is_job_running(info)
            # The call returning ends it too: after a post-copy failure
            # libvirt keeps reporting the stalled job as running.
            if operation.ready() or (seen and info is not None and
                                     not running):
                break
            if (give_up_at is not None and now >= give_up_at and
                    state.postcopy.broken):
                return libvirt_guest.JOB_FAILED, self._gave_up_error()
            if running or seen:
                seen = True
                self._observe(now, info)
                self.apply(self._decide(now, info), now, info)
            self.clock.wait(self.channel, self._poll)
        return self._outcome(operation)

    def _decide(self, now, info):
        state = self.state
        requests = migration.Requests.from_tasks(state.pending_tasks)
        state.pending_tasks = []
        return migration.decide(now, state.elapsed(now), info, state.policy,
                                requests, state.progress, state.postcopy,
                                state.taken)

    # -- what the loop learns ------------------------------------------------

    def _take_events(self):
        state = self.state
        for event in self.channel.drain():
            if event.kind == EVENT_TASK:
                state.pending_tasks.append(event.value)
            elif event.kind == EVENT_POSTCOPY_STARTED:
                self._confirm_postcopy('libvirt event')
            elif event.kind == EVENT_POSTCOPY_FAILED:
                self._confirm_postcopy('libvirt event: post-copy failed')
                self._mark_broken(event.at)
            elif event.kind == EVENT_ITERATION:
                if state.progress is not None:
                    state.progress.announce_pass(event.at, event.value)

    def _observe(self, now, info):
        state = self.state
        if state.started_at is None:
            state.started_at = now
            state.progress = migration.ProgressTracker(started_at=now)
        if state.postcopy.requested and not state.postcopy.confirmed:
            self._check_postcopy_state()
        if info is None:
            return
        state.last_info = info
        state.samples.append((state.elapsed(now), info))
        if state.recorder is not None:
            state.recorder.sample(
                state.elapsed(now), info, phase=state.phase(),
                downtime_ms=state.downtime_ms())
        state.progress.observe(now, info.memory_iteration,
                               info.data_remaining, info.memory_dirty_bps,
                               info.memory_bps, processed=info.data_processed,
                               disk_phase=migration.copying_disks(info))
        postcopy = state.postcopy
        if postcopy.confirmed:
            moving = postcopy.observe_stream(now, info.memory_processed)
            if postcopy.broken and moving:
                LOG.info('Post-copy data is moving again',
                         instance=self.instance)
                postcopy.broken = False
                postcopy.broken_since = None
            if migration.postcopy_stalled(now, state.policy, postcopy) and (
                    self._probed_at is None or
                    now - self._probed_at >= PROBE_INTERVAL):
                self._probed_at = now
                postcopy.dest_reachable = self.probe_destination()

    def _check_postcopy_state(self):
        """Confirm a requested switch from the source domain's state."""
        try:
            if self.guest.is_postcopy_failed_here():
                self._confirm_postcopy('domain state: post-copy failed')
                self._mark_broken(self.clock.now())
            elif self.guest.is_postcopy_paused_here():
                self._confirm_postcopy('domain state')
        except self._lv_error as exc:
            LOG.debug('Cannot read the domain state: %s', exc,
                      instance=self.instance)

    def _confirm_postcopy(self, how):
        postcopy = self.state.postcopy
        if not postcopy.confirmed:
            LOG.info('Migration switched to post-copy (%s)', how,
                     instance=self.instance)
        postcopy.requested = postcopy.confirmed = True

    def _mark_broken(self, at):
        postcopy = self.state.postcopy
        if not postcopy.broken:
            LOG.warning('libvirt reports the post-copy migration failed: '
                        'the guest waits, split between the hosts',
                        instance=self.instance)
        postcopy.broken = True
        if postcopy.broken_since is None:
            postcopy.broken_since = at

    # -- the applier ---------------------------------------------------------

    def apply(self, decisions, now, info):
        """Run the decisions in order; a libvirt refusal is logged.

        A refused timeout action is tried again at the next poll: its
        "taken" mark is only set once libvirt accepted it.
        """
        for decision in decisions:
            try:
                self._handlers[decision.action](decision, now, info)
            except Exception as exc:
                LOG.warning('Live migration action %s (%s) failed: %s',
                            decision.action.value, decision.reason, exc,
                            instance=self.instance)
                continue

    def _record(self, decision, now):
        self.state.record(now, decision.action.value, decision.reason)
        if decision.timeout is not None:
            self.state.taken.timeout_action = decision.timeout

    def _abort(self, decision, now, info):
        self.guest.abort_job()
        taken = self.state.taken
        taken.abort_sent = True
        taken.cancelled_by_operator = (
            taken.cancelled_by_operator or
            decision.origin in (migration.ORIGIN_OPERATOR,
                                migration.ORIGIN_DELETE))
        self._record(decision, now)

    def _switch_to_postcopy(self, decision, now, info):
        self.guest.migrate_start_postcopy()
        # "Requested" only: the migration is in post-copy once libvirt
        # confirms it (event or domain state).
        self.state.postcopy.requested = True
        self._record(decision, now)

    def _pause(self, decision, now, info):
        self.guest.pause()
        self.state.taken.paused_by_monitor = True
        self._record(decision, now)

    def _unpause(self, decision, now, info):
        self.guest.resume()
        self.state.taken.paused_by_monitor = False
        self._record(decision, now)

    def _step_downtime(self, decision, now, info):
        ladder = self.state.policy.ladder
        downtime_ms = ladder[decision.step][1]
        self.guest.migrate_configure_max_downtime(downtime_ms)
        self.state.taken.downtime_step = decision.step
        self.state.note(now, decision.action.value, decision.reason)
        LOG.info('Allowed migration downtime now %d ms (step %d of %d)',
                 downtime_ms, decision.step, len(ladder) - 1,
                 instance=self.instance)

    def _save_stats(self, decision, now, info):
        state = self.state
        info = info or state.last_info
        status = migration.status_for(state.postcopy)
        if info is None:
            return
        self._save_progress(info, status)
        state.taken.stats_saved_at = now
        state.taken.status_saved = status
        state.taken.totals_saved = state.taken.totals_saved or (
            info.data_total > 0)
        LOG.info('%s', migration.progress_summary(
            info, state.elapsed(now), state.mode(), state.downtime_step),
            instance=self.instance)

    def _pause_stream(self, decision, now, info):
        postcopy = self.state.postcopy
        self._record(decision, now)
        postcopy.broken = True
        postcopy.broken_since = now
        self.guest.pause_postcopy()

    def _hold(self, decision, now, info):
        """Keep the operator's force-complete for a later poll."""
        state = self.state
        state.pending_tasks.append(migration.TASK_FORCE_COMPLETE)
        if not state.taken.holding:
            state.taken.holding = True
            LOG.info('Live migration: %s', decision.reason,
                     instance=self.instance)
            state.note(now, decision.action.value, decision.reason)

    def _refuse(self, decision, now, info):
        LOG.warning('Live migration: %s', decision.reason,
                    instance=self.instance)
        self.state.note(now, decision.action.value, decision.reason)

    # -- the end -----------------------------------------------------------

    def _gave_up_error(self):
        return exception.LiveMigrationFailed(
            instance_id=self.instance.uuid,
            reason='the resumed post-copy migration moved no data before '
                   'live_migration_postcopy_recovery_timeout')

    def _outcome(self, operation):
        """Wait for the operation thread and classify how the job ended."""
        if self.state.recorder is not None:
            self.state.recorder.flush()
        error = None
        try:
            operation.wait()
        except Exception as exc:  # libvirtError, or anything else: failed
            error = exc
        state = self.state
        if state.postcopy.requested and not state.postcopy.confirmed:
            self._check_postcopy_state()
        try:
            exists, active = self.guest.exists_active()
        except self._lv_error as exc:
            LOG.warning('Cannot tell whether the guest is still here: %s; '
                        'the migration call decides', exc,
                        instance=self.instance)
            exists, active = None, None
        job_type = migration.finished_job_type(
            exists, active, error, state.taken.cancelled_by_operator)
        return job_type, error

    def recover(self):
        """Undo what the monitor did to a migration that did not complete."""
        try:
            exists, active = self.guest.exists_active()
            paused_here = (exists and active and self.guest.get_power_state()
                           == power_state.PAUSED)
        except self._lv_error as exc:
            LOG.error('Cannot read the guest after a failed migration: %s',
                      exc, instance=self.instance)
            return
        now = self.clock.now()
        self.apply(migration.recover_decisions(self.state.taken, paused_here),
                   now, None)


class PostcopyRecovery(object):
    """Resume a broken post-copy stream on a bounded schedule, or give up.

    Never destroys or cancels anything: in post-copy neither host holds the
    whole guest. Each attempt is a new ``migrateToURI3`` with
    ``VIR_MIGRATE_POSTCOPY_RESUME`` watched by the same monitor.
    """

    def __init__(self, monitor, start_migration, resume_flags, timeout,
                 max_interval, destination_failed=None):
        self.monitor = monitor
        self._start = start_migration       # flags -> operation handle
        self._flags = resume_flags
        self._timeout = timeout
        self._max_interval = max_interval
        # () -> True once the destination's domain says its post-copy
        # failed, False while it does not yet, None when it cannot tell.
        self._destination_failed = destination_failed or (lambda: None)

    def run(self, broke_at, error):
        """Returns (job type, error) like the monitor."""
        monitor, state = self.monitor, self.monitor.state
        clock, postcopy = monitor.clock, state.postcopy
        schedule = postcopy_recovery.attempt_schedule(
            self._timeout, self._max_interval)
        while schedule:
            at, schedule = schedule[0], schedule[1:]
            wait = broke_at + at - clock.now()
            if wait > 0:
                clock.sleep(wait)
            if monitor.probe_destination() is False:
                LOG.info('The destination does not answer yet; the next '
                         'try is on the back-off', instance=monitor.instance)
                continue
            postcopy.resume_attempts += 1
            state.record(clock.now(), postcopy_recovery.ACTION_RESUME,
                         'attempt %d' % postcopy.resume_attempts)
            # libvirt's sequence (its QE suite, and measured on the lab):
            # with the network back, pause the source's stream, let the
            # destination notice, then resume with the first call's
            # arguments.
            self._pause_stream_quietly()
            self._wait_destination_noticed(broke_at + self._timeout)
            operation = self._start(self._flags)
            job_type, error = monitor.run(operation,
                                          give_up_at=broke_at + self._timeout)
            if job_type == libvirt_guest.JOB_COMPLETED:
                postcopy.broken = False
                state.record(clock.now(), postcopy_recovery.ACTION_RESUMED,
                             'after %.1f s, attempt %d' % (
                                 clock.now() - broke_at,
                                 postcopy.resume_attempts))
                return job_type, None
            postcopy.broken = True
            LOG.warning('Resuming the post-copy migration (attempt %d) '
                        'failed: %s', postcopy.resume_attempts, error,
                        instance=monitor.instance)
            if not operation.ready():
                break       # libvirt still holds the call: no new attempt
            if postcopy_recovery.refused_for_now(error):
                schedule = postcopy_recovery.with_retry_soon(
                    schedule, clock.now() - broke_at, self._timeout)
        postcopy.unrecovered = True
        state.record(clock.now(), postcopy_recovery.ACTION_GAVE_UP,
                     '%d attempts' % postcopy.resume_attempts)
        return libvirt_guest.JOB_FAILED, error

    def _wait_destination_noticed(self, give_up_at):
        """Until the destination says its post-copy failed (bounded)."""
        clock = self.monitor.clock
        deadline = min(clock.now() + DESTINATION_NOTICE_WAIT, give_up_at)
        while clock.now() < deadline:
            failed = self._destination_failed()
            if failed is None or failed:
                return failed
            clock.sleep(0.5)
        return False

    def _pause_stream_quietly(self):
        """Make sure QEMU is in postcopy-paused, as resuming requires.

        libvirt refuses when it already is (or the stream is gone): fine.
        """
        try:
            self.monitor.guest.pause_postcopy()
        except Exception as exc:
            LOG.debug('migrate-pause before resuming: %s', exc)
