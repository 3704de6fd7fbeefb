"""The post-copy fault cost, fitted to the lab's real QEMU runs.

Two sets of lab runs are committed: the lab benchmark made before monitor
v2 (``doc/source/admin/bench/lab/v1/results.csv``; post-copy then ran at the
veth's speed, uncapped) and the post-copy runs made with the current
driver and policy (``lab/postcopy-v2/results.csv``; post-copy capped by
``bandwidth.postcopy`` like pre-copy). ``fit`` takes either; the model's
``FAULT_SERVICE_LAB_S`` is the fit to the current runs, whose post-copy
phase is long enough (3 to 5 s) for the fault cost to show. The older
runs' fit (about 4 ms) absorbed a post-copy phase of about 1.9 s that did
not depend on how much was left, which no per-fault cost explains.

The migration model charges every post-copy page fault a network round
trip, the page's transfer and a source-side service time
(``Link.fault_service``) that also takes the sending thread away from the
background stream. Round trip and transfer follow from the link; the
service time is the one free parameter. It is fitted here to the committed
lab runs (``doc/source/admin/bench/lab/v1/results.csv``): the guests that
dirty memory at 1.5 times the cap switch to post-copy at the same moment
in the lab and the model, and the lab's post-copy phase (1.8 to 2.2 s)
was far longer than the model's without faults (0.1 to 0.3 s).

The lab's phase is measured from the switch to the poll that sees the job
gone, so on average half a poll interval later than the job ended:
``POLL_LAG`` is taken off before comparing. The fit minimises the squared
log ratio over the lab's post-copy runs, on a grid of service times.
Those runs were made before the driver capped post-copy with
``bandwidth.postcopy``: the model runs them uncapped too.
"""

import csv
import math

from nova.bench import lab_matrix
from nova.bench import matrix
from nova.bench import simulated
from nova.simulator import migration_model
from nova.virt.libvirt import monitor

POLL_LAG = monitor.POLL_INTERVAL / 2.0
# Service times tried, seconds per fault.
GRID = (0.0, 0.0001, 0.0002, 0.0003, 0.0005, 0.001, 0.0015, 0.002, 0.003,
        0.004, 0.005, 0.006, 0.008)
STRATEGIES = ('post-copy', 'post-copy+auto-converge')


def lab_postcopy_phases(results_csv):
    """{(strategy, workload): (seconds in post-copy, switched at)} of the
    lab's runs.
    """
    phases = {}
    with open(results_csv) as f:
        for row in csv.DictReader(f):
            if (row['strategy'] in STRATEGIES and row['postcopy_s'] and
                    row['outcome'] == 'completed'):
                phases[(row['strategy'], row['workload'])] = (
                    float(row['postcopy_s']), float(row['first_action_s']))
    return phases


def _spec(workload):
    for cell in lab_matrix.CELLS:
        spec = lab_matrix.workload(cell.ram_mib, cell.cap_mib_s,
                                   cell.dirty_ratio)
        if spec.name == workload:
            return spec
    raise ValueError('no lab cell %s' % workload)


def model_phases(lab_phases, fault_service, uncapped=True, link_params=None):
    """The model's post-copy seconds for the same runs, switched when the
    lab's monitor switched (the policy that made the lab runs has changed
    since; the phase after the switch is what is calibrated).
    """
    backend = simulated.SimulatedBackend(fault_service=fault_service,
                                         postcopy_uncapped=uncapped,
                                         link_params=link_params)
    out = {}
    for key, (_phase, switched_at) in sorted(lab_phases.items()):
        spec = _spec(key[1])
        strategy = matrix.Strategy(
            'calibration', 'post-copy at the lab run\'s switch time',
            (('live_migration_permit_post_copy', True),
             ('live_migration_post_copy_start', 'operator')),
            operator_force_complete_at=switched_at / spec.floor_s)
        row = backend.run(strategy, spec)
        out[key] = row.postcopy_s or 0.0
    return out


def _log_error(pairs):
    """Sum of squared log ratios of (lab, model) pairs (floored at 1 ms)."""
    return sum(math.log(max(lab, 1e-3) / max(model, 1e-3)) ** 2
               for lab, model in pairs)


def error(lab_phases, model):
    """Sum of squared log ratios (lab minus the poll lag, over model)."""
    return _log_error((lab - POLL_LAG, model[key])
                      for key, (lab, _at) in lab_phases.items())


def _grid_fit(grid, predict, score):
    """(best value, {value: error}, prediction at best) over ``grid``:
    ``predict(value)`` gives the model's figures, ``score`` their error.
    """
    errors, predictions = {}, {}
    for value in grid:
        predictions[value] = predict(value)
        errors[value] = score(predictions[value])
    best = min(grid, key=lambda v: errors[v])
    return best, errors, predictions[best]


