"""What ``nova-manage live-migration`` shows: a migration's state, its
ETA and verdict (``nova.compute.migration_timeline``), a live progress bar
and a plot of its saved timeline.

Everything reads the database through the Migration object; the
functions that draw text take plain values and an output stream, so they
are tested without a database or a terminal.
"""

import json
import os
import shutil
import time

from nova.compute import migration_timeline as mtl
from nova import exception
from nova.objects import migration as migration_obj

MiB = mtl.MiB
PLOT_HINT = ("plotting needs matplotlib: pip install 'nova[plot]' (from a "
             "source tree: pip install '.[plot]'), or pip install matplotlib")
BAR_WIDTH = 30
# Exit codes of ``watch``.
EXIT_COMPLETED = 0
EXIT_NOT_COMPLETED = 1
EXIT_TIMEOUT = 2


# The benchmark's action colours, plus the decisions only a saved
# timeline shows (its runs do not mark them).
EXTRA_ACTION_STYLE = {
    'downtime': ('tab:gray', 'downtime step'),
    'postcopy-pause': ('tab:olive', 'post-copy stream paused'),
    'postcopy-broken': ('tab:olive', 'post-copy stream broken'),
    'postcopy-resume': ('tab:pink', 'post-copy resume asked'),
    'postcopy-resumed': ('tab:pink', 'post-copy resumed'),
    'postcopy-recovery-failed': ('black', 'post-copy recovery gave up'),
}


# Decisions drawn as routine steps (the others change the migration's
# course and are named in the title).
ROUTINE = ('downtime',)


class PlotUnavailable(exception.NovaException):
    msg_fmt = PLOT_HINT


