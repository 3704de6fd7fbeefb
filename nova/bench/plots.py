"""PNG plots of the benchmark (matplotlib, Agg backend).

Only the ``bench`` tox environment installs matplotlib; everything else in
the package works without it.
"""

import math

from nova.bench import matrix
from nova.bench import metrics

GIB = float(matrix.GiB)


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    return pyplot


ACTION_STYLE = {'postcopy': ('tab:red', 'post-copy switch'),
                'pause': ('tab:purple', 'guest paused'),
                'abort': ('black', 'aborted')}


def _unit(result):
    """GiB for the simulated matrix, MiB for the lab's small guests."""
    if result.ram_gib < 4:
        return float(matrix.MiB), 'MiB'
    return GIB, 'GiB'


def _draw_series(axes, result, scale, style):
    tl = result.timeline
    t = tl['t']
    ax, ax2 = axes[0], axes[0].twinx() if style.get('twin') is None \
        else style['twin']
    label = style.get('label', '')
    ax.plot(t, [r / scale for r in tl['remaining']], color='tab:blue',
            lw=style['lw'], ls=style['ls'],
            label='memory remaining%s' % label)
    ax2.plot(t, [d / scale for d in tl['dirty_rate']], color='tab:orange',
             lw=style['lw'], ls=style['ls'], label='dirty rate%s' % label)
    axes[1].plot(t, tl['throttle'], color='tab:green', lw=style['lw'],
                 ls=style['ls'], label='throttle%s' % label)
    axes[2].step(t, tl['downtime_ms'], where='post', color='tab:gray',
                 lw=style['lw'], ls=style['ls'])
    return ax2


