"""Decisions of the live-migration monitor: pure functions over plain values.

The monitor loop (``monitor.MigrationMonitor``) gathers one poll's facts
(the job statistics, the clock, the operator's requests, what it did so
far) and asks :func:`decide` what to do. ``decide`` returns an ordered list
of :class:`Decision` (an :class:`Action` and its reason); the monitor's
applier runs them against the guest. The precedence between the sources of
decisions lives here and nowhere else:

    operator abort (or delete)  >  operator force-complete  >  timeouts
    >  automatic post-copy switch  >  downtime stepping

=======================  ===================================================
step                     function
=======================  ===================================================
job-type detection       ``finished_job_type``
abort / timeout          ``timeout_action_due``, ``ProgressTracker``
block migration's disks  ``copying_disks`` (no switch, no downtime step
                         while only disks are copied; progress covers
                         disks, then memory)
post-copy switch         ``should_switch_to_postcopy``
downtime stepping        ``downtime_steps``, ``downtime_step_due``
stats update             ``migration_stats``, ``progress_percent``,
                         ``completed_stats``
task processing          ``decide`` (``Requests``: force-complete, abort)
recovery                 ``recover_decisions`` (undo a pause),
                         ``postcopy_recovery`` (a broken post-copy stream)
=======================  ===================================================

Nothing in this module calls libvirt or touches a record; the state parts
it reads (``ProgressTracker``, ``PostcopyState``, ``ActionsTaken``) are
written only by the monitor loop.
"""

import collections
import dataclasses
import enum
from typing import Deque, List, Optional, Tuple

from nova.objects import fields
from nova.virt.libvirt import guest as libvirt_guest

GiB = 1024 ** 3
MiB = 1024 ** 2

# Operator requests the monitor loop accepts (queued by the driver).
TASK_FORCE_COMPLETE = 'force-complete'
TASK_ABORT = 'abort'
TASK_DELETE = 'delete'

# ``[libvirt] live_migration_post_copy_start``: when post-copy may start.
POSTCOPY_START_AUTOMATIC = 'automatic'
POSTCOPY_START_TIMEOUT = 'timeout'
POSTCOPY_START_OPERATOR = 'operator'
POSTCOPY_START_CHOICES = (POSTCOPY_START_AUTOMATIC, POSTCOPY_START_TIMEOUT,
                          POSTCOPY_START_OPERATOR)

# ``[libvirt] live_migration_downtime_schedule``: what moves the ladder up.
DOWNTIME_SCHEDULE_TIME = 'time'
DOWNTIME_SCHEDULE_STALLED = 'stalled-passes'

TIMEOUT_ACTION_ABORT = 'abort'
TIMEOUT_ACTION_FORCE_COMPLETE = 'force_complete'

# Guest RAM counts as at least this much when scaling timeouts: small
# guests still need time for set-up and the first pass.
MIN_SCALING_RAM_GB = 2.0

# Pre-copy is not getting anywhere when a memory pass sets out to send
# less than this fraction less than the pass before it.
MIN_PASS_SHRINK = 0.10
# The switch needs its evidence this many times in a row (passes for the
# pass-size rule, polls for the rate rule): one noisy sample is not enough.
SWITCH_EVIDENCE = 2
# The link "looks down" when the transfer rate falls below this share of
# the best rate of the last LINK_PEAK_WINDOW seconds, or less than
# LINK_MOVING_BYTES moved in the last LINK_MOVING_WINDOW seconds (a stalled
# stream still drains a few KiB of socket buffer): never switch then.
LINK_OK_FRACTION = 0.5
LINK_PEAK_WINDOW = 30.0
LINK_MOVING_WINDOW = 1.0
LINK_MOVING_BYTES = 256 * 1024
# A post-copy stream counts as moving when this much went through.
MOVING_BYTES = 1024 * 1024

