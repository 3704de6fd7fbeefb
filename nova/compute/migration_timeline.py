"""A live migration's timeline, and what it says about when it will end.

The monitor samples the job every poll; a ``TimelinePoint`` is one such
sample in plain numbers and a ``TimelineEvent`` one of the monitor's
automatic decisions (or an operator's) with the reason it gave. Both are
saved with the Migration record (``Migration.add_timeline_points`` /
``add_timeline_event``) and read back by ``nova-manage live-migration``
and the ``/os-migration-progress`` API resource.

``assess(points, events)`` is the operator's question: will it finish,
when, and if not, why not and what would finish it. It is pure: no clock,
no database; the numbers it returns come only from the timeline.

``Recorder`` is what the monitor calls: ``sample()`` every poll,
``decision()`` for each action with its reason, ``flush()`` at the end.

``bounded(points, limit, head)`` is the retention rule of the saved
timeline: the first ``head`` points stay as they are, the older ones after
them are thinned, so a migration that runs for hours still keeps its start,
its recent past and the shape in between in ``limit`` rows.
"""

import dataclasses
import statistics
from typing import List, Optional, Sequence

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

PRE_COPY = 'pre-copy'
POST_COPY = 'post-copy'
PAUSED = 'paused'
PHASES = (PRE_COPY, POST_COPY, PAUSED)

# Verdicts.
STARTING = 'starting'
CONVERGING = 'converging'
NOT_CONVERGING = 'not converging'
IN_POST_COPY = 'in post-copy'
PAUSED_FOR_COMPLETION = 'paused by force-complete'
VERDICTS = (STARTING, CONVERGING, NOT_CONVERGING, IN_POST_COPY,
            PAUSED_FOR_COMPLETION)

# Options that can make a pre-copy migration finish.
OPT_AUTO_CONVERGE = 'auto-converge'
OPT_POST_COPY = 'post-copy'
OPT_FORCE_COMPLETE = 'force-complete'
OPT_DOWNTIME = 'downtime'

# The rates of the last WINDOW_S seconds make the estimate: long enough
# to cover more than one memory pass of a small guest, short enough to see
# a throttle step or a phase change within a few polls.
WINDOW_S = 4.0
# A migration "converges" when the link outruns the dirty rate by this
# factor; below it the remainder shrinks too slowly to call an end.
CONVERGE_MARGIN = 1.05
# Auto-converge throttles up to this (QEMU's default maximum), in steps
# of THROTTLE_STEP (QEMU's default increment).
MAX_THROTTLE = 99
THROTTLE_STEP = 10
# Until QEMU has measured the guest's dirty rate (it does at the end of the
# first pass), the estimate assumes the guest dirties this fraction of
# what the link carries. 0 on the lab's evidence: the first pass there is
# shorter than its bytes say (most of a guest's memory is zero pages,
# which QEMU sends as markers), and that makes up for what the guest
# dirties meanwhile (doc/source/admin/live-migration-progress.rst).
FIRST_PASS_DIRTY_RATIO = 0.0
# From the last sample to the migration recorded as completed: QEMU's last
# copy and device state, the destination resuming the guest, libvirt
# finishing the job, the driver's last poll. On the lab (libvirt 9.0, QEMU
# 7.2) the median is 1.8 s; the ETA's error is lowest with 1.5 s, the last
# sample coming up to a poll before the last byte
# (doc/source/admin/live-migration-progress.rst).
FINISH_S = 1.5
# QEMU's own limit when none was set (libvirt leaves QEMU's default).
DEFAULT_DOWNTIME_MS = 300
# Replaying passes stops there: no end in sight.
MAX_PASSES = 500
HORIZON_S = 86400.0

MiB = 1024 * 1024


