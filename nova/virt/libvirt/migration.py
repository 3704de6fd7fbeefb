"""Decisions of the live-migration monitor, one small function each.

The driver's monitor loop (``driver.LibvirtDriver._live_migration_monitor``)
reads job statistics, then asks these functions what to do:

=======================  ===================================================
step                     function
=======================  ===================================================
job-type detection       ``find_job_type`` / ``finished_job_type``
abort / timeout          ``timeout_action_due``, ``ProgressTracker``
post-copy switch         ``should_switch_to_postcopy``
downtime stepping        ``downtime_steps``, ``downtime_step_due``,
                         ``update_downtime``
stats update             ``migration_stats``, ``progress_percent``,
                         ``save_stats``
task processing          ``run_tasks`` (``force_complete``, ``abort``)
recovery                 ``run_recover_tasks``
=======================  ===================================================

Everything except the three functions that act (``update_downtime``,
``run_tasks``/``force_complete``/``abort``, ``run_recover_tasks``) is a
pure function over plain values; the acting ones take the ``Guest`` wrapper,
never libvirt itself.
"""

import collections
import dataclasses
from typing import Any, List, Optional

from oslo_log import log as logging

from nova.virt.libvirt import guest as libvirt_guest

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
MiB = 1024 ** 2

# Operator tasks the monitor loop accepts.
TASK_FORCE_COMPLETE = 'force-complete'
TASK_ABORT = 'abort'
KNOWN_TASKS = (TASK_FORCE_COMPLETE, TASK_ABORT)

# Recovery tasks: what to undo when the migration does not complete.
RECOVER_UNPAUSE = 'unpause'

# Migration record statuses set while the monitor runs.
STATUS_RUNNING = 'running'
STATUS_POSTCOPY = 'running (post-copy)'

# Guest RAM counts as at least this much when scaling timeouts: small
# guests still need time for set-up and the first pass.
MIN_SCALING_RAM_GB = 2.0

# Pre-copy is not getting anywhere when a memory pass sets out to send
# less than this fraction less than the pass before it.
MIN_PASS_SHRINK = 0.10

# Progress: what is left to send fell by at least this fraction since the
# last progress (smaller wiggles are measurement noise).
MIN_PENDING_DROP = 0.02
# Passes shorter than this at the current transfer rate are a converging
# migration's tail: the pass-shrink rule ignores them.
TAIL_PASS_SECONDS = 1.0

# Job statistics samples a monitor keeps (about 1 h at 2 polls/s).
SAMPLES_KEPT = 7200

RUNNING_JOB_TYPES = (libvirt_guest.JOB_BOUNDED, libvirt_guest.JOB_UNBOUNDED)


# -- sizes -----------------------------------------------------------------

def guest_data_gb(memory_mb, disk_bytes=0):
    """GiB of data a migration moves, the unit timeouts are scaled by.

    RAM counts as at least ``MIN_SCALING_RAM_GB``; disk counts only when it
    is copied (block migration).
    """
    ram_gb = max(memory_mb / 1024.0, MIN_SCALING_RAM_GB)
    return ram_gb + max(disk_bytes, 0) / float(GiB)


# -- job-type detection ----------------------------------------------------

def finished_job_type(domain_exists, domain_active, operation_error,
                      cancelled_by_operator):
    """Classify a migration job that libvirt no longer reports as running.

    libvirt forgets a job once it ends, so the outcome is read off the
    domain: still active on the source means the guest never left (failed,
    or cancelled when an operator asked for it; an abort by timeout is a
    failure); gone or shut off means it left, which is a success unless the
    migration call itself reported an error.
    """
    if domain_exists and domain_active:
        if cancelled_by_operator:
            return libvirt_guest.JOB_CANCELLED
        return libvirt_guest.JOB_FAILED
    if operation_error is not None:
        return libvirt_guest.JOB_FAILED
    return libvirt_guest.JOB_COMPLETED


