"""``nova-migration-bench lab``: the lab matrix, its tables and plots.

Outputs (in ``--out``, default ``bench-results/lab``):

* ``results.md``: settings, every real run beside the model's prediction,
  the per-strategy summaries (lab and model) and every run of each;
* ``lab-vs-model.csv``: the comparison, one row a run, one column a
  figure and side; ``table.csv``: the Markdown table's cells;
* ``results.csv`` / ``model.csv`` / ``summary.csv``: the lab's and the
  model's runs and the lab's summary, as the simulated matrix writes them;
* ``lab-vs-model.png`` and ``timeline-<workload>-<strategy>.png`` (lab
  solid, model dashed);
* ``run-info.json``: wall time of the matrix and of each run.

Needs root and the lab (``tools/lab/setup.sh``); run it under the lab lock:
``flock /var/tmp/nova-lab.lock nova-migration-bench lab``.
"""

import dataclasses
import importlib.util
import json
import os
import pickle
import shutil
import sys
import time

from nova.bench import lab_matrix
from nova.bench import labreport
from nova.bench import metrics
from nova.bench import report

DEFAULT_OUT = os.path.join('bench-results', 'lab')


def settings(backend, pairs):
    env = backend.env
    items = [
        ('backend', 'lab: the real LibvirtDriver (spawn, live_migration, '
         'its monitor loop and migration.py) between the two lab hosts, '
         'libvirt + QEMU (%s), real clock; the model: the simulated '
         'backend on the same guest, cap and options'
         % env.get('NOVA_LAB_VIRT_TYPE', '?')),
        ('guest', 'Linux + busybox initramfs; its program rewrites %g%% of '
         'RAM at the dirty rate, paced by CPU work (throttling slows it)'
         % (lab_matrix.WORKING_SET * 100)),
        ('non-zero RAM (model input)', ', '.join(
            '%d MiB: %d MiB + the program\'s area' % item
            for item in sorted(lab_matrix.BASE_RESIDENT_MIB.items()))),
        ('link', 'veth pair, %d MiB/s in the model; the cap is '
         'live_migration_bandwidth' % lab_matrix.LINK_MIB_S),
        ('options of every run', ', '.join(
            '%s = %s' % item for item in lab_matrix.LAB_OPTIONS)),
        ('runs', str(len(pairs))),
    ]
    seen = set()
    for strategy, _spec in pairs:
        if strategy.name not in seen:
            seen.add(strategy.name)
            items.append(('strategy `%s`' % strategy.name,
                          strategy.description))
    return items


def select_pairs(args):
    if getattr(args, 'blackout_set', False):
        return lab_matrix.blackout_pairs()
    strategies = [n for n in args.strategies.split(',') if n]
    pairs = lab_matrix.pairs(strategies=strategies)
    names = [n for n in args.workloads.split(',') if n]
    return lab_matrix.find_cell_pairs(pairs, names)


def _progress(done, total, run):
    seen = ''
    if run.blackout_s is not None:
        seen = ', blackout %d ms (model %s)' % (
            round(run.blackout_s * 1000),
            '-' if run.model.blackout_s is None
            else '%d ms' % round(run.model.blackout_s * 1000))
    sys.stderr.write('  %d/%d %s on %s: lab %s in %s s, model %s in %s s '
                     '(%s s wall)%s\n' % (
                         done, total, run.strategy, run.workload,
                         run.lab.outcome, run.lab.total_s,
                         run.model.outcome, run.model.total_s, run.wall_s,
                         seen))
    sys.stderr.flush()


def write_tables(out, runs, strategy_names, items):
    with open(os.path.join(out, 'results.md'), 'w') as f:
        f.write(labreport.results_markdown(runs, strategy_names, items))
    with open(os.path.join(out, 'lab-vs-model.csv'), 'w') as f:
        f.write(labreport.lab_csv(runs))
    with open(os.path.join(out, 'table.csv'), 'w') as f:
        f.write(labreport.table_csv(runs))
    if labreport.blackout_markdown(runs):
        with open(os.path.join(out, 'blackout.csv'), 'w') as f:
            f.write(labreport.blackout_csv(runs))
    with open(os.path.join(out, 'results.csv'), 'w') as f:
        f.write(report.runs_csv([r.lab for r in runs]))
    with open(os.path.join(out, 'model.csv'), 'w') as f:
        f.write(report.runs_csv([r.model for r in runs]))
    with open(os.path.join(out, 'summary.csv'), 'w') as f:
        f.write(report.summary_csv(metrics.summary_table(
            strategy_names, [r.lab for r in runs]), headers=True))