def timeline(result, path, dpi=72, model=None):
    """Memory remaining, dirty rate, throttle and allowed downtime.

    With ``model`` (the model's run of the same workload, for a lab run)
    its series are drawn dashed over the measured ones.
    """
    plt = _pyplot()
    scale, unit = _unit(result)
    fig, axes = plt.subplots(3, 1, figsize=(8, 5.4), sharex=True,
                             gridspec_kw={'height_ratios': [2.2, 1, 1]})
    solid = {'lw': 1.0, 'ls': '-', 'label': ' (lab)' if model else ''}
    ax2 = _draw_series(axes, result, scale, solid)
    if model is not None and model.timeline:
        _draw_series(axes, model, scale, {'lw': 0.9, 'ls': '--',
                                          'label': ' (model)',
                                          'twin': ax2})
    ax = axes[0]
    ax.set_ylabel(unit)
    link = result.gbit * matrix.GBIT_BYTES / scale
    ax2.axhline(link, color='tab:orange', ls=':', lw=0.8,
                label='link or cap (%s/s)' % unit)
    ax2.set_ylabel('%s/s' % unit)
    ax2.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7,
              loc='upper right')
    axes[1].set_ylabel('throttle %')
    axes[1].set_ylim(0, 100)
    axes[2].set_ylabel('allowed\ndowntime ms')
    axes[2].set_ylim(bottom=0)
    axes[2].set_xlabel('seconds since the migration began')
    seen = set()
    for elapsed, action, _reason in result.timeline['actions']:
        color, label = ACTION_STYLE.get(action, ('tab:red', action))
        for a in axes:
            a.axvline(elapsed, color=color, ls='--', lw=1.0,
                      label=None if action in seen else label)
        seen.add(action)
    if seen or model is not None:
        axes[1].legend(fontsize=7, loc='upper left')
    stop = ('unknown' if result.guest_stop_s is None
            else '%.3f s' % result.guest_stop_s)
    title = '%s on %s: %s after %.1f s (%.1fx floor), guest stop %s' % (
        result.strategy, result.workload, result.outcome, result.total_s,
        result.time_ratio, stop)
    if model is not None:
        title += '\nmodel: %s after %.1f s' % (model.outcome, model.total_s)
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def grid(results, strategies, workloads, path, dpi=72):
    """Outcome and time / floor of every strategy over the matrix.

    One panel per strategy: rows are (RAM, link), columns dirty ratios;
    the colour is log10(time / floor), a cell with a cross did not
    complete.
    """
    plt = _pyplot()
    from matplotlib import colors
    steady = [w for w in workloads if not w.phases]
    rows = sorted({(w.ram_gib, w.gbit) for w in steady})
    cols = sorted({w.dirty_ratio for w in steady})
    by_key = {(r.strategy, r.ram_gib, r.gbit, r.dirty_ratio): r
              for r in results if r.workload in {w.name for w in steady}}
    ncols = min(3, len(strategies))
    nrows = int(math.ceil(len(strategies) / float(ncols)))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(4.2 * ncols + 1.0,
                                      (0.28 * len(rows) + 1.3) * nrows + 0.5),
                             constrained_layout=True)
    cmap = plt.get_cmap('viridis_r').copy()
    norm = colors.Normalize(vmin=0, vmax=3)
    image = None
    for index, strategy in enumerate(strategies):
        ax = axes[index // ncols][index % ncols]
        data = []
        for ram, gbit in rows:
            line = []
            for ratio in cols:
                r = by_key.get((strategy.name, ram, gbit, ratio))
                if r is None or not r.completed:
                    line.append(float('nan'))
                else:
                    line.append(math.log10(max(r.time_ratio, 1.0)))
            data.append(line)
        image = ax.imshow(data, cmap=cmap, norm=norm, aspect='auto')
        for y, (ram, gbit) in enumerate(rows):
            for x, ratio in enumerate(cols):
                r = by_key.get((strategy.name, ram, gbit, ratio))
                if r is None:
                    continue
                if r.completed:
                    text = '%.3g' % r.time_ratio
                    color = 'white' if data[y][x] > 1.5 else 'black'
                else:
                    text = {metrics.OUTCOME_ABORTED: 'X abort',
                            metrics.OUTCOME_TIMEOUT: 'X cap'}.get(
                                r.outcome, 'X fail')
                    color = 'tab:red'
                ax.text(x, y, text, ha='center', va='center', fontsize=6.5,
                        color=color)
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(['%g' % c for c in cols], fontsize=7)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(['%g GiB %g Gb/s' % rc for rc in rows],
                           fontsize=7)
        ax.set_xlabel('dirty rate / bandwidth', fontsize=7, labelpad=1)
        ax.set_title(strategy.name, fontsize=9)
    for index in range(len(strategies), nrows * ncols):
        axes[index // ncols][index % ncols].axis('off')
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.5, aspect=30,
                           label='log10(time / floor)')
        bar.ax.tick_params(labelsize=7)
    fig.suptitle('Time / physical floor (RAM / bandwidth); X = did not '
                 'complete', fontsize=10)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


LAB_PANELS = (('time_s', 'time (s)'), ('sent_mib', 'MiB sent'),
              ('first_action_s', 'first monitor action (s)'))
STRATEGY_MARKERS = 'osD^vP*X'


def lab_vs_model(runs, strategy_names, path, dpi=72):
    """Lab (y) against the model's prediction (x), one panel a figure.

    On the diagonal the model predicted the lab exactly; the dotted lines
    are a factor of 1.5 either way. A hollow marker is a run whose outcome
    the model got wrong.
    """
    plt = _pyplot()
    from matplotlib import ticker
    fig, axes = plt.subplots(1, len(LAB_PANELS),
                             figsize=(4.0 * len(LAB_PANELS), 4.0))
    markers = {name: STRATEGY_MARKERS[i % len(STRATEGY_MARKERS)]
               for i, name in enumerate(strategy_names)}
    colors = {name: 'C%d' % i for i, name in enumerate(strategy_names)}
    for ax, (key, label) in zip(axes, LAB_PANELS):
        points = []
        for run in runs:
            lab, model = run.lab_figures, run.model_figures
            x, y = model.get(key), lab.get(key)
            if not x or not y:
                continue
            same = lab['outcome'] == model['outcome']
            ax.scatter([x], [y], marker=markers[run.strategy], s=36,
                       facecolors=colors[run.strategy] if same else 'none',
                       edgecolors=colors[run.strategy], linewidths=1.0)
            points += [x, y]
        if points:
            low, high = min(points) / 1.3, max(points) * 1.3
            ax.plot([low, high], [low, high], color='black', lw=0.8)
            for factor in (1.5, 1 / 1.5):
                ax.plot([low, high], [low * factor, high * factor],
                        color='gray', lw=0.6, ls=':')
            ax.set_xlim(low, high)
            ax.set_ylim(low, high)
        ax.set_xscale('log')
        ax.set_yscale('log')
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(ticker.FuncFormatter(
                lambda v, _pos: '%g' % v))
            axis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel('model: %s' % label, fontsize=8)
        ax.set_ylabel('lab: %s' % label, fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [plt.Line2D([], [], ls='', marker=markers[n], color=colors[n],
                          label=n) for n in strategy_names]
    fig.legend(handles=handles, loc='lower center', ncol=len(handles),
               fontsize=7, frameon=False)
    fig.suptitle('Real QEMU (lab) against the model\'s prediction; hollow: '
                 'the outcome differs', fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
