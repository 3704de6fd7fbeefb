"""``nova-migration-bench``: run the matrix, write tables and plots.

Outputs (in ``--out``, default ``bench-results/``):

* ``results.md``: settings, the per-strategy summary and every run;
* ``results.csv`` / ``summary.csv``: the same as CSV;
* ``grid.png`` and ``timeline-<workload>-<strategy>.png``;
* ``overhead.json`` / ``overhead.md``: the monitor's CPU cost;
* ``run-info.json``: wall and CPU time of the matrix (the only output that
  changes from one run to the next).

``nova-migration-bench lab`` (or ``--backend lab``) runs the smaller lab
matrix on real QEMU instead, each run beside the model's prediction (see
``nova.bench.labcli``).
"""

import argparse
import importlib.util
import json
import logging
import os
import resource
import shutil
import sys
import time
import warnings

from nova.bench import matrix
from nova.bench import metrics
from nova.bench import report

DEFAULT_TIMELINES = ('16GiB-phased-10Gbit', '4GiB-x1.5-10Gbit')


QUIET_LOGGERS = ('nova', 'oslo_config')


def quiet_logging(level=logging.ERROR):
    """The driver logs every migration at INFO and failures at WARNING.

    Returns a function that puts the previous levels back.
    """
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)

    def restore():
        for logger, old in zip(loggers, before):
            logger.setLevel(old)
    return restore


def _backend(args):
    if args.backend == 'simulated':
        from nova.bench import simulated
        return simulated.SimulatedBackend(seed=args.seed,
                                          fault_service=args.fault_service)
    raise ValueError('unknown backend %r' % args.backend)


def settings(backend, strategies, workloads, working_set, seed):
    from nova.virt.libvirt import monitor
    items = [
        ('backend', '%s (real LibvirtDriver monitor and migration.py on the '
         'fake libvirt + QEMU migration model, virtual clock)'
         % backend.name),
        ('monitor poll interval', '%g s, or sooner on a libvirt event '
         '(a new memory pass)' % monitor.POLL_INTERVAL),
        ('model step', '50 ms (the model\'s own, as in the unit tests)'),
        ('working set', '%g%% of RAM, rewritten at dirty ratio x link '
         'bandwidth; CPU-bound (throttling slows it)' % (working_set * 100)),
        ('link', '1 Gbit/s = 10^9 bit/s; set-up 0.2 s; device state 30 ms'),
        ('phased workload', '16 GiB on 10 Gbit/s: dirty ratio 0.1 until '
         '0.75 floor, 1.5 until 10 floor, then 0.1'),
        ('workloads', str(len(workloads))),
        ('seed', '%d (guest UUIDs only; the runs have no randomness)'
         % seed),
    ]
    for strategy in strategies:
        items.append(('strategy `%s`' % strategy.name, strategy.description))
    return items


def _progress(done, total, result):
    if done % 25 == 0 or done == total:
        sys.stderr.write('  %d/%d runs\n' % (done, total))
        sys.stderr.flush()


