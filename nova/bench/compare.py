"""A real migration beside the model's prediction of it.

Both sides are reduced to the same *figures* (a dict of plain values,
``FIGURES``), wherever they come from: a benchmark row (``from_result``),
a model job (``from_observation``) or the JSON the functional tests record
(``tools/lab/model_vs_lab.py``). ``pair_cells`` puts two of them side by
side with the ratio lab / model, so every lab-vs-model table reads the same
way. Pure functions: no lab, no model, no clock.
"""

import statistics

from nova.bench import matrix
from nova.bench import metrics

MiB = float(matrix.MiB)

# The figures compared, in table order, with the heading of each and
# whether a ratio lab / model means something for it.
FIGURES = (
    ('outcome', 'outcome', False),
    ('time_s', 'time (s)', True),
    ('sent_mib', 'MiB sent', True),
    ('downtime_ms', 'guest stop (ms)', True),
    ('max_throttle', 'max throttle %', False),
    ('first_action', 'first action (s)', True),
    ('iterations', 'passes', False),
)


def _round(value, digits=1):
    return None if value is None else round(float(value), digits)


def figures(outcome, time_s, sent_bytes, downtime_ms, max_throttle,
            actions, iterations):
    """The figures of one migration from plain values.

    ``actions`` are the monitor's (elapsed, action, reason) tuples; the
    first one is the time to first corrective action. ``downtime_ms`` is
    the downtime as the guest lives it: how long it could not run at the
    end of a completed migration (QEMU's downtime; for a guest paused to
    finish, from the pause to the end), else None.
    """
    first = actions[0] if actions else None
    return {
        'outcome': outcome,
        'time_s': _round(time_s),
        'sent_mib': None if sent_bytes is None else _round(
            sent_bytes / MiB),
        'downtime_ms': None if downtime_ms is None else int(downtime_ms),
        'max_throttle': int(max_throttle or 0),
        'first_action_s': _round(first[0]) if first else None,
        'first_action': first[1] if first else '',
        'iterations': int(iterations or 0),
    }


def from_observation(obs):
    """Figures of a backend's Observation (see nova.bench.metrics)."""
    downtime = None
    if (obs.outcome == metrics.OUTCOME_COMPLETED and
            obs.guest_stop_s is not None):
        downtime = obs.guest_stop_s * 1000.0
    return figures(obs.outcome, obs.total_s, obs.sent_bytes, downtime,
                   obs.max_throttle, obs.actions, obs.iterations)


def from_result(result):
    """Figures of a benchmark row (metrics.RunResult)."""
    sent = result.sent_bytes
    if sent is None:
        sent = result.sent_ratio * result.ram_gib * matrix.GiB
    first = ()
    if result.first_action_s is not None:
        first = ((result.first_action_s, result.first_action, ''),)
    stop = None
    if result.completed and result.guest_stop_s is not None:
        stop = result.guest_stop_s * 1000.0
    return figures(result.outcome, result.total_s, sent, stop,
                   result.max_throttle, first, result.iterations)


def ratio(lab, model):
    """lab / model, or None where it says nothing (a side missing or 0)."""
    if lab is None or model is None or not model:
        return None
    return round(float(lab) / float(model), 2)


def _value(figs, key):
    if key == 'first_action':
        return figs.get('first_action_s')
    return figs.get(key)


def _show(figs, key):
    if key == 'first_action':
        if figs.get('first_action_s') is None:
            return 'none'
        return '%s %g' % (figs['first_action'], figs['first_action_s'])
    value = figs.get(key)
    if value is None:
        return '-'
    if isinstance(value, float):
        return '%g' % value
    return str(value)


def pair_ratios(lab, model):
    """{figure: lab / model} for the figures where a ratio means something.

    Outcomes that differ make the time and bytes ratios meaningless (one
    side gave up), so they are None then.
    """
    same = lab.get('outcome') == model.get('outcome')
    out = {}
    for key, _heading, has_ratio in FIGURES:
        if has_ratio:
            out[key] = ratio(_value(lab, key), _value(model, key)) \
                if same else None
    return out


def pair_cells(lab, model):
    """One 'lab / model (ratio)' cell per entry of FIGURES."""
    ratios = pair_ratios(lab, model)
    cells = []
    for key, _heading, has_ratio in FIGURES:
        cell = '%s / %s' % (_show(lab, key), _show(model, key))
        if has_ratio and ratios[key] is not None:
            cell += ' (%g)' % ratios[key]
        cells.append(cell)
    return cells


def pair_headings():
    return ['%s lab / model%s' % (heading, ' (ratio)' if has_ratio else '')
            for _key, heading, has_ratio in FIGURES]


def agreement(pairs):
    """How well the model predicted a set of (lab, model) figure pairs.

    Outcomes that match, and the median and range of the lab / model
    ratios of time and bytes sent over the pairs whose outcomes match.
    """
    same = [(lab, model) for lab, model in pairs
            if lab['outcome'] == model['outcome']]
    out = {'runs': len(pairs), 'same_outcome': len(same)}
    for key in ('time_s', 'sent_mib'):
        values = [ratio(lab[key], model[key]) for lab, model in same]
        values = [v for v in values if v is not None]
        out[key] = (None if not values else
                    (round(statistics.median(values), 2), min(values),
                     max(values)))
    return out