@dataclasses.dataclass
class TimelinePoint(object):
    """One monitor sample, in bytes, bytes/s, percent and milliseconds."""

    elapsed: float                   # seconds since the monitor started
    iteration: int = 0               # memory pass (QEMU's iteration)
    memory_remaining: int = 0
    memory_total: int = 0
    data_remaining: int = 0          # memory + disk
    dirty_bps: float = 0.0           # guest dirty rate
    transfer_bps: float = 0.0        # what the link carried
    throttle: int = 0                # auto-converge CPU throttle, %
    downtime_ms: int = 0             # allowed downtime step now
    phase: str = PRE_COPY

    def __post_init__(self):
        if self.phase not in PHASES:
            raise ValueError('phase must be one of %s, not %r'
                             % (', '.join(PHASES), self.phase))

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TimelineEvent(object):
    """One decision: its action name (the monitor's) and its reason."""

    elapsed: float
    action: str
    reason: str = ''

    def as_dict(self):
        return dataclasses.asdict(self)


def point_from_job_info(elapsed, info, phase=PRE_COPY, downtime_ms=0):
    """A TimelinePoint from a libvirt job-stats object (``JobInfo``).

    Duck-typed on libvirt's key names so this module does not import the
    driver; the dirty rate comes in pages/s and leaves in bytes/s.
    """
    page = getattr(info, 'memory_page_size', 0) or 4096
    return TimelinePoint(
        elapsed=round(float(elapsed), 3),
        iteration=int(getattr(info, 'memory_iteration', 0) or 0),
        memory_remaining=int(getattr(info, 'memory_remaining', 0) or 0),
        memory_total=int(getattr(info, 'memory_total', 0) or 0),
        data_remaining=int(getattr(info, 'data_remaining', 0) or 0),
        dirty_bps=float((getattr(info, 'memory_dirty_rate', 0) or 0) * page),
        transfer_bps=float(getattr(info, 'memory_bps', 0) or 0),
        throttle=int(getattr(info, 'auto_converge_throttle', 0) or 0),
        downtime_ms=int(downtime_ms or 0),
        phase=phase)


def phase_of(postcopy_active, paused_by_monitor):
    """The phase name of the monitor's state flags."""
    if postcopy_active:
        return POST_COPY
    if paused_by_monitor:
        return PAUSED
    return PRE_COPY


# -- retention -------------------------------------------------------------------

def bounded(points, limit, head):
    """At most ``limit`` points: the first ``head``, the rest thinned.

    Past the head, every second point is dropped (oldest first) until the
    list fits, always keeping the newest point, so the saved shape stays
    evenly spaced rather than cut off.
    """
    points = list(points)
    if limit < head + 2:
        raise ValueError('limit must leave room for the head and two more')
    while len(points) > limit:
        tail = points[head:]
        keep = tail[::2]
        if keep[-1] is not tail[-1]:
            keep.append(tail[-1])
        if len(keep) == len(tail):      # nothing left to thin
            keep = keep[-(limit - head):]
        points = points[:head] + keep
    return points


# -- the estimate ------------------------------------------------------------------

@dataclasses.dataclass
class Assessment(object):
    """What the timeline says; ``eta_s`` is None when no end is in sight."""

    verdict: str
    phase: str
    elapsed: float = 0.0
    eta_s: Optional[float] = None
    progress: float = 0.0            # 0..1 of the memory moved
    remaining: int = 0
    dirty_bps: float = 0.0
    transfer_bps: float = 0.0
    throttle: int = 0
    why: str = ''
    # Options that would finish a migration that does not converge, best
    # first, each (option name, one-line explanation).
    would_finish: List[tuple] = dataclasses.field(default_factory=list)
    last_action: Optional[TimelineEvent] = None

    def as_dict(self):
        values = dataclasses.asdict(self)
        values['would_finish'] = [{'option': name, 'how': how}
                                  for name, how in self.would_finish]
        return values


def _recent(points, window_s):
    last = points[-1].elapsed
    return [p for p in points if p.elapsed >= last - window_s]


def _median(values):
    values = [v for v in values if v > 0]
    return float(statistics.median(values)) if values else 0.0


def _link_rate(points, window):
    """Bytes/s the link carries: libvirt's own figure, or the fall of the
    remainder across the window when it gives none.
    """
    rate = _median([p.transfer_bps for p in window])
    if rate > 0:
        return rate
    rates = [p.transfer_bps for p in points if p.transfer_bps > 0]
    if rates:
        return rates[-1]
    if len(window) >= 2 and window[-1].elapsed > window[0].elapsed:
        fall = window[0].memory_remaining - window[-1].memory_remaining
        return max(fall, 0) / (window[-1].elapsed - window[0].elapsed)
    return 0.0