def find_job_type(guest, operation_error, cancelled_by_operator):
    """``finished_job_type`` for this guest, asking libvirt for its state."""
    exists, active = guest.exists_active()
    return finished_job_type(exists, active, operation_error,
                             cancelled_by_operator)


def is_job_running(info):
    return info.type in RUNNING_JOB_TYPES


# -- progress and timeouts -------------------------------------------------

@dataclasses.dataclass
class ProgressTracker(object):
    """Whether the migration is getting closer to the end.

    Raw data remaining is useless for that: at the start of every pre-copy
    pass QEMU re-reads the dirty bitmap, so it jumps up there and falls to
    nearly nothing by the end of each pass, converging or not. The tracker
    judges instead what would be left to send if the guest stopped now:

        pending = data remaining + dirty rate x time since the pass began

    which is continuous across pass boundaries (what the last pass dirtied
    is what the next one sets out to send) and is QEMU's own convergence
    measure. Progress is a new low of pending, ``MIN_PENDING_DROP`` below
    the level of the last progress. Without a dirty rate from libvirt
    (first pass, old hypervisors) pending is data remaining; when the first
    dirty rate arrives with pass 2, the pass counts as progress if it sets
    out to send ``MIN_PASS_SHRINK`` less than pass 1 did.

    It also keeps what each pass set out to send (the most data seen
    remaining in it), for the post-copy switch.
    """

    started_at: float
    iteration: int = 0
    pass_started_at: float = 0.0
    pass_start: int = 0                # most data remaining seen this pass
    previous_pass_start: int = 0       # same, for the pass before
    progress_level: Optional[float] = None
    last_progress_at: Optional[float] = None
    last_dirty_bps: float = 0.0
    last_sample_at: float = 0.0
    last_remaining: int = 0
    current_pass_known: bool = True
    previous_pass_known: bool = True

    def observe(self, now, iteration, remaining, dirty_bps=0, bps=0):
        """Record one sample. Returns True when a new pass began.

        ``bps`` (the transfer rate) places the pass boundary between two
        samples: the previous pass ended when its last remaining bytes were
        sent, and the new pass has been sending at ``bps`` since.
        """
        remaining = max(int(remaining), 0)
        iteration = max(int(iteration), 1)
        new_pass = iteration > self.iteration and self.iteration > 0
        if new_pass or self.iteration == 0:
            began = now
            if new_pass and bps > 0:
                began = min(now, self.last_sample_at +
                            self.last_remaining / float(bps))
            self.previous_pass_start = self.pass_start
            self.pass_start = int(remaining + max(bps, 0) * (now - began))
            self.pass_started_at = began
            # Several passes between two samples: where the current one
            # began is unknown, so its size must not be compared.
            self.previous_pass_known = self.current_pass_known
            self.current_pass_known = iteration - self.iteration <= 1
        else:
            self.pass_start = max(self.pass_start, remaining)
        self.iteration = max(iteration, self.iteration)
        self.last_sample_at = now
        self.last_remaining = remaining

        dirty_bps = max(dirty_bps, 0)
        pending = remaining + dirty_bps * (now - self.pass_started_at)
        if new_pass and dirty_bps and not self.last_dirty_bps:
            # The first dirty rate (QEMU measures it from the second pass):
            # the earlier estimates lacked it, so start a new baseline.
            self.progress_level = None
            shrink = self.pass_shrink()
            if shrink is not None and shrink < MIN_PASS_SHRINK:
                self.progress_level = pending
        self.last_dirty_bps = dirty_bps
        if (self.progress_level is None or
                pending <= self.progress_level * (1.0 - MIN_PENDING_DROP)):
            self.progress_level = pending
            self.last_progress_at = now
        return new_pass

    def stalled_for(self, now):
        """Seconds since the last progress."""
        if self.last_progress_at is None:
            return 0.0
        return max(now - self.last_progress_at, 0.0)

    def pass_shrink(self):
        """Fraction by which the current pass shrank against the previous.

        None when either pass's size is unknown (several passes went by
        between two samples).
        """
        if self.iteration < 2 or self.previous_pass_start <= 0:
            return None
        if not (self.current_pass_known and self.previous_pass_known):
            return None
        return 1.0 - float(self.pass_start) / self.previous_pass_start