def overhead_markdown(figures):
    headers = ['mode', 'migrations', 'window (s)', 'polls',
               'monitor CPU (s)', 'CPU per poll (us)', '% of one core',
               '% per migration', 'fake hypervisor CPU (s)']
    rows = [[f['mode'], f['migrations'], f['seconds'], f['polls'],
             f['monitor_cpu_s'], f['cpu_per_poll_us'], f['core_pct'],
             f['core_pct_per_migration'], f['model_cpu_s']]
            for f in figures]
    return report.markdown_table(headers, rows)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='nova-migration-bench',
        description='Benchmark live-migration completion strategies '
                    'through the real driver code.')
    parser.add_argument('--out', default=None,
                        help='output directory (default: bench-results, '
                             'bench-results/lab for the lab)')
    parser.add_argument('--backend', default='simulated',
                        choices=['simulated', 'lab'],
                        help='lab: real QEMU on the two-host lab '
                             '(tools/lab/setup.sh), beside the model')
    parser.add_argument('--jobs', type=int, default=0,
                        help='worker processes (default: one per CPU)')
    parser.add_argument('--quick', action='store_true',
                        help='a small matrix (1 and 4 GiB at 10 Gbit/s)')
    parser.add_argument('--strategies', default='',
                        help='comma-separated strategy names (default: '
                             'all: %s)' % ', '.join(
                                 s.name for s in matrix.ALL_STRATEGIES))
    parser.add_argument('--workloads', default='',
                        help='comma-separated workload names to run, e.g. '
                             '4GiB-x1.5-10Gbit or, for the lab, '
                             '256MiB-x1.5-32MiBps (default: the whole '
                             'matrix)')
    parser.add_argument('--blackout-set', action='store_true',
                        help='lab: only one run of each completion '
                             '(pre-copy, auto-converge, post-copy, '
                             'operator force-complete by pausing) on the '
                             '256 MiB guest, for the blackout table')
    parser.add_argument('--working-set', type=float,
                        default=matrix.DEFAULT_WORKING_SET,
                        help='share of RAM the guest rewrites '
                             '(default: %(default)s)')
    parser.add_argument('--timeline', action='append', default=None,
                        help='workload to draw timelines for (repeatable; '
                             'default: %s)' % ', '.join(DEFAULT_TIMELINES))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--fault-service', type=float, default=None,
                        metavar='SECONDS',
                        help='post-copy fault service time for the runs '
                             'and the oracle (default: the model\'s, a '
                             'round trip and the page\'s transfer only; '
                             'the lab\'s fitted value is 0.004)')
    parser.add_argument('--no-plots', action='store_true')
    parser.add_argument('--no-overhead', action='store_true')
    parser.add_argument('--no-wider', action='store_true',
                        help='only the original 61 workloads, without the '
                             'wider rows (big guests, 100 Gbit/s, other '
                             'working sets, bursts)')
    parser.add_argument('--overhead-only', action='store_true')
    parser.add_argument('--overhead-migrations', type=int, default=100)
    parser.add_argument('--overhead-seconds', type=float, default=20.0)
    parser.add_argument('--doc-dir', default=None,
                        help='also copy the summary, grid and the first '
                             'timeline workload\'s plots here (for '
                             'doc/source/admin/bench)')
    parser.add_argument('--rerender', metavar='RUNS_PICKLE', default=None,
                        help='lab: write the tables and plots again from '
                             'the runs.pickle of an earlier run')
    parser.add_argument('--remodel', action='store_true',
                        help='lab, with --rerender: predict every run '
                             'again with the current model (after a '
                             'refit) instead of the saved prediction')
    argv = list(argv)
    if argv[:1] == ['lab']:
        argv = argv[1:] + ['--backend', 'lab']
    return parser.parse_args(argv)


def run_overhead(args, out):
    from nova.bench import overhead
    figures = []
    for mode in ('native', 'eventlet'):
        sys.stderr.write('Monitor overhead, %s: %d migrations for %g s\n'
                         % (mode, args.overhead_migrations,
                            args.overhead_seconds))
        figures.append(overhead.measure_in_subprocess(
            mode, args.overhead_migrations, args.overhead_seconds))
    with open(os.path.join(out, 'overhead.json'), 'w') as f:
        json.dump(figures, f, indent=1, sort_keys=True)
    text = overhead_markdown(figures)
    with open(os.path.join(out, 'overhead.md'), 'w') as f:
        f.write(text)
    return figures, text


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    restore_logging = quiet_logging()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            return _main(args)
    finally:
        restore_logging()


def _main(args):
    if args.backend == 'lab':
        from nova.bench import labcli
        labcli.main(args)
        return 0
    out = args.out or 'bench-results'
    os.makedirs(out, exist_ok=True)
    doc_dir = args.doc_dir
    if doc_dir:
        os.makedirs(doc_dir, exist_ok=True)

    if not args.overhead_only:
        run_matrix_and_report(args, out, doc_dir)
    if not args.no_overhead:
        figures, text = run_overhead(args, out)
        print('\nMonitor overhead (real clock, fake libvirt):\n')
        print(text)
        if doc_dir:
            rows = [[f['mode'], f['migrations'], f['cpu_per_poll_us'],
                     f['core_pct'], f['core_pct_per_migration']]
                    for f in figures]
            with open(os.path.join(doc_dir, 'overhead.csv'), 'w') as f:
                f.write(report.csv_text(
                    ['concurrency', 'migrations', 'CPU per poll (us)',
                     '% of one core', '% per migration'], rows))
    return 0


def _write_wider(out, doc_dir, names, results, oracles, workloads):
    """The wider rows' tables, as ``wider-*`` files."""
    summary = metrics.summary_table(names, results)
    peers = metrics.peers_table(names, results, matrix.RECOMMENDED)
    goals = None
    if matrix.RECOMMENDED in names:
        goals = metrics.targets(results, matrix.RECOMMENDED,
                                [n for n in names
                                 if n != matrix.RECOMMENDED])
    files = {
        'wider-results.csv': report.runs_csv(results),
        'wider-summary.csv': report.summary_csv(summary, headers=True),
        'wider-peers.csv': report.peers_csv(peers),
        'wider-oracle.csv': report.oracle_csv(oracles, workloads),
        'wider-targets.json': json.dumps(goals, indent=1, sort_keys=True),
    }
    for name, text in files.items():
        with open(os.path.join(out, name), 'w') as f:
            f.write(text)
        if doc_dir and name != 'wider-results.csv':
            shutil.copy(os.path.join(out, name), doc_dir)
    print('Wider rows (%d workloads):' % len(workloads))
    print(report.summary_markdown(summary))
    print(report.peers_csv(peers))
    print('wider targets: %s' % json.dumps(goals, sort_keys=True))


