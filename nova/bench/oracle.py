"""The oracle: the best fixed plan for a workload known in advance.

Every strategy is reported as a ratio to it. A *fixed plan* is decided
before the migration starts, knowing the guest:

* pre-copy with a fixed allowed downtime from ``DOWNTIMES_MS``;
* switch to post-copy at the end of memory pass k (k = 1, 2, ...);
* pause the guest at the end of memory pass k.

The oracle is the plan with the shortest total time; its guest impact
(stop time + lost guest time, in the model's one unit) is reported beside
it, not folded into the ratio. Plans run on the migration model alone (no
driver, no monitor, no polling): a plan acts at the exact pass boundary, so
nothing that polls can beat it except by chance of a step boundary.

Plans are searched with a bound: a plan is dropped as soon as it runs
longer than the best one found so far, so pre-copy plans that never
converge cost no more than the best plan's time.
"""

import dataclasses
from typing import Optional, Tuple

from nova.simulator import migration_model

# Fixed downtimes tried, in ms (QEMU's 300 ms default among them, and the
# driver's 500 ms maximum; more than the configured maximum is not a plan
# an operator would accept).
DOWNTIMES_MS = (50, 100, 200, 300, 500)
# Passes after which a switch or a pause is tried: 1..MAX_PASS.
MAX_PASS = 12
STEP = 0.05
# A pre-copy run that has not finished after this many floors (and no
# bound yet) is given up.
GIVE_UP_FLOORS = 50.0
# Passes the natural pre-copy sequence is followed for (stall detection).
NATURAL_PASSES = 12
MIN_PASS_SHRINK = 0.10


@dataclasses.dataclass(frozen=True)
class PlanResult(object):
    plan: str
    completed: bool
    total_s: float
    stop_s: float
    lost_s: float
    passes: Tuple[tuple, ...] = ()

    @property
    def impact_s(self):
        return self.stop_s + self.lost_s


@dataclasses.dataclass(frozen=True)
class Oracle(object):
    """The best fixed plan of one workload."""

    workload: str
    plan: str
    total_s: float
    impact_s: float
    floor_s: float
    stall_pass: Optional[int]      # natural pre-copy's first stalled pass

    @property
    def time_ratio(self):
        return self.total_s / self.floor_s


# Link.fault_service for every plan (None: the model's default); set by
# sensitivity runs, with the same value as the runs compared to the oracle.
FAULT_SERVICE = None


def _model(spec):
    workload = migration_model.Workload(
        ram=spec.ram_bytes, dirty_rate=spec.dirty_rate,
        working_set=spec.working_set_bytes or None,
        phases=spec.model_phases(), cpu_bound=True,
        resident=spec.resident_bytes)
    link = migration_model.Link(bandwidth=spec.link_bandwidth)
    if FAULT_SERVICE is not None:
        link.fault_service = FAULT_SERVICE
    cap = dict(spec.options).get('live_migration_bandwidth', 0)
    cap_bytes = cap * migration_model.MiB
    return migration_model.MigrationModel(
        workload, link, bandwidth_cap=cap_bytes, postcopy_permitted=True,
        record=False, postcopy_bandwidth_cap=cap_bytes)


def run_plan(spec, kind, value, bound=None):
    """Run one plan; ``bound``: give up once past this many seconds.

    ``kind`` is 'precopy' (value: downtime ms), 'postcopy' or 'pause'
    (value: the pass after which to act; the allowed downtime stays at
    the smallest value, QEMU finishing earlier on its own if it can).
    """
    job = _model(spec)
    limit = bound if bound is not None else (
        GIVE_UP_FLOORS * spec.floor_s + 60.0)
    if kind == 'precopy':
        job.set_downtime_limit(value)
    else:
        job.set_downtime_limit(DOWNTIMES_MS[0])
    paused_at = []

    def on_iteration(number):
        if number != value + 1 or kind == 'precopy':
            return
        if kind == 'postcopy':
            job.start_postcopy()
        elif not job.guest_paused:
            job.pause_guest()
            paused_at.append(job.elapsed)

    job.on_iteration = on_iteration
    while not job.ended and job.elapsed <= limit:
        job.advance(STEP)
    completed = job.phase == migration_model.PHASE_COMPLETED
    stop = job.guest_stopped_time
    if paused_at and completed:
        # The pause came inside a model step: count it from the moment.
        stop = max(stop, job.elapsed - paused_at[0])
    return PlanResult('%s-%s' % (kind, value), completed, job.elapsed, stop,
                      job.lost_guest_seconds, tuple(job.passes))


def natural_stall_pass(spec):
    """The first pass of plain pre-copy (smallest downtime) that set out
    to send less than 10% less than the pass before: where a policy
    should act. None when pre-copy converges before it stalls.
    """
    job = _model(spec)
    job.set_downtime_limit(DOWNTIMES_MS[0])
    limit = GIVE_UP_FLOORS * spec.floor_s + 60.0
    while (not job.ended and job.elapsed <= limit and
           job.iteration <= NATURAL_PASSES):
        job.advance(STEP)
    passes = job.passes
    for (_t0, _n0, before), (_t, number, size) in zip(passes, passes[1:]):
        if before > 0 and size > (1.0 - MIN_PASS_SHRINK) * before:
            return number
    return None


def plans():
    """Every fixed plan, the ones that always finish first (bounds)."""
    out = [('postcopy', k) for k in range(1, MAX_PASS + 1)]
    out += [('pause', k) for k in range(1, MAX_PASS + 1)]
    out += [('precopy', ms) for ms in DOWNTIMES_MS]
    return out


def oracle(spec):
    """The Oracle of one workload (WorkloadSpec)."""
    best = None
    for kind, value in plans():
        bound = best.total_s if best is not None else None
        result = run_plan(spec, kind, value, bound)
        if not result.completed:
            continue
        if kind != 'precopy' and not any(n == value + 1 for _t, n, _b in
                                         result.passes):
            # The migration finished before pass k ended: the same run as
            # a smaller k or pre-copy, not a plan of its own.
            continue
        if (best is None or result.total_s < best.total_s - 1e-9 or
                (abs(result.total_s - best.total_s) <= 1e-9 and
                 result.impact_s < best.impact_s)):
            best = result
    if best is None:
        raise ValueError('no fixed plan completes %s' % spec.name)
    return Oracle(spec.name, best.plan, round(best.total_s, 3),
                  round(best.impact_s, 3), spec.floor_s,
                  natural_stall_pass(spec))


def _oracle_task(spec):
    return spec.name, oracle(spec)


def oracles(specs, jobs=1):
    """{workload name: Oracle}, computed on ``jobs`` processes."""
    if jobs <= 1:
        return dict(_oracle_task(spec) for spec in specs)
    import concurrent.futures
    import multiprocessing
    context = multiprocessing.get_context('fork')
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=context) as pool:
        return dict(pool.map(_oracle_task, specs))