def _seconds(value):
    if value is None:
        return '-'
    if value >= 90:
        return '%dm%02ds' % (value // 60, value % 60)
    return '%.1f s' % value


def _mib(value):
    return '%.1f MiB' % (float(value or 0) / MiB)


def _rate(value):
    return '%.1f MiB/s' % (float(value or 0) / MiB)


def elapsed_of(timeline):
    times = [p.elapsed for p in timeline.points] + [
        e.elapsed for e in timeline.events]
    return max(times) if times else None


# -- show ----------------------------------------------------------------------

def summary(mig, timeline):
    """A dict of everything ``show`` prints (also its --json output)."""
    result = mtl.assess(timeline.points, timeline.events)
    last = timeline.points[-1] if timeline.points else None
    finished = mig.status in migration_obj.FINAL
    return {
        'id': mig.id,
        'uuid': mig.uuid,
        'instance_uuid': mig.instance_uuid,
        'source_compute': mig.source_compute,
        'dest_compute': mig.dest_compute,
        'status': mig.status,
        'created_at': str(mig.created_at) if mig.created_at else None,
        'updated_at': str(mig.updated_at) if mig.updated_at else None,
        'elapsed_s': elapsed_of(timeline),
        'verdict': None if finished else result.verdict,
        'eta_s': None if finished else result.eta_s,
        'why': None if finished else result.why,
        'would_finish': [] if finished else [
            {'option': name, 'how': how}
            for name, how in result.would_finish],
        'phase': result.phase,
        'progress_percent': round(100 * result.progress, 1),
        'iteration': last.iteration if last else None,
        'memory_total': last.memory_total if last else mig.memory_total,
        'memory_remaining': (last.memory_remaining if last
                             else mig.memory_remaining),
        'dirty_bps': result.dirty_bps,
        'transfer_bps': result.transfer_bps,
        'throttle_percent': result.throttle,
        'allowed_downtime_ms': last.downtime_ms if last else None,
        'points': len(timeline.points),
        'events': [e.as_dict() for e in timeline.events],
    }


def write_show(values, out):
    """The ``show`` report: the record, the verdict, the decisions."""
    rows = [
        ('Migration', '%s (%s)' % (values['id'], values['uuid'])),
        ('Server', values['instance_uuid']),
        ('Hosts', '%s -> %s' % (values['source_compute'],
                                values['dest_compute'])),
        ('Status', values['status']),
        ('Started', values['created_at']),
        ('Elapsed', _seconds(values['elapsed_s'])),
        ('Phase', '%s, pass %s' % (values['phase'],
                                   values['iteration'] or '-')),
        ('Memory', '%s of %s left (%.1f%% moved)' % (
            _mib(values['memory_remaining']), _mib(values['memory_total']),
            values['progress_percent'])),
        ('Dirty rate', _rate(values['dirty_bps'])),
        ('Transfer rate', _rate(values['transfer_bps'])),
        ('Throttle', '%s%%' % values['throttle_percent']),
        ('Allowed downtime', '%s ms' % (values['allowed_downtime_ms']
                                        if values['allowed_downtime_ms']
                                        is not None else '-')),
    ]
    if values['verdict'] is not None:
        rows.append(('Verdict', values['verdict']))
        rows.append(('ETA', _seconds(values['eta_s'])))
        rows.append(('Why', values['why']))
        for index, option in enumerate(values['would_finish']):
            rows.append(('Would finish it' if index == 0 else '',
                         '%s: %s' % (option['option'], option['how'])))
    width = max(len(name) for name, _value in rows)
    for name, value in rows:
        out.write('%s  %s\n' % (name.ljust(width), value))
    out.write('\nDecisions (%d):\n' % len(values['events']))
    if not values['events']:
        out.write('  none\n')
    for event in values['events']:
        out.write('  %8.1f s  %-24s %s\n' % (event['elapsed'],
                                             event['action'],
                                             event['reason']))
    out.write('\n(%d samples saved)\n' % values['points'])


# -- watch -----------------------------------------------------------------------

def progress_line(status, result, eta_s, elapsed, width=None):
    """One line: bar, percent, ETA, phase, verdict and the last reason.

    ``eta_s`` is the assessment's ETA counted down since it was made (the
    timeline is saved every few seconds; the bar moves in between).
    """
    done = int(round(BAR_WIDTH * result.progress))
    bar = '[%s%s]' % ('#' * done, '.' * (BAR_WIDTH - done))
    parts = ['%s %5.1f%%' % (bar, 100 * result.progress)]
    if status in migration_obj.FINAL:
        parts.append(status)
        if elapsed is not None:
            parts.append('after %s' % _seconds(elapsed))
    else:
        parts.append('ETA %s' % (_seconds(eta_s) if eta_s is not None
                                 else '?'))
        parts.append(result.phase)
        parts.append(result.verdict)
    if result.last_action is not None:
        last = result.last_action
        parts.append('last: %s (%s)' % (last.action, last.reason)
                     if last.reason else 'last: %s' % last.action)
    line = '  '.join(parts)
    if width is not None and len(line) > width - 1:
        line = line[:max(width - 4, 10)] + '...'
    return line


def _columns(out):
    """The terminal's width (a wrapped line could not be redrawn)."""
    try:
        columns = os.get_terminal_size(out.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns or shutil.get_terminal_size().columns


def watch(load, out, interval=1.0, timeout=None, clock=time.monotonic,
          sleep=time.sleep, is_tty=None):
    """Follow a migration until it ends; returns an exit code.

    ``load()`` returns (migration record, Timeline). On a terminal the
    line is redrawn in place; otherwise a plain line is written each time
    it changes, so a log stays readable.
    """
    tty = out.isatty() if is_tty is None else is_tty
    started = clock()
    seen_point, seen_at, last_line = None, None, None
    while True:
        mig, timeline = load()
        result = mtl.assess(timeline.points, timeline.events)
        now = clock()
        newest = timeline.points[-1] if timeline.points else None
        if newest != seen_point:
            seen_point, seen_at = newest, now
        eta = result.eta_s
        if eta is not None:
            eta = max(eta - (now - seen_at), 0.0)
        final = mig.status in migration_obj.FINAL
        width = _columns(out) if tty else None
        line = progress_line(mig.status, result, eta, elapsed_of(timeline),
                             width)
        if tty:
            out.write('\r%s\x1b[K' % line)
            if final:
                out.write('\n')
        elif line != last_line or final:
            out.write(line + '\n')
        out.flush()
        last_line = line
        if final:
            return (EXIT_COMPLETED if mig.status == migration_obj.COMPLETED
                    else EXIT_NOT_COMPLETED)
        if timeout is not None and now - started >= timeout:
            if tty:
                out.write('\n')
            out.write('Still %s after %s; stopped watching.\n'
                      % (mig.status, _seconds(now - started)))
            out.flush()
            return EXIT_TIMEOUT
        sleep(interval)


# -- plot --------------------------------------------------------------------------

def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable()
    matplotlib.use('Agg')
    from matplotlib import pyplot
    return pyplot


def plot(mig, timeline, path, dpi=90):
    """Remaining memory, dirty and transfer rates, throttle and allowed
    downtime over time, with every decision marked: the look of the
    benchmark's timelines (``nova.bench.plots.timeline``).
    """
    from nova.bench import plots
    plt = _pyplot()
    points = timeline.points
    if not points:
        raise exception.Invalid(reason='migration %s has no saved timeline '
                                       'to plot' % mig.id)
    big = max(p.memory_total for p in points) >= 4 * 1024 * MiB
    scale, unit = (1024.0 * MiB, 'GiB') if big else (float(MiB), 'MiB')
    t = [p.elapsed for p in points]
    fig, axes = plt.subplots(3, 1, figsize=(8, 5.4), sharex=True,
                             gridspec_kw={'height_ratios': [2.2, 1, 1]})
    ax = axes[0]
    ax2 = ax.twinx()
    ax.plot(t, [p.memory_remaining / scale for p in points],
            color='tab:blue', lw=1.0, label='memory remaining')
    ax2.plot(t, [p.dirty_bps / scale for p in points], color='tab:orange',
             lw=1.0, label='dirty rate')
    ax2.plot(t, [p.transfer_bps / scale for p in points], color='tab:cyan',
             lw=1.0, label='transfer rate')
    for phase, color in ((mtl.POST_COPY, 'tab:red'),
                         (mtl.PAUSED, 'tab:purple')):
        spans = [p.elapsed for p in points if p.phase == phase]
        if spans:
            ax.axvspan(min(spans), max(spans), color=color, alpha=0.08,
                       label=phase)
    ax.set_ylabel(unit)
    ax2.set_ylabel('%s/s' % unit)
    ax.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7,
              loc='upper right')
    axes[1].plot(t, [p.throttle for p in points], color='tab:green',
                 lw=1.0, label='throttle')
    axes[1].set_ylabel('throttle %')
    axes[1].set_ylim(0, 100)
    axes[2].step(t, [p.downtime_ms for p in points], where='post',
                 color='tab:gray', lw=1.0)
    axes[2].set_ylabel('allowed\ndowntime ms')
    axes[2].set_ylim(bottom=0)
    axes[2].set_xlabel('seconds since the migration began')
    styles = dict(plots.ACTION_STYLE, **EXTRA_ACTION_STYLE)
    seen = set()
    # Routine steps thin and dotted, under the decisions that change the
    # migration's course.
    for event in sorted(timeline.events,
                        key=lambda e: e.action not in ROUTINE):
        color, label = styles.get(event.action, ('tab:brown', event.action))
        routine = event.action in ROUTINE
        for a in axes:
            a.axvline(event.elapsed, color=color,
                      ls=':' if routine else '--', lw=0.8 if routine else 1.2,
                      zorder=1 if routine else 3,
                      label=None if event.action in seen else label)
        seen.add(event.action)
    if seen:
        axes[1].legend(fontsize=7, loc='upper left')
    title = 'migration %s of %s (%s -> %s): %s after %s' % (
        mig.id, (mig.instance_uuid or '')[:8], mig.source_compute,
        mig.dest_compute, mig.status, _seconds(elapsed_of(timeline)))
    reasons = ['%.1f s %s: %s' % (e.elapsed, e.action, e.reason)
               for e in timeline.events
               if e.reason and e.action not in ROUTINE][:3]
    if reasons:
        title += '\n' + '\n'.join(r[:110] for r in reasons)
    axes[0].set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def dumps(values):
    return json.dumps(values, indent=1, sort_keys=True, default=str)
