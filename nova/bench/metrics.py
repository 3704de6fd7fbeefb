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
    # vCPU seconds spent waiting for post-copy page faults (None: unknown).
    fault_wait_s: Optional[float] = 0.0
    # (time, pass number, bytes it set out to send) per memory pass.
    passes: Tuple[tuple, ...] = ()
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
    'iterations', 'polls', 'fault_wait_s', 'lost_s', 'impact_s',
    'stall_pass', 'action_pass', 'oracle_ratio')


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
    fault_wait_s: Optional[float] = None
    lost_s: Optional[float] = None
    impact_s: Optional[float] = None
    stall_pass: Optional[int] = None
    action_pass: Optional[int] = None
    oracle_ratio: Optional[float] = None
    # Not in the tables: samples for the timeline plot, when asked for.
    timeline: Optional[dict] = dataclasses.field(default=None, repr=False,
                                                 compare=False)
    # Not in the tables either: bytes sent (sent_ratio is rounded), for
    # the lab-vs-model comparison.
    sent_bytes: Optional[float] = dataclasses.field(default=None,
                                                    repr=False,
                                                    compare=False)
    # Not in the tables either: the longest time the guest's applications
    # could not answer (the model's MigrationModel.blackout_s; the lab's is
    # measured by nova.bench.blackout_probe and kept in its LabRun).
    blackout_s: Optional[float] = dataclasses.field(default=None,
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
    lost = impact = None
    if obs.fault_wait_s is not None:
        lost = obs.throttle_cpu_s + obs.fault_wait_s
        if obs.guest_stop_s is not None:
            impact = obs.guest_stop_s + lost
    stall = stall_pass(obs.passes)
    action_pass = pass_at(obs.passes, first[0]) if first else None
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
        fault_wait_s=_r(obs.fault_wait_s, 2),
        lost_s=_r(lost, 2), impact_s=_r(impact, 3),
        stall_pass=stall, action_pass=action_pass,
        sent_bytes=obs.sent_bytes)


def stall_pass(passes, shrink=0.10):
    """The first pass that set out to send less than ``shrink`` less
    than the pass before it: where pre-copy stopped converging. None when
    every pass shrank (or there were fewer than two).
    """
    for (_t0, _n0, before), (_t, number, size) in zip(passes, passes[1:]):
        if before > 0 and size > (1.0 - shrink) * before:
            return number
    return None


def pass_at(passes, t):
    """The number of the pass running at time ``t`` (None: no passes)."""
    current = None
    for start, number, _size in passes:
        if start <= t + 1e-9:
            current = number
    return current


def attach_oracle(results, oracles):
    """Set each run's ratio to its workload's oracle, and the stall pass
    of natural pre-copy (the reference for "passes after a stall").
    """
    for r in results:
        best = oracles.get(r.workload)
        if best is None:
            continue
        r.stall_pass = best.stall_pass
        if r.completed and best.total_s > 0:
            r.oracle_ratio = _r(r.total_s / best.total_s, 3)
    return results


def passes_after_stall(result):
    """Memory passes from the stall to the first corrective action.

    0: acted during the stalled pass (or before it). None: nothing to
    measure (no stall, or no corrective action).
    """
    if result.stall_pass is None or result.action_pass is None:
        return None
    return max(result.action_pass - result.stall_pass, 0)