def write_plots(out, runs, strategy_names):
    """The lab-vs-model chart and a timeline per run that has samples."""
    if importlib.util.find_spec('matplotlib') is None:
        sys.stderr.write('No plots: matplotlib is not installed (tox -e '
                         'bench-lab installs it)\n')
        return []
    from nova.bench import plots
    paths = [os.path.join(out, 'lab-vs-model.png')]
    plots.lab_vs_model(runs, strategy_names, paths[0])
    for run in runs:
        if run.lab.timeline:
            path = os.path.join(out, 'timeline-%s-%s.png' % (
                run.workload, run.strategy))
            plots.timeline(run.lab, path, model=run.model)
            paths.append(path)
    return paths


def remodel(runs, backend, all_pairs=None):
    """The runs with the model's prediction made again by ``backend``.

    The lab's measurements stay; each run's strategy and workload are
    found by name among the lab matrix's pairs.
    """
    from nova.bench import compare
    known = {(s.name, spec.name): (s, spec)
             for s, spec in (all_pairs or lab_matrix.pairs())}
    out = []
    for run in runs:
        strategy, spec = known[(run.strategy, run.workload)]
        predicted = backend.run(strategy, spec,
                                timeline=bool(run.model.timeline))
        out.append(dataclasses.replace(
            run, model=predicted,
            model_figures=compare.from_result(predicted)))
    return out


def rerender(args, out):
    """Tables and plots again from a run's runs.pickle (no lab)."""
    with open(args.rerender, 'rb') as f:
        saved = pickle.load(f)
    runs, strategy_names = saved['runs'], saved['strategies']
    if getattr(args, 'remodel', False):
        from nova.bench import simulated
        runs = remodel(runs, simulated.lab_backend())
    write_tables(out, runs, strategy_names, saved['settings'])
    paths = [] if args.no_plots else write_plots(out, runs, strategy_names)
    copy_to_doc(args.doc_dir, out, paths)
    print(labreport.lab_markdown(runs))
    print(labreport.agreement_markdown(runs))
    return runs


def copy_to_doc(doc_dir, out, paths):
    if not doc_dir:
        return
    os.makedirs(doc_dir, exist_ok=True)
    for name in ('results.md', 'lab-vs-model.csv', 'table.csv', 'blackout.csv',
                 'results.csv', 'model.csv', 'summary.csv',
                 'run-info.json'):
        if os.path.exists(os.path.join(out, name)):
            shutil.copy(os.path.join(out, name), doc_dir)
    for path in paths:
        shutil.copy(path, doc_dir)


def main(args):
    out = args.out or DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    if args.rerender:
        return rerender(args, out)
    from nova.bench import lab
    from nova.bench import runner
    pairs = select_pairs(args)
    strategy_names = []
    for strategy, _spec in pairs:
        if strategy.name not in strategy_names:
            strategy_names.append(strategy.name)
    timelines = args.timeline or [lab_matrix.TIMELINE_WORKLOAD]
    backend = lab.LabBackend()
    sys.stderr.write('Running %d lab runs (each beside the model)\n'
                     % len(pairs))
    wall0 = time.monotonic()
    runs = runner.run_pairs(backend, pairs, timeline_workloads=timelines,
                            progress=_progress)
    wall = time.monotonic() - wall0
    items = settings(backend, pairs)
    write_tables(out, runs, strategy_names, items)
    info = {'runs': len(runs), 'matrix_wall_s': round(wall, 1),
            'run_wall_s': {'%s/%s' % (r.workload, r.strategy): r.wall_s
                           for r in runs}}
    with open(os.path.join(out, 'run-info.json'), 'w') as f:
        json.dump(info, f, indent=1, sort_keys=True)
    # Everything measured, timelines included: --rerender redraws the
    # tables and plots from it without the lab.
    with open(os.path.join(out, 'runs.pickle'), 'wb') as f:
        pickle.dump({'runs': runs, 'strategies': strategy_names,
                     'settings': items}, f)
    print(labreport.lab_markdown(runs))
    print(labreport.agreement_markdown(runs))
    print(labreport.blackout_markdown(runs))
    print('%d lab runs in %.0f s wall' % (len(runs), wall))
    paths = [] if args.no_plots else write_plots(out, runs, strategy_names)
    copy_to_doc(args.doc_dir, out, paths)
    sys.stderr.write('Wrote %s\n' % out)
    return runs