# Progress: what is left to send fell by at least this fraction since the
# last progress (smaller wiggles are measurement noise).
MIN_PENDING_DROP = 0.02
# Passes shorter than this at the current transfer rate are a converging
# migration's tail: the pass-shrink rule ignores them when the allowed
# downtime's top is not known.
TAIL_PASS_SECONDS = 1.0
# The prediction rule of the post-copy switch. A pass that shrank by a
# fraction s against the pass before it predicts (geometric passes) that
# pre-copy still needs about 1 / s times the pass's sending time, where
# post-copy needs about one. Below this shrink, pre-copy is predicted to
# take 25% longer than switching: switch (found with the benchmark's
# oracle, issue 11). The first such pass is pass 2, whose shrink is the
# share of RAM the guest dirtied during pass 1 (a lower bound of its dirty
# rate over the link's, as the working set caps it). Passes the top of the
# downtime ladder can carry are a tail the ladder finishes: never a reason
# to switch.
SLOW_PASS_SHRINK = 0.8
# A downtime rung is chosen to carry the pending data with this margin.
RUNG_MARGIN = 1.1
# The ladder's first rung is at least this (or the top, if lower): the
# smallest downtime the option accepts as a maximum. A lower first rung
# only lets guests that barely dirty memory finish, and they finish one
# pass later anyway, while a guest whose working set the link moves in
# 100 ms finishes at the end of its first pass instead of waiting for the
# monitor to see the second (found with the benchmark, issue 11).
MIN_FIRST_RUNG_MS = 100

# Clock readings closer than this are the same instant (float sums).
TIME_EPS = 1e-6

# Job statistics samples a monitor keeps (about 1 h at 2 polls/s).
SAMPLES_KEPT = 7200

RUNNING_JOB_TYPES = (libvirt_guest.JOB_BOUNDED, libvirt_guest.JOB_UNBOUNDED)


# -- sizes -----------------------------------------------------------------

def guest_data_gb(memory_mb, disk_bytes=0):
    """GiB of data a migration moves, the unit timeouts are scaled by.

    RAM counts as at least ``MIN_SCALING_RAM_GB`` (also when the flavor
    says nothing: ``None``); disk counts only when it is copied.
    """
    ram_gb = max((memory_mb or 0) / 1024.0, MIN_SCALING_RAM_GB)
    return ram_gb + max(disk_bytes or 0, 0) / float(GiB)


# -- job-type detection ----------------------------------------------------

def finished_job_type(domain_exists, domain_active, operation_error,
                      cancelled_by_operator):
    """Classify a migration job that libvirt no longer reports as running.

    libvirt forgets a job once it ends, so the outcome is read off the
    domain: still active on the source means the guest never left (failed,
    or cancelled when an operator asked for it; an abort by timeout is a
    failure); gone or shut off means it left, which is a success unless the
    migration call itself reported an error. ``domain_exists`` None: libvirt
    could not say (an error other than "no domain"); the migration call's
    own result decides then, as it is the one libvirt answered.
    """
    if domain_exists is None:
        if operation_error is None:
            return libvirt_guest.JOB_COMPLETED
        return (libvirt_guest.JOB_CANCELLED if cancelled_by_operator
                else libvirt_guest.JOB_FAILED)
    if domain_exists and domain_active:
        if cancelled_by_operator:
            return libvirt_guest.JOB_CANCELLED
        return libvirt_guest.JOB_FAILED
    if operation_error is not None:
        return libvirt_guest.JOB_FAILED
    return libvirt_guest.JOB_COMPLETED


def is_job_running(info):
    return info is not None and info.type in RUNNING_JOB_TYPES