def fit(results_csv, grid=GRID, uncapped=True, link_params=None):
    """(best service time, {service time: error}, model phases at best).

    ``uncapped``: the runs were made with post-copy at the link's speed
    (before monitor v2). ``link_params``: the other Link fields to hold
    (e.g. the lab's request wait); the service time overrides its own.
    """
    lab = lab_postcopy_phases(results_csv)
    if not lab:
        raise ValueError('no completed post-copy runs in %s' % results_csv)
    return _grid_fit(
        grid, lambda service: model_phases(lab, service, uncapped,
                                           link_params),
        lambda phases: error(lab, phases))


# The hand-over (Link.resume_time) ------------------------------------------

def _blackout_ms(cell):
    """'184 +/- 10' -> (184.0, 10.0); '-' or '' -> None."""
    if not cell or cell == '-':
        return None
    value, _sep, resolution = cell.partition('+/-')
    return float(value), float(resolution or 0)


def _probe_rows(blackout_csv):
    """(row, gap in s, QEMU downtime in ms or None) of each completed run
    the probe watched; the gap less half the probe's interval (it ends at
    the first answer after the guest runs, on average that much late).
    """
    with open(blackout_csv) as f:
        for row in csv.DictReader(f):
            seen = _blackout_ms(row['blackout ms (lab, +/- probe)'])
            if row['outcome'] != 'completed' or seen is None:
                continue
            downtime = row['QEMU downtime ms']
            yield (row, (seen[0] - seen[1] / 2.0) / 1000.0,
                   float(downtime) if downtime and downtime != '-'
                   else None)


def hand_over_samples(blackout_csv):
    """Seconds the probe saw beyond QEMU's downtime, one per completed run
    that finished by a switch-over QEMU timed (pre-copy, auto-converge, a
    pause).
    """
    return [gap - downtime / 1000.0
            for _row, gap, downtime in _probe_rows(blackout_csv)
            if downtime is not None]


def fit_resume_time(blackout_csv, announce_delay=0.0):
    """Link.resume_time for the lab: the median hand-over, less the
    announce's half round trip (the model adds that itself).
    """
    samples = sorted(hand_over_samples(blackout_csv))
    if not samples:
        raise ValueError('no completed pre-copy finishes in %s'
                         % blackout_csv)
    mid = len(samples) // 2
    median = (samples[mid] if len(samples) % 2 else
              (samples[mid - 1] + samples[mid]) / 2.0)
    return max(median - announce_delay, 0.0)


# The requested page's wait behind the stream (Link.request_wait) ---------

# Seconds tried per requested page.
WAIT_GRID = (0.0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035,
             0.04, 0.045, 0.05, 0.06, 0.07, 0.08, 0.1)


def postcopy_blackouts(blackout_csv):
    """{(strategy, workload): seconds} the probe saw in runs that switched
    to post-copy (libvirt reports no downtime for them), less half the
    probe's interval.
    """
    return {(row['strategy'], row['workload']): gap
            for row, gap, downtime in _probe_rows(blackout_csv)
            if downtime is None}


def model_blackouts(keys, link_params):
    """The lab model's blackout for each (strategy, workload)."""
    backend = simulated.SimulatedBackend(link_params=link_params)
    pairs = {(s.name, spec.name): (s, spec) for s, spec in lab_matrix.pairs()}
    return {key: backend.run(*pairs[key]).blackout_s or 0.0
            for key in sorted(keys)}


def fit_request_wait(blackout_csv, grid=WAIT_GRID, base_params=None):
    """(best wait in s, {wait: error}, {run: model blackout}).

    The squared log ratio of the lab's post-copy blackouts over the
    model's, on a grid of waits, the other lab figures fixed.
    """
    lab = postcopy_blackouts(blackout_csv)
    if not lab:
        raise ValueError('no completed post-copy runs in %s' % blackout_csv)
    params = dict(base_params or migration_model.lab_link_params())
    return _grid_fit(
        grid,
        lambda wait: model_blackouts(lab, dict(params, request_wait=wait)),
        lambda models: _log_error((lab[k], models[k]) for k in lab))


# The post-copy job's end after its last page (Link.postcopy_end_time) ----

END_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def fit_postcopy_end(results_csv, grid=END_GRID, link_params=None):
    """(best end time, {end time: error}, model phases at best).

    The lab's post-copy phases (current driver: post-copy capped) against
    the model's, the fault cost and the other lab figures held.
    """
    lab = lab_postcopy_phases(results_csv)
    if not lab:
        raise ValueError('no completed post-copy runs in %s' % results_csv)
    params = dict(link_params or migration_model.lab_link_params())
    service = params.pop('fault_service', None)
    return _grid_fit(
        grid, lambda end: model_phases(lab, service, False,
                                       dict(params, postcopy_end_time=end)),
        lambda phases: error(lab, phases))