def _progress(point):
    if not point.memory_total:
        return 0.0
    done = 1.0 - float(point.memory_remaining) / point.memory_total
    return min(max(done, 0.0), 1.0)


def _fmt_rate(bps):
    return '%.1f MiB/s' % (bps / MiB)


def _pass_began(points):
    """When the latest memory pass began (its first sample's time)."""
    began = points[-1].elapsed
    for point in reversed(points):
        if point.iteration != points[-1].iteration:
            break
        began = point.elapsed
    return began


def _replay_passes(remaining, pending, link, dirty, throttle, throttling,
                   downtime_ms, cap):
    """Seconds until QEMU can stop the guest, replaying its passes forward
    with the measured rates; None when it never gets there.

    ``remaining``: what the current pass still has to send; ``pending``:
    what the guest dirtied since the pass began (QEMU only counts it at the
    next bitmap sync). Each later pass sends what the one before left
    while the guest dirties at its rate, at most ``cap`` bytes. It ends
    when what a sync finds fits in the allowed downtime. With auto-converge
    at work (``throttling``), the throttle rises by THROTTLE_STEP every
    second pass in which the guest dirtied more than half of what was sent,
    as QEMU does, and the guest's dirty rate falls with the CPU it gets.
    """
    if link <= 0:
        return None
    fits = link * (downtime_ms or DEFAULT_DOWNTIME_MS) / 1000.0
    share = 1.0 - throttle / 100.0
    own = dirty / share if share > 0 else dirty
    t = remaining / link
    found = min(pending + dirty * t, cap)
    high = 0
    for _n in range(MAX_PASSES):
        if found <= fits:
            return t + found / link
        pass_s = found / link
        rate = own * (1.0 - throttle / 100.0)
        following = min(rate * pass_s, cap)
        if throttling and rate * pass_s > 0.5 * found:
            high += 1
            if high >= 2:
                throttle, high = min(throttle + THROTTLE_STEP,
                                     MAX_THROTTLE), 0
        elif following * CONVERGE_MARGIN >= found:
            return None
        t += pass_s
        if t > HORIZON_S:
            return None
        found = following
    return None