def completion_timeout_seconds(timeout_per_gb, data_gb):
    """The completion timeout of one migration; 0 means none."""
    if timeout_per_gb <= 0:
        return 0
    return int(timeout_per_gb * data_gb)


def timeout_action_due(elapsed, completion_timeout, stalled_for,
                       progress_timeout, postcopy_active):
    """Which timeout, if any, calls for ``live_migration_timeout_action``.

    Returns 'completion', 'progress' or None. A migration in post-copy is
    never timed out: the guest already runs on the destination and the
    only way forward is to finish.
    """
    if postcopy_active:
        return None
    if completion_timeout > 0 and elapsed > completion_timeout:
        return 'completion'
    if progress_timeout > 0 and stalled_for > progress_timeout:
        return 'progress'
    return None


# -- post-copy switch ------------------------------------------------------

def _pass_is_tail(pass_bytes, bps):
    """A pass the link sends in under TAIL_PASS_SECONDS at today's rate.

    Near the end of a converging migration the passes are tiny and their
    sizes jump about (measured on the lab: a 256 MiB guest converging at
    half the link rate tripped the shrink rule on a noisy last pass); such
    a pass says nothing about convergence, and the downtime ladder finishes
    it anyway. Unknown rate: not a tail.
    """
    return bps > 0 and pass_bytes < bps * TAIL_PASS_SECONDS