# Columns of the per-strategy summary.
SUMMARY_COLUMNS = (
    'strategy', 'runs', 'completed', 'aborted', 'success_pct',
    'median_time_ratio', 'worst_time_ratio', 'median_oracle_ratio',
    'worst_oracle_ratio', 'worst_guest_stop_s', 'median_impact_s',
    'worst_impact_s', 'worst_stop_ratio', 'median_first_action_s',
    'worst_passes_after_stall', 'throttle_cpu_s', 'postcopy_runs')


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
    oracle = [r.oracle_ratio for r in done if r.oracle_ratio is not None]
    impacts = [r.impact_s for r in done if r.impact_s is not None]
    after = [passes_after_stall(r) for r in runs]
    after = [a for a in after if a is not None]
    return {
        'strategy': strategy_name,
        'runs': len(runs),
        'completed': len(done),
        'aborted': sum(1 for r in runs if r.outcome == OUTCOME_ABORTED),
        'success_pct': _r(100.0 * len(done) / len(runs), 1) if runs else None,
        'median_time_ratio': _r(statistics.median(ratios), 2)
        if ratios else None,
        'worst_time_ratio': _r(max(ratios), 2) if ratios else None,
        'median_oracle_ratio': _r(statistics.median(oracle), 2)
        if oracle else None,
        'worst_oracle_ratio': _r(max(oracle), 2) if oracle else None,
        'median_impact_s': _r(statistics.median(impacts), 3)
        if impacts else None,
        'worst_impact_s': _r(max(impacts), 3) if impacts else None,
        'worst_passes_after_stall': max(after) if after else None,
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


# A peer "wins" a cell when it is faster than this factor of the
# recommended strategy's time, at equal or lower guest impact.
PEER_MARGIN = 0.95
IMPACT_SLACK_S = 0.001


def peer_wins(peer, reference):
    """Workloads where ``peer``'s run beats ``reference``'s (RunResults
    keyed by workload): more than 5% faster, guest impact no higher.
    """
    wins = []
    for name, mine in reference.items():
        theirs = peer.get(name)
        if theirs is None or not theirs.completed:
            continue
        faster = (not mine.completed or
                  theirs.total_s < PEER_MARGIN * mine.total_s)
        cheaper = (mine.impact_s is None or theirs.impact_s is None or
                   theirs.impact_s <= mine.impact_s + IMPACT_SLACK_S)
        if faster and cheaper:
            wins.append(name)
    return wins


PEER_COLUMNS = ('strategy', 'completed', 'median_oracle_ratio',
                'worst_oracle_ratio', 'median_impact_s', 'worst_impact_s',
                'wins', 'win_cells')


def peers_table(strategy_names, results, recommended):
    """One row per strategy against ``recommended``: ratios to the
    oracle, guest impact, and the cells where it beats the recommended.
    """
    by = {}
    for r in results:
        by.setdefault(r.strategy, {})[r.workload] = r
    reference = by.get(recommended, {})
    rows = []
    for name in strategy_names:
        s = summarise(name, results)
        wins = ([] if name == recommended else
                peer_wins(by.get(name, {}), reference))
        rows.append({
            'strategy': name, 'completed': '%d/%d' % (s['completed'],
                                                      s['runs']),
            'median_oracle_ratio': s['median_oracle_ratio'],
            'worst_oracle_ratio': s['worst_oracle_ratio'],
            'median_impact_s': s['median_impact_s'],
            'worst_impact_s': s['worst_impact_s'],
            'wins': len(wins), 'win_cells': ' '.join(wins)})
    return rows


# The targets of the recommended strategy (issue 11, item 4).
TARGET_MEDIAN = 1.15
TARGET_WORST = 1.5
TARGET_PASSES = 2


def targets(results, recommended, peer_names):
    """The recommended strategy's figures against the targets."""
    s = summarise(recommended, results)
    rows = peers_table(peer_names, results, recommended)
    wins = {r['strategy']: r['win_cells'] for r in rows if r['wins']}
    after = s['worst_passes_after_stall']
    return {
        'median_oracle_ratio': s['median_oracle_ratio'],
        'worst_oracle_ratio': s['worst_oracle_ratio'],
        'worst_passes_after_stall': after,
        'completed': s['completed'], 'runs': s['runs'],
        'peer_wins': wins,
        'met': bool(s['completed'] == s['runs'] and
                    s['median_oracle_ratio'] is not None and
                    s['median_oracle_ratio'] <= TARGET_MEDIAN and
                    s['worst_oracle_ratio'] <= TARGET_WORST and
                    not wins and (after is None or after <= TARGET_PASSES)),
    }
