"""Per-run metrics and the per-strategy summary.

A backend reports what it measured as an ``Observation`` (plain numbers);
``compute`` turns it into a ``RunResult`` row relative to the workload's
physical floor and the strategy's configured downtime; ``summarise`` folds
the rows of one strategy. Pure functions: no backend, no clock.
"""

import dataclasses
import statistics
from typing import Optional, Tuple

OUTCOME_COMPLETED = 'completed'
OUTCOME_ABORTED = 'aborted'        # the monitor (or operator) cancelled it
OUTCOME_FAILED = 'failed'          # the job failed for another reason
OUTCOME_TIMEOUT = 'timeout'        # the benchmark's own safety cap hit
OUTCOMES = (OUTCOME_COMPLETED, OUTCOME_ABORTED, OUTCOME_FAILED,
            OUTCOME_TIMEOUT)


def classify(completed, abort_requested, hit_cap=False):
    """The outcome of a migration, the same way on every backend.

    ``abort_requested``: the monitor or an operator cancelled the job
    (MonitorState.abort_requested); ``hit_cap``: the benchmark's own
    safety cap cancelled it.
    """
    if completed:
        return OUTCOME_COMPLETED
    if hit_cap:
        return OUTCOME_TIMEOUT
    if abort_requested:
        return OUTCOME_ABORTED
    return OUTCOME_FAILED


@dataclasses.dataclass
class Observation(object):
    """What one migration did, as any backend can measure it.

    Times are seconds since the migration job began. ``guest_stop_s`` is
    how long the guest could not run (pauses, the final switch-over, the
    post-copy device-state switch); ``qemu_downtime_s`` is the downtime
    QEMU reports for the final switch-over only. A real host does not
    always say: either may be None (unknown), never a made-up 0.
    """

    outcome: str
    total_s: float
    sent_bytes: float
    guest_stop_s: Optional[float]
    qemu_downtime_s: Optional[float]
    throttle_cpu_s: float = 0.0
    max_throttle: int = 0
    postcopy_started_at: Optional[float] = None
    actions: Tuple[tuple, ...] = ()     # (elapsed, action, reason)
    iterations: int = 0
    polls: int = 0
    mode: str = 'pre-copy'              # what the flags asked libvirt for


# Columns of the per-run table, in order (RunResult field names).
RUN_COLUMNS = (
    'strategy', 'workload', 'ram_gib', 'dirty_ratio', 'gbit', 'mode',
    'outcome', 'total_s', 'floor_s', 'time_ratio', 'guest_stop_s',
    'stop_ratio', 'qemu_downtime_ms', 'throttle_cpu_s', 'max_throttle',
    'postcopy_s', 'sent_ratio', 'first_action_s', 'first_action',
    'iterations', 'polls')


@dataclasses.dataclass
class RunResult(object):
    """One row: a strategy on a workload."""

    strategy: str
    workload: str
    ram_gib: float
    dirty_ratio: float
    gbit: float
    mode: str
    outcome: str
    total_s: float
    floor_s: float
    time_ratio: float
    guest_stop_s: Optional[float]
    stop_ratio: Optional[float]
    qemu_downtime_ms: Optional[int]
    throttle_cpu_s: float
    max_throttle: int
    postcopy_s: Optional[float]
    sent_ratio: float
    first_action_s: Optional[float]
    first_action: str
    iterations: int
    polls: int
    # Not in the tables: samples for the timeline plot, when asked for.
    timeline: Optional[dict] = dataclasses.field(default=None, repr=False,
                                                 compare=False)
    # Not in the tables either: bytes sent (sent_ratio is rounded), for
    # the lab-vs-model comparison.
    sent_bytes: Optional[float] = dataclasses.field(default=None,
                                                    repr=False,
                                                    compare=False)

    @property
    def completed(self):
        return self.outcome == OUTCOME_COMPLETED

    def row(self):
        return [getattr(self, name) for name in RUN_COLUMNS]


def _r(value, digits=3):
    return None if value is None else round(float(value), digits)


def compute(strategy_name, spec, obs, max_downtime_ms):
    """The RunResult of ``obs`` for workload ``spec``.

    ``max_downtime_ms`` is the strategy's ``live_migration_downtime``.
    """
    floor = spec.floor_s
    first = obs.actions[0] if obs.actions else None
    postcopy_s = None
    if obs.postcopy_started_at is not None:
        postcopy_s = max(obs.total_s - obs.postcopy_started_at, 0.0)
    return RunResult(
        strategy=strategy_name, workload=spec.name, ram_gib=spec.ram_gib,
        dirty_ratio=spec.dirty_ratio, gbit=spec.gbit, mode=obs.mode,
        outcome=obs.outcome,
        total_s=_r(obs.total_s, 2), floor_s=_r(floor, 2),
        time_ratio=_r(obs.total_s / floor, 2),
        guest_stop_s=_r(obs.guest_stop_s),
        stop_ratio=None if obs.guest_stop_s is None else _r(
            obs.guest_stop_s * 1000.0 / max_downtime_ms, 2),
        qemu_downtime_ms=None if obs.qemu_downtime_s is None else int(
            round(obs.qemu_downtime_s * 1000)),
        throttle_cpu_s=_r(obs.throttle_cpu_s, 1),
        max_throttle=int(obs.max_throttle),
        postcopy_s=_r(postcopy_s, 2),
        sent_ratio=_r(obs.sent_bytes / float(spec.ram_bytes), 2),
        first_action_s=_r(first[0], 1) if first else None,
        first_action=first[1] if first else '',
        iterations=int(obs.iterations), polls=int(obs.polls),
        sent_bytes=obs.sent_bytes)


# Columns of the per-strategy summary.
SUMMARY_COLUMNS = (
    'strategy', 'runs', 'completed', 'aborted', 'success_pct',
    'median_time_ratio', 'worst_time_ratio', 'worst_guest_stop_s',
    'worst_stop_ratio', 'median_first_action_s', 'throttle_cpu_s',
    'postcopy_runs')


def summarise(strategy_name, results):
    """One summary row for a strategy's results.

    Time ratios and guest stops are over completed runs (an aborted run's
    time says when it gave up, not how long moving the guest takes); the
    success rate carries the aborted ones.
    """
    runs = [r for r in results if r.strategy == strategy_name]
    done = [r for r in runs if r.completed]
    ratios = [r.time_ratio for r in done]
    stops = [r.guest_stop_s for r in done if r.guest_stop_s is not None]
    stop_ratios = [r.stop_ratio for r in done if r.stop_ratio is not None]
    firsts = [r.first_action_s for r in runs if r.first_action_s is not None]
    return {
        'strategy': strategy_name,
        'runs': len(runs),
        'completed': len(done),
        'aborted': sum(1 for r in runs if r.outcome == OUTCOME_ABORTED),
        'success_pct': _r(100.0 * len(done) / len(runs), 1) if runs else None,
        'median_time_ratio': _r(statistics.median(ratios), 2)
        if ratios else None,
        'worst_time_ratio': _r(max(ratios), 2) if ratios else None,
        'worst_guest_stop_s': _r(max(stops), 3) if stops else None,
        'worst_stop_ratio': _r(max(stop_ratios), 2)
        if stop_ratios else None,
        'median_first_action_s': _r(statistics.median(firsts), 1)
        if firsts else None,
        'throttle_cpu_s': _r(sum(r.throttle_cpu_s for r in runs), 1),
        'postcopy_runs': sum(1 for r in runs if r.postcopy_s is not None),
    }


def summary_table(strategy_names, results):
    return [summarise(name, results) for name in strategy_names]