def _would_finish(remaining, link, dirty, throttle, downtime_ms, events):
    """The options that would finish a pre-copy that does not converge."""
    used = {e.action for e in events}
    options = []
    if dirty > 0 and link > 0:
        needed = int(min(100, -(-100 * (1.0 - link / (dirty *
                                                      CONVERGE_MARGIN)) // 1)))
        if needed <= MAX_THROTTLE:
            how = ('a CPU throttle of %d%% or more brings the dirty rate '
                   'under the link' % max(needed, 1))
            if throttle:
                how += ' (now %d%%; auto-converge raises it each pass)' % (
                    throttle)
            else:
                how += (' ([libvirt] live_migration_permit_auto_converge; '
                        'ignored when post-copy is permitted)')
            options.append((OPT_AUTO_CONVERGE, how))
    if 'postcopy' not in used and link > 0:
        options.append((OPT_POST_COPY, (
            'switching to post-copy runs the guest on the destination at '
            'once and pulls the remaining %d MiB in about %.0f s '
            '([libvirt] live_migration_permit_post_copy)')
            % (remaining // MiB, remaining / link)))
    if 'pause' not in used and link > 0:
        options.append((OPT_FORCE_COMPLETE, (
            'force-complete (nova server-migration-force-complete) switches '
            'to post-copy when permitted, else pauses the guest for about '
            '%.1f s while the remaining %d MiB go')
            % (remaining / link, remaining // MiB)))
    if link > 0 and downtime_ms:
        # What the guest would have to stop for to send the remainder.
        needed_ms = 1000.0 * remaining / link
        options.append((OPT_DOWNTIME, (
            'an allowed downtime of %d ms (now %d ms) would let it stop the '
            'guest and finish; [libvirt] live_migration_downtime caps the '
            'steps') % (needed_ms, downtime_ms)))
    return options


def _plus(eta, finish_s):
    return None if eta is None else eta + finish_s


def assess(points, events=(), window_s=WINDOW_S, finish_s=None):
    """The verdict and ETA of a migration from its timeline.

    ``points``: TimelinePoints in time order (at least one for anything
    but STARTING); ``events``: TimelineEvents in time order. Every ETA
    includes ``finish_s`` (default FINISH_S): from the last byte to the
    migration recorded as completed.
    """
    finish_s = FINISH_S if finish_s is None else finish_s
    points = sorted(points, key=lambda p: p.elapsed)
    events = sorted(events, key=lambda e: e.elapsed)
    last_action = events[-1] if events else None
    if not points:
        return Assessment(verdict=STARTING, phase=PRE_COPY,
                          why='no sample yet', last_action=last_action)
    last = points[-1]
    window = _recent(points, window_s)
    same_phase = [p for p in window if p.phase == last.phase] or [last]
    link = _link_rate(points, same_phase)
    # QEMU measures the dirty rate once a pass: the latest pass's counts.
    dirty = 0.0
    if last.phase == PRE_COPY:
        dirty = last.dirty_bps or _median([p.dirty_bps for p in same_phase])
    remaining = last.memory_remaining or last.data_remaining
    base = dict(phase=last.phase, elapsed=last.elapsed,
                progress=_progress(last), remaining=remaining,
                dirty_bps=dirty, transfer_bps=link, throttle=last.throttle,
                last_action=last_action)
    if last.phase == POST_COPY:
        eta = remaining / link if link > 0 else None
        return Assessment(
            verdict=IN_POST_COPY, eta_s=_plus(eta, finish_s),
            why=('the guest runs on the destination; %d MiB left to pull '
                 'at %s' % (remaining // MiB, _fmt_rate(link))), **base)
    if last.phase == PAUSED:
        eta = remaining / link if link > 0 else None
        return Assessment(
            verdict=PAUSED_FOR_COMPLETION, eta_s=_plus(eta, finish_s),
            why=('the guest is paused so that nothing is dirtied; %d MiB '
                 'left at %s' % (remaining // MiB, _fmt_rate(link))), **base)
    in_pass_s = last.elapsed - _pass_began(points)
    total = max(last.memory_total, remaining)
    throttling = last.throttle > 0
    if last.iteration <= 1 and not dirty:
        # First pass: QEMU has not measured the dirty rate yet.
        assumed = FIRST_PASS_DIRTY_RATIO * link
        eta = _replay_passes(remaining, assumed * in_pass_s, link, assumed,
                             0, False, last.downtime_ms, total)
        why = ('first pass: copying all memory at %s; the dirty rate is '
               'not measured yet' % _fmt_rate(link))
        if FIRST_PASS_DIRTY_RATIO:
            why += ' (assumed %d%% of the link)' % (
                100 * FIRST_PASS_DIRTY_RATIO)
        return Assessment(
            verdict=STARTING if eta is None else CONVERGING,
            eta_s=_plus(eta, finish_s), why=why, **base)
    eta = _replay_passes(remaining, dirty * in_pass_s, link, dirty,
                         last.throttle, throttling, last.downtime_ms, total)
    if eta is not None:
        if throttling and link < dirty * CONVERGE_MARGIN:
            why = ('auto-converge throttles the guest (now %d%%, raised '
                   'every second pass): its dirty rate (%s) falls under the '
                   'link (%s); %d MiB left' % (
                       last.throttle, _fmt_rate(dirty), _fmt_rate(link),
                       remaining // MiB))
        else:
            why = ('the link (%s) outruns the dirty rate (%s); %d MiB left'
                   % (_fmt_rate(link), _fmt_rate(dirty), remaining // MiB))
        return Assessment(verdict=CONVERGING, eta_s=_plus(eta, finish_s),
                          why=why, **base)
    if link <= 0:
        return Assessment(verdict=STARTING, why='no transfer rate yet',
                          **base)
    return Assessment(
        verdict=NOT_CONVERGING,
        why=('the guest dirties %s, the link carries %s: each pass leaves '
             'as much as it sent' % (_fmt_rate(dirty), _fmt_rate(link))),
        would_finish=_would_finish(remaining, link, dirty, last.throttle,
                                   last.downtime_ms, events),
        **base)


# -- what the monitor calls -----------------------------------------------------------

class Recorder(object):
    """The monitor's side: every poll's sample in memory, saved in batches.

    ``sample()`` at every poll keeps the point (the ETA wants them all: a
    migration of a few seconds has only one or two saves) and hands the
    new ones to ``migration.add_timeline_points`` once ``interval`` seconds
    passed since the last save; ``decision()`` saves at once. A failed save
    is logged and retried with the next batch: the monitor never stops for
    the record. ``migration`` is anything with the two methods (the
    Migration object), ``None`` to keep everything in memory only.
    """

    def __init__(self, migration, interval):
        self.migration = migration
        self.interval = interval
        self.points = []
        self.events = []
        self._unsaved = []
        self._saved_at = None

    def sample(self, elapsed, info, phase=PRE_COPY, downtime_ms=0):
        point = point_from_job_info(elapsed, info, phase, downtime_ms)
        self.points.append(point)
        self._unsaved.append(point)
        if self._saved_at is None or elapsed - self._saved_at >= \
                self.interval:
            self.flush(elapsed)
        return point

    def decision(self, elapsed, action, reason=''):
        event = TimelineEvent(round(float(elapsed), 3), action, reason or '')
        self.events.append(event)
        if self.migration is not None:
            try:
                self.migration.add_timeline_event(event)
            except Exception as exc:
                LOG.warning('Could not save the decision %s: %s', action,
                            exc)
        return event

    def flush(self, elapsed=None):
        """Save the points not saved yet (also at the end of the job)."""
        if elapsed is not None:
            self._saved_at = elapsed
        if self.migration is None or not self._unsaved:
            return
        try:
            self.migration.add_timeline_points(self._unsaved)
        except Exception as exc:
            LOG.warning('Could not save %d timeline point(s): %s',
                        len(self._unsaved), exc)
            return
        self._unsaved = []

    def assess(self):
        """The verdict and ETA from every sample taken so far."""
        return assess(self.points, self.events)


# -- calibration -------------------------------------------------------------------

@dataclasses.dataclass
class RecordedRun(object):
    """A finished migration's timeline and when it really ended."""

    name: str
    points: Sequence[TimelinePoint]
    events: Sequence[TimelineEvent]
    duration_s: float          # on the points' clock


def eta_error_at(run, fraction, window_s=WINDOW_S, finish_s=None):
    """The relative ETA error at ``fraction`` of the run's real duration.

    The estimate from the points seen up to then, against the time that
    was really left: |eta - left| / left. None when the timeline gave no
    ETA at that moment (a migration that was not converging then).
    """
    at = fraction * run.duration_s
    seen = [p for p in run.points if p.elapsed <= at]
    happened = [e for e in run.events if e.elapsed <= at]
    if not seen:
        return None
    result = assess(seen, happened, window_s=window_s, finish_s=finish_s)
    if result.eta_s is None:
        return None
    left = run.duration_s - seen[-1].elapsed
    if left <= 0:
        return None
    return abs(result.eta_s - left) / left


def calibration(runs, fractions=(0.25, 0.5, 0.75), window_s=WINDOW_S,
                finish_s=None):
    """{fraction: (median error, runs with an ETA, runs)} over ``runs``."""
    report = {}
    for fraction in fractions:
        errors = [eta_error_at(run, fraction, window_s, finish_s)
                  for run in runs]
        known = [e for e in errors if e is not None]
        report[fraction] = (statistics.median(known) if known else None,
                            len(known), len(errors))
    return report


# -- the server's fault --------------------------------------------------------------

FAULT_MAX = 255


def fault_message(migration_id, dest, events, why=None):
    """The server fault of a live migration that ended in error.

    ``why`` when the caller knows it, else the last decision of the
    timeline (its action and reason), as Nova keeps it: one line, at most
    255 characters.
    """
    if why is None:
        if events:
            last = events[-1]
            why = '%s after %.1f s: %s' % (last.action, last.elapsed,
                                           last.reason or '-')
        else:
            why = 'no decision recorded; see the source compute log'
    text = 'Live migration %s to %s ended in error: %s' % (
        migration_id, dest, ' '.join(str(why).split()))
    return text[:FAULT_MAX]
