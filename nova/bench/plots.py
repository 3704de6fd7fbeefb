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


def timeline(result, path, dpi=72):
    """Memory remaining, dirty rate, throttle and allowed downtime."""
    plt = _pyplot()
    tl = result.timeline
    t = tl['t']
    fig, axes = plt.subplots(3, 1, figsize=(8, 5.4), sharex=True,
                             gridspec_kw={'height_ratios': [2.2, 1, 1]})
    ax = axes[0]
    ax.plot(t, [r / GIB for r in tl['remaining']], color='tab:blue',
            lw=1.0, label='memory remaining (GiB)')
    ax.set_ylabel('GiB')
    ax2 = ax.twinx()
    link = result.gbit * matrix.GBIT_BYTES / GIB
    ax2.plot(t, [d / GIB for d in tl['dirty_rate']], color='tab:orange',
             lw=1.0, label='dirty rate (GiB/s)')
    ax2.axhline(link, color='tab:orange', ls=':', lw=0.8,
                label='link (GiB/s)')
    ax2.set_ylabel('GiB/s')
    ax2.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7,
              loc='upper right')
    axes[1].plot(t, tl['throttle'], color='tab:green', lw=1.0)
    axes[1].set_ylabel('throttle %')
    axes[1].set_ylim(0, 100)
    axes[2].step(t, tl['downtime_ms'], where='post', color='tab:gray',
                 lw=1.0)
    axes[2].set_ylabel('allowed\ndowntime ms')
    axes[2].set_ylim(bottom=0)
    axes[2].set_xlabel('seconds since the migration began')
    seen = set()
    for elapsed, action, _reason in tl['actions']:
        color, label = ACTION_STYLE.get(action, ('tab:red', action))
        for a in axes:
            a.axvline(elapsed, color=color, ls='--', lw=1.0,
                      label=None if action in seen else label)
        seen.add(action)
    if seen:
        axes[1].legend(fontsize=7, loc='upper left')
    title = '%s on %s: %s after %.1f s (%.1fx floor), guest stop %.3f s' % (
        result.strategy, result.workload, result.outcome, result.total_s,
        result.time_ratio, result.guest_stop_s)
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
