"""How good is the ETA? Its error at 25, 50 and 75 % of real migrations.

``python -m nova.bench.eta record --out runs.jsonl`` runs the lab matrix
(``nova.bench.lab_matrix``, real QEMU; under the lab lock) and keeps every
run's monitor samples as a timeline (one JSON line a run: its points, its
decisions and its real duration). ``python -m nova.bench.eta report
runs.jsonl`` computes, offline, what ``migration_timeline.assess`` would
have said at 25, 50 and 75 % of each run's real duration, against what
was really left: ``|ETA - left| / left``. Runs for which the timeline gave
no ETA at that moment (pre-copy that was not converging then) count as
not covered rather than as an error.

The conversion from monitor samples is the one the monitor uses:
``point_from_job_info`` with the phase the decisions put the guest in and
the allowed downtime of the ladder at that time.
"""

import argparse
import json
import statistics
import sys

from nova.compute import migration_timeline as mtl

FRACTIONS = (0.25, 0.5, 0.75)


def phase_at(actions, elapsed):
    """The phase the monitor's decisions put the migration in by then."""
    phase = mtl.PRE_COPY
    for at, action, _detail in actions:
        if at > elapsed:
            break
        if action == 'postcopy':
            phase = mtl.POST_COPY
        elif action == 'pause' and phase == mtl.PRE_COPY:
            phase = mtl.PAUSED
    return phase


def downtime_at(ladder, elapsed):
    allowed = 0
    for at, ms in ladder:
        if elapsed >= at:
            allowed = ms
    return allowed


def timeline_of(samples, actions, ladder):
    """(points, events) of the monitor's (elapsed, JobInfo) samples and
    (elapsed, action, detail) decisions.
    """
    points = [mtl.point_from_job_info(t, info, phase_at(actions, t),
                                      downtime_at(ladder, t))
              for t, info in samples]
    events = [mtl.TimelineEvent(at, action, detail or '')
              for at, action, detail in actions]
    return points, events


def run_to_dict(run, **extra):
    return dict(extra, name=run.name, duration_s=run.duration_s,
                points=[p.as_dict() for p in run.points],
                events=[e.as_dict() for e in run.events])


def run_from_dict(values):
    return mtl.RecordedRun(
        name=values['name'], duration_s=values['duration_s'],
        points=[mtl.TimelinePoint(**p) for p in values['points']],
        events=[mtl.TimelineEvent(**e) for e in values['events']])


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def report(runs, fractions=FRACTIONS, out=sys.stdout, finish_s=None):
    """Per run and overall: the ETA's relative error at each fraction.

    Only runs that completed count: an aborted run has no end to predict.
    """
    recorded = [run_from_dict(r) for r in runs if r.get('completed', True)]
    out.write('%-48s %8s  %s\n' % ('run', 'duration', '  '.join(
        'err@%d%%' % (100 * f) for f in fractions)))
    for run in recorded:
        cells = []
        for fraction in fractions:
            error = mtl.eta_error_at(run, fraction, finish_s=finish_s)
            cells.append('   -  ' if error is None else '%5.0f%%' % (
                100 * error))
        out.write('%-48s %7.1fs  %s\n' % (run.name[:48], run.duration_s,
                                          '  '.join(cells)))
    summary = mtl.calibration(recorded, fractions, finish_s=finish_s)
    out.write('\n')
    for fraction in fractions:
        median, covered, total = summary[fraction]
        errors = [mtl.eta_error_at(run, fraction, finish_s=finish_s)
                  for run in recorded]
        errors = [e for e in errors if e is not None]
        within = sum(1 for e in errors if e <= 0.25)
        out.write('at %2d%% of the duration: median |error| %s over %d of '
                  '%d runs with an ETA; %d within 25%%; mean %s\n' % (
                      100 * fraction,
                      '-' if median is None else '%.0f%%' % (100 * median),
                      covered, total, within,
                      '-' if not errors else '%.0f%%' % (
                          100 * statistics.mean(errors))))
    return summary


def write_rst(runs, path, source, fractions=FRACTIONS, finish_s=None):
    """The summary as an RST table, for the administrator guide."""
    recorded = [run_from_dict(r) for r in runs if r.get('completed', True)]
    summary = mtl.calibration(recorded, fractions, finish_s=finish_s)
    lines = ['.. list-table:: ETA error, %s' % source,
             '   :header-rows: 1', '',
             '   * - at this share of the real duration',
             '     - median \\|error\\|',
             '     - runs with an ETA',
             '     - of which within 25 %']
    for fraction in fractions:
        median, covered, total = summary[fraction]
        errors = [mtl.eta_error_at(run, fraction, finish_s=finish_s)
                  for run in recorded]
        within = sum(1 for e in errors if e is not None and e <= 0.25)
        lines += ['   * - %d %%' % (100 * fraction),
                  '     - %s' % ('-' if median is None
                                 else '%.0f %%' % (100 * median)),
                  '     - %d of %d' % (covered, total),
                  '     - %d' % within]
    with open(path, 'w') as out:
        out.write('\n'.join(lines) + '\n')


# -- recording on the lab -------------------------------------------------------