def copying_disks(info):
    """Block migration's disk phase: disks mirrored, memory not begun.

    libvirt copies the disks (over NBD) before it starts QEMU's memory
    migration; meanwhile its job statistics carry disk figures and the
    memory ones are 0 (see nova.simulator.migration_model, "The disk
    phase"). Also true during QEMU's set-up right after it, while memory
    figures are still 0. Never for a migration without disks to copy.
    """
    return (info is not None and info.disk_total > 0 and
            info.memory_total <= 0 and info.memory_iteration <= 0)


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
    (first pass) pending is data remaining; when the first dirty rate
    arrives with pass 2, the pass counts as progress if it sets out to send
    ``MIN_PASS_SHRINK`` less than pass 1 did.

    Samples from QEMU's set-up phase (all zeros) are ignored: the clock of
    progress starts with the first real data.

    Block migration (``disk_phase`` samples, see ``copying_disks``): the
    disks are copied first; pending is then what is left of the disks
    (libvirt's data remaining), and its new lows are progress. The first
    memory sample ends the disk phase: the memory copy is a migration
    starting over (pass 1 is its first pass, its pending a new baseline,
    reaching it counts as progress), so neither the jump of data
    remaining from the disk's last bytes to all of RAM nor the disk
    phase's figures count against the memory passes.

    It also keeps what each pass set out to send, how many passes (and
    polls) in a row looked like pre-copy cannot finish, and the link's
    recent best rate, for the post-copy switch.
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
    # Consecutive evidence that pre-copy cannot finish.
    stuck_passes: int = 0
    hot_polls: int = 0
    # Passes that shrank less than MIN_PASS_SHRINK (not tails), in all.
    stalled_passes: int = 0
    # Consecutive passes (and polls) that shrank less than
    # SLOW_PASS_SHRINK.
    slow_passes: int = 0
    slow_polls: int = 0
    latest_slow: bool = False
    # libvirt announced when the current pass began (its size is known
    # even when several passes went by between two samples).
    start_announced: bool = False
    # The link: recent (time, rate, bytes processed), and whether data
    # moved over the last LINK_MOVING_WINDOW.
    rates: Deque[Tuple[float, int, int]] = dataclasses.field(
        default_factory=collections.deque)
    moving: bool = False
    # Pass boundaries libvirt announced (migration-iteration event).
    announced: Deque[Tuple[float, int]] = dataclasses.field(
        default_factory=collections.deque)
    # Block migration: the disks are being copied (memory not begun), and
    # when the memory copy began (None: no disk phase was seen).
    copying_disks: bool = False
    memory_started_at: Optional[float] = None

    def announce_pass(self, at, iteration):
        """libvirt's migration-iteration event: pass ``iteration`` began."""
        self.announced.append((at, int(iteration)))

    def observe(self, now, iteration, remaining, dirty_bps=0, bps=0,
                processed=None, disk_phase=False):
        """Record one sample. Returns True when a new pass began.

        ``bps`` (the transfer rate) places the pass boundary between two
        samples when libvirt did not announce it: the previous pass ended
        when its last remaining bytes were sent, and the new pass has been
        sending at ``bps`` since. ``disk_phase``: the sample is from block
        migration's disk copy (``copying_disks``).
        """
        remaining = max(int(remaining), 0)
        if processed is not None:
            self._observe_link(now, int(processed), int(bps))
        if disk_phase and self.iteration == 0:
            self._observe_disk(now, remaining)
            return False
        if self.copying_disks:
            # The memory copy began: its pass 1 is a new start.
            self.copying_disks = False
            self.memory_started_at = now
            self.progress_level = None
        if (int(iteration) <= 0 and remaining == 0 and not processed and
                self.iteration == 0):
            return False    # QEMU still setting up: nothing to judge yet
        iteration = max(int(iteration), 1)
        new_pass = iteration > self.iteration and self.iteration > 0
        if new_pass or self.iteration == 0:
            began = self._pass_began(now, iteration, bps) if new_pass \
                else now
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
        self._count_evidence(new_pass, dirty_bps, bps)
        return new_pass

    def _observe_disk(self, now, remaining):
        """A disk-phase sample: progress is the disks' remaining falling."""
        self.copying_disks = True
        self.last_sample_at = now
        self.last_remaining = remaining
        if (self.progress_level is None or
                remaining <= self.progress_level * (1.0 - MIN_PENDING_DROP)):
            self.progress_level = remaining
            self.last_progress_at = now

    def memory_elapsed(self, elapsed):
        """Of ``elapsed`` (the monitor's), the seconds of the memory copy.

        Block migration's disk phase does not count.
        """
        if self.memory_started_at is None:
            return elapsed
        return elapsed - (self.memory_started_at - self.started_at)

    def _pass_began(self, now, iteration, bps):
        announced = [at for at, it in self.announced if it == iteration]
        self.announced.clear()
        # An event stamped no earlier than this sample says only that the
        # pass began since the last one: the transfer rate places it then.
        announced = [at for at in announced if at < now - TIME_EPS]
        self.start_announced = bool(announced)
        if announced:
            return announced[-1]
        if bps > 0:
            return min(now, self.last_sample_at +
                       self.last_remaining / float(bps))
        return now

    def _observe_link(self, now, processed, bps):
        """Is data moving (judged over LINK_MOVING_WINDOW), and how fast?"""
        earlier = [p for at, _rate, p in self.rates
                   if at <= now - LINK_MOVING_WINDOW]
        reference = earlier[-1] if earlier else (
            self.rates[0][2] if self.rates else processed)
        self.moving = processed - reference >= LINK_MOVING_BYTES
        self.rates.append((now, max(bps, 0), processed))
        while self.rates and self.rates[0][0] < now - LINK_PEAK_WINDOW:
            self.rates.popleft()

    def _count_evidence(self, new_pass, dirty_bps, bps):
        if new_pass:
            shrink = self.pass_shrink()
            stuck = (shrink is not None and shrink < MIN_PASS_SHRINK and
                     not _pass_is_tail(self.pass_start, bps))
            self.stuck_passes = self.stuck_passes + 1 if stuck else 0
            self.stalled_passes += 1 if stuck else 0
            if (shrink is None and self.start_announced and
                    self.iteration >= 2 and self.previous_pass_start > 0):
                # Several short passes since the last sample and the
                # latest is as big as the last one seen: none of them
                # shrank much either.
                shrink = 1.0 - (float(self.pass_start) /
                                self.previous_pass_start)
            self.latest_slow = (shrink is not None and
                                shrink < SLOW_PASS_SHRINK)
            self.slow_passes = self.slow_passes + 1 if self.latest_slow \
                else 0
        self.slow_polls = self.slow_polls + 1 if self.latest_slow else 0
        hot = bps > 0 and dirty_bps >= (1.0 - MIN_PASS_SHRINK) * bps
        self.hot_polls = self.hot_polls + 1 if hot else 0

    def link_looks_down(self, bps):
        """Data stopped moving, or the rate collapsed."""
        peak = max((rate for _at, rate, _p in self.rates), default=0)
        return (not self.moving or bps <= 0 or
                bps < LINK_OK_FRACTION * peak)

    def stalled_for(self, now):
        """Seconds since the last progress (0 before any real data)."""
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
                       progress_timeout, postcopy_active,
                       schedule_exhausted=False):
    """Which timeout, if any, calls for ``live_migration_timeout_action``.

    Returns 'completion', 'progress', 'schedule' (a ladder stepped on
    stalled passes ran out of rungs) or None. A migration in post-copy is
    never timed out: the guest already runs on the destination and the
    only way forward is to finish.
    """
    if postcopy_active:
        return None
    if completion_timeout > 0 and elapsed > completion_timeout:
        return 'completion'
    if progress_timeout > 0 and stalled_for > progress_timeout:
        return 'progress'
    if schedule_exhausted:
        return 'schedule'
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