def should_switch_to_postcopy(info, tracker, postcopy_enabled,
                              postcopy_active):
    """Why pre-copy cannot finish, or None while it still may.

    Only from the second memory pass on (the first pass is the bulk copy
    of all RAM). Two signals, either is enough:

    * the pass that just began sets out to send less than
      ``MIN_PASS_SHRINK`` less than the previous pass did;
    * libvirt reports the guest dirtying memory at ``1 - MIN_PASS_SHRINK``
      (90%) of the transfer rate or more: a pass then sets out to send at
      least 90% of what the pass before sent (the next pass is what the
      guest dirtied meanwhile), so this is the same rule, read off the
      rates. It also works when passes are shorter than the poll interval.
    """
    if not postcopy_enabled or postcopy_active:
        return None
    if not is_job_running(info) or tracker.iteration < 2:
        return None
    shrink = tracker.pass_shrink()
    if (shrink is not None and shrink < MIN_PASS_SHRINK and
            not _pass_is_tail(tracker.pass_start, info.memory_bps)):
        return ('memory pass %d set out to send %d MiB, pass %d %d MiB: '
                'not %d%% less' % (tracker.iteration,
                                   tracker.pass_start // MiB,
                                   tracker.iteration - 1,
                                   tracker.previous_pass_start // MiB,
                                   int(MIN_PASS_SHRINK * 100)))
    dirty_bps = info.memory_dirty_bps
    if (info.memory_bps > 0 and
            dirty_bps >= (1.0 - MIN_PASS_SHRINK) * info.memory_bps):
        return ('guest dirties %d MiB/s, migration sends %d MiB/s' %
                (dirty_bps // MiB, info.memory_bps // MiB))
    return None


# -- downtime stepping -----------------------------------------------------

def downtime_steps(data_gb, max_downtime_ms, steps, delay_per_gb):
    """The (seconds after start, allowed downtime ms) ladder.

    ``steps + 1`` rungs rise linearly from ``max_downtime / steps`` to
    ``max_downtime``; rung i is reached ``i * delay_per_gb * data_gb``
    seconds after the migration started.
    """
    delay = int(delay_per_gb * data_gb)
    first = max_downtime_ms / float(steps)
    rise = (max_downtime_ms - first) / float(steps)
    return [(delay * i, int(first + rise * i)) for i in range(steps + 1)]


def downtime_step_due(ladder, current_step, elapsed):
    """Index of the highest rung reached by ``elapsed`` if above current."""
    due = current_step
    for index, (at, _ms) in enumerate(ladder):
        if elapsed >= at:
            due = index
    return due if due > current_step else None


def update_downtime(guest, ladder, current_step, elapsed):
    """Apply the next downtime rung when due; return the current rung.

    A libvirt error is logged and the rung is retried next time.
    """
    due = downtime_step_due(ladder, current_step, elapsed)
    if due is None:
        return current_step
    downtime_ms = ladder[due][1]
    try:
        guest.migrate_configure_max_downtime(downtime_ms)
    except Exception as exc:
        LOG.warning('Unable to set max downtime %d ms: %s', downtime_ms, exc)
        return current_step
    LOG.info('Allowed migration downtime now %d ms (step %d of %d)',
             downtime_ms, due, len(ladder) - 1)
    return due


# -- stats -----------------------------------------------------------------

STAT_FIELDS = ('memory_total', 'memory_processed', 'memory_remaining',
               'disk_total', 'disk_processed', 'disk_remaining')


def migration_stats(info):
    """The Migration record fields libvirt's job statistics fill in."""
    return {name: max(getattr(info, name), 0) for name in STAT_FIELDS}


def progress_percent(info):
    """Instance progress: share of data already sent, 0..100."""
    total = info.data_total
    if total <= 0:
        return 0
    remaining = min(max(info.data_remaining, 0), total)
    return int(round(100.0 * (total - remaining) / total))


def progress_summary(info, state, now):
    """One log line an operator can follow a migration by."""
    elapsed = now - state.started_at if state.started_at is not None else 0
    mode = 'post-copy' if state.postcopy_active else 'pre-copy'
    if state.paused_by_monitor:
        mode += ', guest paused'
    return ('migration %s for %d s, pass %d, %d MiB of %d MiB remaining, '
            'sending %d MiB/s, guest dirtying %d MiB/s, throttle %d%%, '
            'allowed downtime step %d' % (
                mode, elapsed, info.memory_iteration,
                max(info.data_remaining, 0) // MiB,
                max(info.data_total, 0) // MiB, info.memory_bps // MiB,
                info.memory_dirty_bps // MiB, info.auto_converge_throttle,
                max(state.downtime_step, 0)))


def completed_stats(last_info, memory_mb):
    """Job statistics of a completed migration, from its last sample.

    Nothing remains; totals libvirt had not reported yet (a migration that
    ended between the set-up phase and the next poll) are the guest's RAM.
    """
    last = last_info or libvirt_guest.JobInfo()
    memory_total = last.memory_total or int(memory_mb or 0) * MiB
    return dataclasses.replace(
        last, type=libvirt_guest.JOB_COMPLETED,
        memory_total=memory_total,
        memory_processed=max(last.memory_processed, memory_total),
        memory_remaining=0,
        disk_processed=last.disk_total, disk_remaining=0,
        data_total=last.data_total or memory_total + last.disk_total,
        data_remaining=0)


def save_stats(instance, migration, info):
    """Copy job statistics onto the Migration record and the instance."""
    for name, value in migration_stats(info).items():
        setattr(migration, name, value)
    migration.save()
    instance.progress = progress_percent(info)
    instance.save()


# -- tasks -----------------------------------------------------------------

@dataclasses.dataclass
class MonitorState(object):
    """Everything the monitor loop knows about one migration."""

    data_gb: float
    postcopy_enabled: bool
    started_at: Optional[float] = None
    postcopy_active: bool = False
    postcopy_recoverable: bool = False
    paused_by_monitor: bool = False
    abort_requested: bool = False
    cancelled_by_operator: bool = False
    timeout_action_taken: Optional[str] = None
    # Post-copy stream broken (libvirt said so, or the monitor paused a
    # stalled one) and not moving again yet; given up on for good.
    postcopy_broken: bool = False
    broken_since: Optional[float] = None    # monitor clock
    postcopy_unrecovered: bool = False
    resume_attempts: int = 0
    stall: Any = None
    downtime_step: int = -1
    stats_saved_at: Optional[float] = None
    recover_tasks: List[str] = dataclasses.field(default_factory=list)
    actions: List[tuple] = dataclasses.field(default_factory=list)
    progress: Optional[ProgressTracker] = None
    last_info: Optional[libvirt_guest.JobInfo] = None
    # (seconds since start, JobInfo) per poll, the latest SAMPLES_KEPT.
    samples: collections.deque = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=SAMPLES_KEPT))

    def record(self, now, action, detail=''):
        """Remember a corrective action (for logs, tests and benchmarks)."""
        elapsed = now - self.started_at if self.started_at is not None else 0
        self.actions.append((round(elapsed, 3), action, detail))
        LOG.info('Live migration monitor: %s %s (after %.1f s)',
                 action, detail, elapsed)

    def first_action_after(self, names):
        for elapsed, action, _detail in self.actions:
            if action in names:
                return elapsed
        return None