def recording_backend():
    """A LabBackend that keeps each run's monitor samples (needs the lab)."""
    import time

    from nova.bench import lab
    from nova.virt.libvirt import guest as libvirt_guest
    from nova.virt.libvirt import migration

    class Recording(lab.LabBackend):

        def __init__(self, *args, **kwargs):
            super(Recording, self).__init__(*args, **kwargs)
            self.records = []

        def _migrate(self, src, dest, instance, strategy, spec, lvconf):
            result, ended = super(Recording, self)._migrate(
                src, dest, instance, strategy, spec, lvconf)
            state = result.state
            samples = list(state.samples)
            recorder = getattr(state, 'recorder', None)
            if recorder is not None and recorder.points:
                # What the monitor itself sampled and decided.
                points, events = list(recorder.points), list(recorder.events)
            elif state.started_at is not None and samples:
                ladder = migration.downtime_steps(
                    state.data_gb, lvconf.live_migration_downtime,
                    lvconf.live_migration_downtime_steps,
                    lvconf.live_migration_downtime_delay)
                points, events = timeline_of(samples, state.actions, ladder)
            else:
                points = None
            if points:
                duration = (ended or time.monotonic()) - state.started_at
                self.records.append(run_to_dict(
                    mtl.RecordedRun('%s/%s' % (spec.name, strategy.name),
                                    points, events, duration),
                    completed=result.job_type == libvirt_guest.JOB_COMPLETED,
                    strategy=strategy.name, workload=spec.name))
            return result, ended

    return Recording()


def model_records(pairs):
    """The same records from the model (``SimulatedBackend``): no lab.

    The simulated backend does not hand out the monitor's state, so the
    driver's ``live_migration`` is wrapped for the duration to keep it.
    """
    from unittest import mock

    from nova.bench import simulated
    from nova.virt.libvirt import driver as libvirt_driver
    from nova.virt.libvirt import migration

    original = libvirt_driver.LibvirtDriver.live_migration
    seen = []

    def keep(driver, *args, **kwargs):
        result = original(driver, *args, **kwargs)
        seen.append((driver._conf.libvirt, result))
        return result

    records = []
    backend = simulated.SimulatedBackend()
    with mock.patch.object(libvirt_driver.LibvirtDriver, 'live_migration',
                           keep):
        for strategy, spec in pairs:
            del seen[:]
            row = backend.run(strategy, spec)
            lvconf, result = seen[-1]
            state = result.state
            ladder = migration.downtime_steps(
                state.data_gb, lvconf.live_migration_downtime,
                lvconf.live_migration_downtime_steps,
                lvconf.live_migration_downtime_delay)
            recorder = getattr(state, 'recorder', None)
            if recorder is not None and recorder.points:
                points, events = list(recorder.points), list(recorder.events)
            else:
                points, events = timeline_of(list(state.samples),
                                             state.actions, ladder)
            records.append(run_to_dict(
                mtl.RecordedRun('%s/%s' % (spec.name, strategy.name),
                                points, events,
                                row.total_s - (state.started_at or 0.0)),
                completed=row.outcome == 'completed',
                strategy=strategy.name, workload=spec.name))
    return records


def record(out_path, workloads=None, strategies=None):
    from nova.bench import lab_matrix
    pairs = lab_matrix.pairs(strategies=strategies)
    if workloads:
        pairs = [(s, w) for s, w in pairs if w.name in workloads]
    backend = recording_backend()
    with open(out_path, 'a') as out:
        for index, (strategy, spec) in enumerate(pairs):
            before = len(backend.records)
            backend.run(strategy, spec)
            for values in backend.records[before:]:
                out.write(json.dumps(values) + '\n')
                out.flush()
            sys.stdout.write('%d/%d %s/%s\n' % (index + 1, len(pairs),
                                                spec.name, strategy.name))
            sys.stdout.flush()


def plot(runs, name, path):
    """``nova-manage live-migration plot`` of one recorded run."""
    from nova.cmd import live_migration
    from nova.objects import migration as migration_obj
    values = [r for r in runs if r['name'] == name]
    if not values:
        raise SystemExit('no run %r (there are: %s)' % (
            name, ', '.join(r['name'] for r in runs)))
    run = run_from_dict(values[0])
    mig = migration_obj.Migration(
        id=name, instance_uuid='lab', source_compute='lab-a',
        dest_compute='lab-b',
        status='completed' if values[0].get('completed', True) else 'failed')
    return live_migration.plot(mig, migration_obj.Timeline(
        list(run.points), list(run.events)), path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m nova.bench.eta',
                                     description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    rec = sub.add_parser('record', help='run the lab matrix and keep the '
                                        'timelines (needs the lab lock)')
    rec.add_argument('--out', required=True)
    rec.add_argument('--workload', action='append')
    rec.add_argument('--strategy', action='append')
    rec.add_argument('--model', action='store_true',
                     help='record the model of the same runs (no lab)')
    rep = sub.add_parser('report', help='the ETA error of recorded runs')
    rep.add_argument('path')
    rep.add_argument('--rst', help='also write the summary as an RST '
                                   'table (the guide includes it)')
    rep.add_argument('--source', default='the lab',
                     help='what the runs are, for the RST caption')
    rep.add_argument('--finish-s', type=float,
                     help='seconds of finish added to every ETA (default '
                          'migration_timeline.FINISH_S; 0 for the model)')
    pl = sub.add_parser('plot', help='plot one recorded run as '
                                     'nova-manage live-migration plot does')
    pl.add_argument('path')
    pl.add_argument('name', help='workload/strategy')
    pl.add_argument('-o', '--output', required=True)
    args = parser.parse_args(argv)
    if args.command == 'record' and args.model:
        from nova.bench import lab_matrix
        pairs = [(s, w) for s, w in lab_matrix.pairs(
            strategies=args.strategy)
            if not args.workload or w.name in args.workload]
        with open(args.out, 'a') as out:
            for values in model_records(pairs):
                out.write(json.dumps(values) + '\n')
    elif args.command == 'record':
        record(args.out, args.workload, args.strategy)
    elif args.command == 'plot':
        plot(load(args.path), args.name, args.output)
    else:
        runs = load(args.path)
        report(runs, finish_s=args.finish_s)
        if args.rst:
            write_rst(runs, args.rst, args.source, finish_s=args.finish_s)
    return 0


if __name__ == '__main__':
    sys.exit(main())