def run_matrix_and_report(args, out, doc_dir):
    from nova.bench import runner
    strategies = matrix.strategies_named(
        [n for n in args.strategies.split(',') if n])
    if args.quick:
        workloads = matrix.quick_matrix(args.working_set)
    else:
        workloads = matrix.default_matrix(args.working_set)
    if args.workloads:
        workloads = [matrix.find_workload(workloads, name)
                     for name in args.workloads.split(',') if name]
    timelines = args.timeline or [n for n in DEFAULT_TIMELINES
                                  if n in {w.name for w in workloads}]
    wider = []
    if not (args.quick or args.workloads or args.no_wider):
        wider = matrix.wider_matrix()
    backend = _backend(args)
    jobs = args.jobs or runner.default_jobs()
    sys.stderr.write('Running %d workloads x %d strategies on %d worker(s)\n'
                     % (len(workloads) + len(wider), len(strategies), jobs))
    wall0 = time.monotonic()
    every = runner.run_matrix(backend, strategies, workloads + wider,
                              timeline_workloads=timelines, jobs=jobs,
                              progress=_progress)
    from nova.bench import oracle
    oracle.FAULT_SERVICE = args.fault_service
    oracles = oracle.oracles(workloads + wider, jobs=jobs)
    metrics.attach_oracle(every, oracles)
    main_names = {w.name for w in workloads}
    results = [r for r in every if r.workload in main_names]
    wide_results = [r for r in every if r.workload not in main_names]
    wall = time.monotonic() - wall0
    usage = (resource.getrusage(resource.RUSAGE_SELF).ru_utime +
             resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime)
    names = [s.name for s in strategies]
    summary = metrics.summary_table(names, results)
    peers = metrics.peers_table(names, results, matrix.RECOMMENDED)
    goals = None
    if matrix.RECOMMENDED in names:
        goals = metrics.targets(results, matrix.RECOMMENDED,
                                [n for n in names
                                 if n != matrix.RECOMMENDED])

    with open(os.path.join(out, 'results.csv'), 'w') as f:
        f.write(report.runs_csv(results))
    with open(os.path.join(out, 'summary.csv'), 'w') as f:
        f.write(report.summary_csv(summary))
    with open(os.path.join(out, 'peers.csv'), 'w') as f:
        f.write(report.peers_csv(peers))
    with open(os.path.join(out, 'oracle.csv'), 'w') as f:
        f.write(report.oracle_csv(oracles, workloads))
    with open(os.path.join(out, 'targets.json'), 'w') as f:
        json.dump(goals, f, indent=1, sort_keys=True)
    with open(os.path.join(out, 'results.md'), 'w') as f:
        f.write(report.results_markdown(
            summary, results, settings(backend, strategies, workloads,
                                       args.working_set, args.seed)))
    if wider:
        _write_wider(out, doc_dir, names, wide_results, oracles, wider)
    info = {'runs': len(every), 'jobs': jobs,
            'matrix_wall_s': round(wall, 1),
            'user_cpu_s': round(usage, 1),
            'polls': sum(r.polls for r in every)}
    with open(os.path.join(out, 'run-info.json'), 'w') as f:
        json.dump(info, f, indent=1, sort_keys=True)
    print(report.summary_markdown(summary))
    print(report.peers_csv(peers))
    print('targets: %s' % json.dumps(goals, sort_keys=True))
    print('%(runs)d runs, %(polls)d monitor polls in %(matrix_wall_s)s s '
          'wall on %(jobs)d worker(s)' % info)

    if doc_dir:
        with open(os.path.join(doc_dir, 'summary.csv'), 'w') as f:
            f.write(report.summary_csv(summary, headers=True))
        for name in ('peers.csv', 'oracle.csv', 'targets.json'):
            shutil.copy(os.path.join(out, name), doc_dir)
        # Every run, for the unit test that keeps these figures current.
        shutil.copy(os.path.join(out, 'results.csv'),
                    os.path.join(doc_dir, 'runs.csv'))
    if args.no_plots:
        return
    if importlib.util.find_spec('matplotlib') is None:
        sys.stderr.write('No plots: matplotlib is not installed (tox -e '
                         'bench installs it)\n')
        return
    from nova.bench import plots
    grid_path = os.path.join(out, 'grid.png')
    plots.grid(results, strategies, workloads, grid_path)
    copies = [grid_path]
    for number, name in enumerate(timelines):
        for result in results:
            if result.workload == name and result.timeline:
                path = os.path.join(out, 'timeline-%s-%s.png' % (
                    name, result.strategy))
                plots.timeline(result, path)
                if number == 0:
                    copies.append(path)
    if doc_dir:
        for path in copies:
            shutil.copy(path, doc_dir)
    sys.stderr.write('Wrote %s\n' % out)
