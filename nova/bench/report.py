"""Tables: CSV and Markdown of the runs and of the per-strategy summary.

Everything written here is a function of the results alone (no wall-clock
figures), so the same matrix gives byte-identical files.
"""

import csv
import io

from nova.bench import metrics

SUMMARY_HEADERS = {
    'strategy': 'strategy',
    'runs': 'runs',
    'completed': 'completed',
    'aborted': 'aborted',
    'success_pct': 'success %',
    'median_time_ratio': 'median time / floor',
    'worst_time_ratio': 'worst time / floor',
    'worst_guest_stop_s': 'worst guest stop (s)',
    'worst_stop_ratio': 'worst stop / max downtime',
    'median_first_action_s': 'median first action (s)',
    'throttle_cpu_s': 'CPU lost to throttle (s)',
    'postcopy_runs': 'runs in post-copy',
}

RUN_HEADERS = {
    'strategy': 'strategy', 'workload': 'workload', 'ram_gib': 'RAM GiB',
    'dirty_ratio': 'dirty/bw', 'gbit': 'Gbit/s', 'mode': 'flags',
    'outcome': 'outcome', 'total_s': 'time (s)', 'floor_s': 'floor (s)',
    'time_ratio': 'time/floor', 'guest_stop_s': 'guest stop (s)',
    'stop_ratio': 'stop/max', 'qemu_downtime_ms': 'QEMU downtime (ms)',
    'throttle_cpu_s': 'throttle CPU (s)', 'max_throttle': 'max throttle %',
    'postcopy_s': 'post-copy (s)', 'sent_ratio': 'sent/RAM',
    'first_action_s': 'first action (s)', 'first_action': 'action',
    'iterations': 'passes', 'polls': 'polls',
    'fault_wait_s': 'fault waits (s)', 'lost_s': 'lost guest (s)',
    'impact_s': 'guest impact (s)', 'stall_pass': 'stall pass',
    'action_pass': 'action pass', 'oracle_ratio': 'time/oracle',
}
SUMMARY_HEADERS.update({
    'median_oracle_ratio': 'median time / oracle',
    'worst_oracle_ratio': 'worst time / oracle',
    'median_impact_s': 'median guest impact (s)',
    'worst_impact_s': 'worst guest impact (s)',
    'worst_passes_after_stall': 'worst passes from stall to action',
})
PEER_HEADERS = {
    'strategy': 'strategy', 'completed': 'completed',
    'median_oracle_ratio': 'median time / oracle',
    'worst_oracle_ratio': 'worst time / oracle',
    'median_impact_s': 'median guest impact (s)',
    'worst_impact_s': 'worst guest impact (s)',
    'wins': 'cells faster than post-copy at no more guest impact',
    'win_cells': 'those cells',
}


def _cell(value):
    if value is None:
        return ''
    if isinstance(value, float):
        return '%g' % value if abs(value) < 1e6 else '%.0f' % value
    return str(value)


def csv_text(columns, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def runs_csv(results):
    return csv_text(metrics.RUN_COLUMNS, [r.row() for r in results])


def summary_rows(summary):
    return [[s[c] for c in metrics.SUMMARY_COLUMNS] for s in summary]


def summary_csv(summary, headers=False):
    columns = metrics.SUMMARY_COLUMNS
    if headers:
        columns = [SUMMARY_HEADERS[c] for c in columns]
    return csv_text(columns, summary_rows(summary))


def markdown_table(headers, rows):
    lines = ['| ' + ' | '.join(headers) + ' |',
             '|' + '|'.join('---' for _ in headers) + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(_cell(v) for v in row) + ' |')
    return '\n'.join(lines) + '\n'


def peers_csv(rows):
    columns = metrics.PEER_COLUMNS
    return csv_text([PEER_HEADERS[c] for c in columns],
                    [[r[c] for c in columns] for r in rows])


def oracle_csv(oracles, specs):
    rows = []
    for spec in specs:
        o = oracles[spec.name]
        rows.append([spec.name, o.plan, round(o.total_s, 2),
                     round(o.time_ratio, 2), round(o.impact_s, 3),
                     o.stall_pass])
    return csv_text(['workload', 'plan', 'time (s)', 'time / floor',
                     'guest impact (s)', 'stall pass'], rows)


def summary_markdown(summary):
    return markdown_table([SUMMARY_HEADERS[c]
                           for c in metrics.SUMMARY_COLUMNS],
                          summary_rows(summary))


def runs_markdown(results):
    return markdown_table([RUN_HEADERS[c] for c in metrics.RUN_COLUMNS],
                          [r.row() for r in results])


def title_and_settings(title, settings):
    """A report's heading and its settings as a Markdown list."""
    lines = ['- %s: %s\n' % item for item in settings]
    return '# %s\n\n' % title + ''.join(lines)


def results_markdown(summary, results, settings):
    """The whole report: settings, summary, then every run."""
    parts = [title_and_settings('Live-migration completion benchmark',
                                settings)]
    parts.append('\n## Summary per strategy\n\n'
                 'Time ratios and guest stops are over completed runs; '
                 '"floor" is RAM / link bandwidth.\n\n')
    parts.append(summary_markdown(summary))
    parts.append('\n## Every run\n\n')
    parts.append(runs_markdown(results))
    return ''.join(parts)
