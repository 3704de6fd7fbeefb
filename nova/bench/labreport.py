"""Tables of the lab matrix: every real run beside the model's prediction.

A ``LabRun`` holds the real run and the model's run of the same guest, cap
and options as benchmark rows (``metrics.RunResult``, so the lab gets the
same per-run and per-strategy tables as the simulated matrix) and as
figures for the comparison (``nova.bench.compare``). Everything here is a
function of the runs alone: pure, tested without the lab.
"""

import dataclasses
from typing import Any, Optional

from nova.bench import compare
from nova.bench import lab_matrix
from nova.bench import metrics
from nova.bench import report


@dataclasses.dataclass
class LabRun(object):
    """One real migration and the model's prediction of it."""

    lab: Any                        # metrics.RunResult, measured
    model: Any                      # metrics.RunResult, predicted
    lab_figures: dict
    model_figures: dict
    guest_rate_mib_s: Optional[float] = None   # what the program managed
    guest_ok: Optional[bool] = None  # still counting, no lost writes
    wall_s: Optional[float] = None   # boot + migration + clean-up
    # What a client of the guest saw (nova.bench.blackout_probe): the
    # longest time without an answer, the probe's resolution, and the
    # longest gap before the migration (jitter); None without the lab's
    # guest network.
    blackout_s: Optional[float] = None
    blackout_resolution_s: Optional[float] = None
    blackout_baseline_s: Optional[float] = None

    @property
    def strategy(self):
        return self.lab.strategy

    @property
    def workload(self):
        return self.lab.workload

    @property
    def ratios(self):
        return compare.pair_ratios(self.lab_figures, self.model_figures)


def _spec_cells(run):
    ram_mib = int(round(run.lab.ram_gib * 1024))
    cap = int(round(run.lab.gbit * 1e9 / 8 / lab_matrix.MiB))
    return ram_mib, cap, int(round(run.lab.dirty_ratio * cap))


def _ok(value):
    return {True: 'yes', False: 'NO', None: '?'}[value]


def table_headings():
    return (['strategy', 'RAM MiB', 'cap MiB/s',
             'dirty MiB/s asked / guest'] + compare.pair_headings() +
            ['guest ok'])


def table_row(run):
    """The Markdown row of one run: lab / model (ratio lab/model)."""
    ram_mib, cap, dirty = _spec_cells(run)
    rate = '-' if run.guest_rate_mib_s is None else '%g' % \
        run.guest_rate_mib_s
    return ([run.strategy, ram_mib, cap, '%d / %s' % (dirty, rate)] +
            compare.pair_cells(run.lab_figures, run.model_figures) +
            [_ok(run.guest_ok)])


CSV_COLUMNS = (
    ('strategy', 'workload', 'ram_mib', 'cap_mib_s', 'dirty_mib_s',
     'guest_rate_mib_s') +
    tuple('%s_%s' % (side, key) for key, _h, _r in compare.FIGURES
          for side in ('lab', 'model')) +
    ('lab_first_action_name', 'model_first_action_name') +
    tuple('ratio_%s' % key for key, _h, has in compare.FIGURES if has) +
    ('guest_ok', 'wall_s'))


def csv_row(run):
    ram_mib, cap, dirty = _spec_cells(run)
    row = [run.strategy, run.workload, ram_mib, cap, dirty,
           run.guest_rate_mib_s]
    for key, _h, _r in compare.FIGURES:
        name = 'first_action_s' if key == 'first_action' else key
        row += [run.lab_figures.get(name), run.model_figures.get(name)]
    row += [run.lab_figures['first_action'],
            run.model_figures['first_action']]
    ratios = run.ratios
    row += [ratios[key] for key, _h, has in compare.FIGURES if has]
    row += [run.guest_ok, run.wall_s]
    return row


def lab_csv(runs):
    return report.csv_text(CSV_COLUMNS, [csv_row(r) for r in runs])


def table_csv(runs):
    """The Markdown table's cells as CSV (for the docs' csv-table)."""
    return report.csv_text(table_headings(), [table_row(r) for r in runs])


def lab_markdown(runs):
    return report.markdown_table(table_headings(),
                                 [table_row(r) for r in runs])