def _carried_by(pass_bytes, bps, downtime_ms):
    """The allowed downtime can carry this pass in one final copy."""
    return bps > 0 and pass_bytes * RUNG_MARGIN <= bps * downtime_ms / 1e3


def should_switch_to_postcopy(info, tracker, top_downtime_ms=None):
    """Why pre-copy cannot finish soon, or None while it still may.

    Only from the second memory pass on (the first pass is the bulk copy
    of all RAM), and only on evidence that held ``SWITCH_EVIDENCE`` times
    in a row. Three signals, any is enough:

    * with ``top_downtime_ms`` (the top of the downtime ladder), a
      prediction: the latest pass set out to send less than
      ``SLOW_PASS_SHRINK`` less than the pass before it (two polls saw
      it), so pre-copy is predicted to need longer than post-copy, and
      the pass is too big for that downtime to finish it;
    * memory passes set out to send less than ``MIN_PASS_SHRINK`` less
      than the pass before them did;
    * libvirt reports the guest dirtying memory at ``1 - MIN_PASS_SHRINK``
      (90%) of the transfer rate or more: a pass then sets out to send at
      least 90% of what the pass before sent, so this is the same rule,
      read off the rates. It also works when passes are shorter than the
      poll interval.

    Never while the link looks down (no data moved since the last poll,
    or the rate fell below half its recent best): switching to post-copy
    over a failing link is the one way to lose the guest.
    """
    if not is_job_running(info) or tracker.iteration < 2:
        return None
    if tracker.link_looks_down(info.memory_bps):
        return None
    if (top_downtime_ms and tracker.slow_polls >= SWITCH_EVIDENCE and
            not _carried_by(tracker.pass_start, info.memory_bps,
                            top_downtime_ms)):
        return ('pre-copy predicted slower than post-copy: pass %d shrank '
                'less than %d%% (set out to send %d MiB, pass %d %d MiB), '
                'more than %d ms of downtime can carry' % (
                    tracker.iteration, int(SLOW_PASS_SHRINK * 100),
                    tracker.pass_start // MiB, tracker.iteration - 1,
                    tracker.previous_pass_start // MiB, top_downtime_ms))
    if tracker.stuck_passes >= SWITCH_EVIDENCE:
        return ('%d memory passes in a row shrank less than %d%% (pass %d '
                'set out to send %d MiB, pass %d %d MiB)' % (
                    tracker.stuck_passes, int(MIN_PASS_SHRINK * 100),
                    tracker.iteration, tracker.pass_start // MiB,
                    tracker.iteration - 1,
                    tracker.previous_pass_start // MiB))
    if tracker.hot_polls >= SWITCH_EVIDENCE:
        return ('guest dirties %d MiB/s, migration sends %d MiB/s' %
                (info.memory_dirty_bps // MiB, info.memory_bps // MiB))
    return None


# -- downtime stepping -----------------------------------------------------

def downtime_steps(data_gb, max_downtime_ms, steps, delay_per_gb):
    """The (seconds after start, allowed downtime ms) ladder.

    ``steps + 1`` rungs rise linearly from ``max_downtime / steps`` (at
    least ``MIN_FIRST_RUNG_MS``, at most ``max_downtime``) to
    ``max_downtime``; rung i is reached ``i * delay_per_gb * data_gb``
    seconds after the migration started.
    """
    delay = int(delay_per_gb * data_gb)
    first = max(max_downtime_ms / float(steps),
                min(MIN_FIRST_RUNG_MS, max_downtime_ms))
    rise = (max_downtime_ms - first) / float(steps)
    return [(delay * i, int(first + rise * i)) for i in range(steps + 1)]


def stalled_step_due(ladder, current_step, stalled_passes):
    """The rung for a ladder stepped on stalled passes, if above current.

    Rung 0 from the start, one rung up per pass that did not shrink (an
    oVirt-style convergence schedule).
    """
    if not ladder:
        return None
    due = min(max(stalled_passes, 0), len(ladder) - 1)
    return due if due > current_step else None


def rung_for_pending(ladder, current_step, progress, bps):
    """The lowest rung that carries a pass that does not shrink.

    When the latest memory pass shrank less than ``SLOW_PASS_SHRINK``,
    waiting for the ladder's clock buys nothing: give at once the smallest
    allowed downtime that carries the pass (with ``RUNG_MARGIN``), if one
    does. None otherwise or if not above ``current_step``.
    """
    if (not ladder or progress is None or progress.slow_passes < 1 or
            bps <= 0):
        return None
    for index, (_at, ms) in enumerate(ladder):
        if _carried_by(progress.pass_start, bps, ms):
            return index if index > current_step else None
    return None


def schedule_exhausted(policy, progress):
    """A stalled-pass ladder whose top rung saw one more stalled pass."""
    return bool(policy.downtime_schedule == DOWNTIME_SCHEDULE_STALLED and
                policy.ladder and progress is not None and
                progress.stalled_passes >= len(policy.ladder))


def downtime_step_due(ladder, current_step, elapsed):
    """Index of the highest rung reached by ``elapsed`` if above current."""
    due = current_step
    for index, (at, _ms) in enumerate(ladder):
        if elapsed >= at - TIME_EPS:
            due = index
    return due if due > current_step else None


# -- stats -----------------------------------------------------------------

STAT_FIELDS = ('memory_total', 'memory_processed', 'memory_remaining',
               'disk_total', 'disk_processed', 'disk_remaining')


def migration_stats(info):
    """The Migration record fields libvirt's job statistics fill in."""
    return {name: max(getattr(info, name), 0) for name in STAT_FIELDS}


def progress_percent(info):
    """Instance progress: share of data already sent, 0..100.

    A completed job is 100 whatever its counters say (a guest of 0 MiB,
    or one that finished before libvirt reported totals).
    """
    if info.type == libvirt_guest.JOB_COMPLETED:
        return 100
    total = info.data_total
    if total <= 0:
        return 0
    remaining = min(max(info.data_remaining, 0), total)
    return int(round(100.0 * (total - remaining) / total))


def progress_summary(info, elapsed, mode, downtime_step):
    """One log line an operator can follow a migration by."""
    return ('migration %s for %d s, pass %d, %d MiB of %d MiB remaining, '
            'sending %d MiB/s, guest dirtying %d MiB/s, throttle %d%%, '
            'allowed downtime step %d' % (
                mode, elapsed, info.memory_iteration,
                max(info.data_remaining, 0) // MiB,
                max(info.data_total, 0) // MiB, info.memory_bps // MiB,
                info.memory_dirty_bps // MiB, info.auto_converge_throttle,
                max(downtime_step, 0)))


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


# -- decisions as actions ----------------------------------------------------

class Action(enum.Enum):
    """What the monitor can do to a migration (the applier's vocabulary)."""

    ABORT = 'abort'
    SWITCH_TO_POSTCOPY = 'postcopy'
    PAUSE = 'pause'
    STEP_DOWNTIME = 'downtime'
    SAVE_STATS = 'save-stats'
    PAUSE_POSTCOPY_STREAM = 'postcopy-pause'
    RESUME_POSTCOPY = 'postcopy-resume'
    GIVE_UP = 'postcopy-recovery-failed'
    UNPAUSE = 'unpause'
    REFUSE = 'refused'
    # An operator's request kept until it can be acted on.
    HOLD = 'hold'


ORIGIN_OPERATOR = 'operator'
ORIGIN_DELETE = 'delete'
ORIGIN_TIMEOUT = 'timeout'
ORIGIN_AUTOMATIC = 'automatic'


@dataclasses.dataclass(frozen=True)
class Decision(object):
    action: Action
    reason: str
    origin: str = ORIGIN_AUTOMATIC
    # STEP_DOWNTIME: the ladder rung; timeouts: which one ('completion').
    step: int = -1
    timeout: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Policy(object):
    """The options of one migration, read once when it starts."""

    completion_timeout: int = 0          # seconds, scaled by size; 0: none
    progress_timeout: int = 0
    timeout_action: str = TIMEOUT_ACTION_ABORT
    postcopy_enabled: bool = False       # VIR_MIGRATE_POSTCOPY is set
    postcopy_start: str = POSTCOPY_START_AUTOMATIC
    postcopy_recoverable: bool = False
    postcopy_stall_timeout: float = 0.0
    stats_interval: float = 5.0
    ladder: Tuple[Tuple[int, int], ...] = ()
    downtime_schedule: str = DOWNTIME_SCHEDULE_TIME


@dataclasses.dataclass(frozen=True)
class Requests(object):
    """Operator requests that reached the loop since its last poll."""

    abort: bool = False
    force_complete: bool = False
    delete: bool = False

    @classmethod
    def from_tasks(cls, tasks):
        names = set(tasks)
        return cls(abort=TASK_ABORT in names,
                   force_complete=TASK_FORCE_COMPLETE in names,
                   delete=TASK_DELETE in names)


@dataclasses.dataclass
class PostcopyState(object):
    """Where the migration stands with post-copy.

    ``requested``: the monitor asked libvirt to switch. ``confirmed``:
    libvirt says the guest runs on the destination (the source domain is
    paused for post-copy, or the post-copy event came); only then is the
    migration "in post-copy" for timeouts, aborts, records and recovery.
    """

    requested: bool = False
    confirmed: bool = False
    broken: bool = False
    broken_since: Optional[float] = None    # monitor clock
    unrecovered: bool = False
    resume_attempts: int = 0
    # Whether the destination's libvirt answered the last probe (None: not
    # probed). A stream is paused only once it does: paused while the
    # network still drops packets, the destination never learns of it.
    dest_reachable: Optional[bool] = None
    last_moved_bytes: int = -1
    moved_at: Optional[float] = None

    def observe_stream(self, now, processed):
        """A post-copy stream counts as moving when 1 MiB went through."""
        if (self.moved_at is None or
                processed - self.last_moved_bytes >= MOVING_BYTES):
            self.last_moved_bytes = processed
            self.moved_at = now
            return True
        return False

    def stalled_for(self, now):
        return 0.0 if self.moved_at is None else now - self.moved_at


@dataclasses.dataclass
class ActionsTaken(object):
    """What the monitor did so far, and the log of it."""

    abort_sent: bool = False
    cancelled_by_operator: bool = False
    paused_by_monitor: bool = False
    timeout_action: Optional[str] = None
    downtime_step: int = -1
    stats_saved_at: Optional[float] = None
    status_saved: Optional[str] = None
    totals_saved: bool = False
    # An operator's force-complete is held (logged once).
    holding: bool = False
    # (seconds since start, action value, reason): corrective actions.
    log: List[tuple] = dataclasses.field(default_factory=list)


def decide(now, elapsed, info, policy, requests, progress, postcopy, taken):
    """Everything the monitor should do at this poll, in order.

    ``info`` is this poll's JobInfo, or None when libvirt gave no sample
    (the operator's requests and the completion timeout still count).
    Reads its arguments, changes none of them.
    """
    decisions = []
    in_postcopy = postcopy.requested or postcopy.confirmed
    disks = progress is not None and progress.copying_disks
    if requests.abort or requests.delete:
        origin = ORIGIN_DELETE if requests.delete else ORIGIN_OPERATOR
        decisions.append(_abort_by_request(origin, postcopy, taken))
        if decisions[-1].action == Action.ABORT:
            return decisions + _stats(now, policy, taken, postcopy, force=True)
    if taken.abort_sent:
        # The cancel is on its way: nothing else may act on the job.
        return decisions + _stats(now, policy, taken, postcopy, info)
    if requests.force_complete:
        decision = _complete_now(policy, postcopy, taken,
                                 'requested by operator', ORIGIN_OPERATOR)
        if disks and decision.action == Action.SWITCH_TO_POSTCOPY:
            decision = Decision(Action.HOLD, 'force complete waits for '
                                'the memory copy: QEMU cannot switch to '
                                'post-copy while the disks are copied',
                                ORIGIN_OPERATOR)
        decisions.append(decision)
    elif not in_postcopy:
        decisions.extend(_timeouts_or_switch(
            now, elapsed, info, policy, progress, taken))
    if any(d.action in (Action.ABORT, Action.SWITCH_TO_POSTCOPY)
           for d in decisions):
        return decisions + _stats(now, policy, taken, postcopy, force=True)
    if postcopy.confirmed:
        decisions.extend(_postcopy_stream(now, policy, postcopy))
    elif not in_postcopy and info is not None and not disks:
        # The downtime ladder is for the memory copy: it waits for it and
        # its clock starts with it.
        if policy.downtime_schedule == DOWNTIME_SCHEDULE_STALLED:
            step = stalled_step_due(
                policy.ladder, taken.downtime_step,
                progress.stalled_passes if progress else 0)
        else:
            step = downtime_step_due(
                policy.ladder, taken.downtime_step,
                progress.memory_elapsed(elapsed) if progress else elapsed)
            sized = rung_for_pending(policy.ladder, taken.downtime_step,
                                     progress, info.memory_bps)
            if sized is not None and (step is None or sized > step):
                step = sized
        if step is not None:
            decisions.append(Decision(
                Action.STEP_DOWNTIME, 'allowed downtime %d ms after %d s' % (
                    policy.ladder[step][1], elapsed), step=step))
    return decisions + _stats(now, policy, taken, postcopy, info)


def _abort_by_request(origin, postcopy, taken):
    if postcopy.confirmed:
        return Decision(Action.REFUSE, 'abort refused: the migration is in '
                        'post-copy and the guest already runs on the '
                        'destination; it can only finish', origin)
    if taken.abort_sent:
        return Decision(Action.REFUSE, 'abort already requested', origin)
    why = ('the server is being deleted' if origin == ORIGIN_DELETE
           else 'requested by operator')
    return Decision(Action.ABORT, why, origin)


def _complete_now(policy, postcopy, taken, reason, origin, timeout=None):
    """Force completion: post-copy where allowed, else pause the guest.

    The operator's force-complete uses post-copy whenever the migration
    permits it; a timeout does unless post-copy is kept for operators.
    """
    if postcopy.requested or postcopy.confirmed:
        return Decision(Action.REFUSE, 'force complete ignored: post-copy '
                        'already %s' % ('running' if postcopy.confirmed
                                        else 'requested'), origin,
                        timeout=timeout)
    use_postcopy = policy.postcopy_enabled and (
        origin == ORIGIN_OPERATOR or
        policy.postcopy_start != POSTCOPY_START_OPERATOR)
    if use_postcopy:
        return Decision(Action.SWITCH_TO_POSTCOPY, reason, origin,
                        timeout=timeout)
    if taken.paused_by_monitor:
        return Decision(Action.REFUSE, 'force complete ignored: the guest '
                        'is already paused', origin, timeout=timeout)
    return Decision(Action.PAUSE, reason, origin, timeout=timeout)


def _timeouts_or_switch(now, elapsed, info, policy, progress, taken):
    if taken.timeout_action is None:
        due = timeout_action_due(
            elapsed, policy.completion_timeout,
            progress.stalled_for(now) if progress else 0.0,
            policy.progress_timeout, False,
            schedule_exhausted(policy, progress))
        if due is not None:
            reason = '%s timeout reached' % due
            if policy.timeout_action == TIMEOUT_ACTION_FORCE_COMPLETE:
                decision = _complete_now(policy, PostcopyState(), taken,
                                         reason, ORIGIN_TIMEOUT, due)
                if (decision.action == Action.SWITCH_TO_POSTCOPY and
                        progress is not None and progress.copying_disks):
                    # QEMU refuses the switch until its migration began:
                    # the timeout acts once the memory copy starts.
                    return []
                if decision.action != Action.REFUSE:
                    return [decision]
            else:
                return [Decision(Action.ABORT, reason, ORIGIN_TIMEOUT,
                                 timeout=due)]
    if (policy.postcopy_enabled and progress is not None and
            not progress.copying_disks and
            policy.postcopy_start == POSTCOPY_START_AUTOMATIC):
        top = policy.ladder[-1][1] if policy.ladder else None
        reason = should_switch_to_postcopy(info, progress, top)
        if reason is not None:
            return [Decision(Action.SWITCH_TO_POSTCOPY, reason)]
    return []


def _postcopy_stream(now, policy, postcopy):
    """Pause a post-copy stream that stopped moving, so it can resume.

    Only once the destination's libvirt answers again (measured on the
    lab, libvirt 9.0: a stream paused while packets are still dropped is
    paused on the source only, and the destination waits for TCP to give
    up, minutes later). Until then libvirt's keepalive (about 30 s) ends
    the call by itself. Pointless when the hosts cannot resume it, or once
    it is broken already.
    """
    if postcopy_stalled(now, policy, postcopy) and postcopy.dest_reachable:
        return [Decision(Action.PAUSE_POSTCOPY_STREAM,
                         'no data moved for %.1f s; the destination '
                         'answers' % postcopy.stalled_for(now))]
    return []


def postcopy_stalled(now, policy, postcopy):
    """A recoverable post-copy stream that moved nothing for too long."""
    return (policy.postcopy_recoverable and not postcopy.broken and
            policy.postcopy_stall_timeout > 0 and
            postcopy.stalled_for(now) >= policy.postcopy_stall_timeout)


def _stats(now, policy, taken, postcopy, info=None, force=False):
    """Save stats at the interval, and at once when the status changes."""
    if info is None and not force:
        return []
    if taken.status_saved != status_for(postcopy):
        return [Decision(Action.SAVE_STATS, 'status changed')]
    if info is not None and info.data_total > 0 and not taken.totals_saved:
        # Set-up samples carry zeros: the first real figures go out at
        # once, not a stats interval later.
        return [Decision(Action.SAVE_STATS, 'first figures')]
    if (force or taken.stats_saved_at is None or
            now - taken.stats_saved_at >= policy.stats_interval - TIME_EPS):
        return [Decision(Action.SAVE_STATS, 'stats interval')]
    return []


def recover_decisions(taken, guest_here_and_paused):
    """Undo what the monitor did, for a migration that did not complete.

    The guest stays on the source, so a guest paused for force-complete
    must run again there.
    """
    if taken.paused_by_monitor and guest_here_and_paused:
        return [Decision(Action.UNPAUSE, 'the migration did not complete: '
                         'the guest runs on here again')]
    return []


def status_for(postcopy):
    """The Migration status that says where the migration is."""
    if postcopy.confirmed and postcopy.broken:
        return fields.MigrationStatus.POSTCOPY_PAUSED
    if postcopy.confirmed:
        return fields.MigrationStatus.POSTCOPY
    return fields.MigrationStatus.RUNNING