def force_complete(guest, state, now, reason):
    """Make the migration finish now: post-copy if enabled, else pause.

    Returns the action taken ('postcopy', 'pause') or None.
    """
    if state.postcopy_active:
        LOG.info('Force complete ignored: already in post-copy')
        return None
    if state.postcopy_enabled:
        guest.migrate_start_postcopy()
        state.postcopy_active = True
        state.record(now, 'postcopy', reason)
        return 'postcopy'
    if state.paused_by_monitor:
        LOG.info('Force complete ignored: guest already paused')
        return None
    guest.pause()
    state.paused_by_monitor = True
    if RECOVER_UNPAUSE not in state.recover_tasks:
        state.recover_tasks.append(RECOVER_UNPAUSE)
    state.record(now, 'pause', reason)
    return 'pause'


def abort(guest, state, now, reason, by_operator=False):
    """Cancel the migration unless it is in post-copy (then it must end)."""
    if state.postcopy_active:
        LOG.warning('Abort refused: the migration is in post-copy and the '
                    'guest already runs on the destination')
        return None
    guest.abort_job()
    state.abort_requested = True
    state.cancelled_by_operator = state.cancelled_by_operator or by_operator
    state.record(now, 'abort', reason)
    return 'abort'


def _operator_abort(guest, state, now, reason):
    return abort(guest, state, now, reason, by_operator=True)


_TASK_ACTIONS = {TASK_FORCE_COMPLETE: force_complete,
                 TASK_ABORT: _operator_abort}


def run_tasks(tasks, guest, state, now):
    """Run the operator tasks queued for this migration, oldest first.

    ``tasks`` is a deque shared with the API side; unknown names are
    logged and dropped. A libvirt error in one task does not stop the
    others or the monitor.
    """
    done = []
    while tasks:
        name = tasks.popleft()
        action = _TASK_ACTIONS.get(name)
        if action is None:
            LOG.warning('Unknown live migration task %r ignored', name)
            continue
        try:
            result = action(guest, state, now, 'requested by operator')
        except Exception as exc:
            LOG.warning('Live migration task %s failed: %s', name, exc)
            continue
        done.append((name, result))
    return done


def run_recover_tasks(guest, state):
    """Undo what tasks did, for a migration that failed or was cancelled.

    The guest stays on the source, so a guest paused for force-complete
    must run again there.
    """
    undone = []
    for name in list(state.recover_tasks):
        if name == RECOVER_UNPAUSE:
            exists, active = guest.exists_active()
            if exists and active and (guest.get_power_state() ==
                                      libvirt_guest.PAUSED):
                try:
                    guest.resume()
                    undone.append(name)
                except Exception as exc:
                    LOG.error('Could not resume the guest after a failed '
                              'migration: %s', exc)
                    continue
        else:
            LOG.warning('Unknown recovery task %r ignored', name)
        state.recover_tasks.remove(name)
    return undone