def agreement_markdown(runs):
    """A few lines on how well the model predicted the runs."""
    stats = compare.agreement([(r.lab_figures, r.model_figures)
                               for r in runs])
    lines = ['- same outcome: %d of %d runs' % (stats['same_outcome'],
                                                stats['runs'])]
    for key, what in (('time_s', 'time'), ('sent_mib', 'MiB sent')):
        if stats[key]:
            lines.append('- %s lab / model over those: median %g '
                         '(%g to %g)' % ((what,) + stats[key]))
    differ = ['%s on %s: lab %s, model %s' % (
        r.strategy, r.workload, r.lab_figures['outcome'],
        r.model_figures['outcome']) for r in runs
        if r.lab_figures['outcome'] != r.model_figures['outcome']]
    for line in differ:
        lines.append('- outcome differs: %s' % line)
    return '\n'.join(lines) + '\n'


# The model's blackout is compared with the probe's within this much (an
# absolute tolerance: the probe resolves 10 ms, TCG's jitter is tens of ms).
BLACKOUT_TOLERANCE_S = 0.050

BLACKOUT_HEADINGS = ('strategy', 'workload', 'outcome', 'QEMU downtime ms',
                     'guest stop ms', 'blackout ms (lab, +/- probe)',
                     'jitter before ms', 'blackout ms (model)',
                     'lab - model ms', 'within 50 ms')


def _ms(value):
    return None if value is None else int(round(value * 1000))


def blackout_row(run):
    """What a client saw during one run beside QEMU's and the model's."""
    lab_b = run.blackout_s
    model_b = getattr(run.model, 'blackout_s', None)
    diff = (None if lab_b is None or model_b is None
            else lab_b - model_b)
    return [run.strategy, run.workload, run.lab.outcome,
            run.lab.qemu_downtime_ms, _ms(run.lab.guest_stop_s),
            None if lab_b is None else '%d +/- %d' % (
                _ms(lab_b), _ms(run.blackout_resolution_s or 0)),
            _ms(run.blackout_baseline_s), _ms(model_b), _ms(diff),
            None if diff is None else
            ('yes' if abs(diff) <= BLACKOUT_TOLERANCE_S else 'no')]


def blackout_markdown(runs):
    """The blackout table of the runs the probe watched ('' when none)."""
    rows = [blackout_row(r) for r in runs if r.blackout_s is not None]
    if not rows:
        return ''
    return report.markdown_table(
        list(BLACKOUT_HEADINGS),
        [['-' if c is None else c for c in row] for row in rows])


def blackout_csv(runs):
    return report.csv_text(BLACKOUT_HEADINGS, [
        blackout_row(r) for r in runs if r.blackout_s is not None])


def results_markdown(runs, strategy_names, settings):
    """The lab report: settings, lab vs model, then the usual tables."""
    labs = [r.lab for r in runs]
    models = [r.model for r in runs]
    parts = [report.title_and_settings(
        'Live-migration completion benchmark: real QEMU (lab)', settings)]
    parts.append('\n## Lab beside the model\n\n'
                 'Each cell is lab / model; the ratio in brackets is lab / '
                 'model (1 = the model predicted the lab exactly).\n\n')
    parts.append(lab_markdown(runs))
    parts.append('\n' + agreement_markdown(runs))
    blackouts = blackout_markdown(runs)
    if blackouts:
        parts.append('\n## Blackout: what a client of the guest saw\n\n'
                     'A UDP echo to the guest every 10 ms from the lab '
                     'network (nova.bench.blackout_probe): the longest '
                     'time without an answer, beside QEMU\'s downtime and '
                     'the model\'s prediction.\n\n')
        parts.append(blackouts)
    parts.append('\n## Summary per strategy, lab\n\n')
    parts.append(report.summary_markdown(
        metrics.summary_table(strategy_names, labs)))
    parts.append('\n## Summary per strategy, model\n\n')
    parts.append(report.summary_markdown(
        metrics.summary_table(strategy_names, models)))
    parts.append('\n## Every lab run\n\n')
    parts.append(report.runs_markdown(labs))
    parts.append('\n## Every model run\n\n')
    parts.append(report.runs_markdown(models))
    return ''.join(parts)
