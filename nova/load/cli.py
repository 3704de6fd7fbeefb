"""``tox -e load``: the API under load and hostile clients, two servers.

    python -m nova.load [--duration 10] [--levels 1,10,50,200]
                        [--servers 10] [--json FILE] [--only waitress]

For each HTTP server (the standard library's wsgiref, the reference, and
waitress, what nova-api and nova-all serve with) it starts its own
``nova-all --fake-hypervisors --api-server SERVER`` on 127.0.0.1 with a
fresh state and boots ``--servers`` servers; both run at once and each
load level is measured on one and then the other. It measures:

1. ``GET /v2.1/servers/detail`` (admin, microversion 2.79) by 1, 10, 50
   and 200 concurrent keep-alive clients, ``--duration`` seconds each (at
   most 50,000 requests): requests/s, p50, p99, resets, timeouts, 5xx;
2. hostile clients: 100 idle sockets, 100 slow clients (trickled headers,
   short bodies), 4 x 50 MiB bodies at once, a 1 MiB header, malformed
   requests; whether ordinary requests are still served meanwhile;
3. live migrations completed in ``--migration-seconds`` without load and
   with 50 clients of load.

Everything goes to 127.0.0.1 only and each part stops by itself.
"""

import argparse
import json
import sys
import threading

from nova.load import client
from nova.load import cloud
from nova.load import hostile
from nova.load import migrations

SERVERS = ('wsgiref', 'waitress')
PATH = '/v2.1/servers/detail'
HEADERS = (('X-Auth-Token', cloud.ADMIN),
           ('OpenStack-API-Version', 'compute 2.79'))
LOAD_DURING_MIGRATIONS = 50


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m nova.load',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds per load level (default 10)')
    parser.add_argument('--levels', default='1,10,50,200',
                        help='concurrent clients per level')
    parser.add_argument('--servers', type=int, default=10,
                        help='servers booted before the load (default 10)')
    parser.add_argument('--migration-seconds', type=float, default=20.0,
                        help='length of each migration-rate window')
    parser.add_argument('--hostile-wait', type=float, default=20.0,
                        help='how long hostile sockets are watched')
    parser.add_argument('--threads', type=int,
                        help='[wsgi] threads of the waitress run (default: '
                             'nova-all\'s own default)')
    parser.add_argument('--only', choices=SERVERS, action='append',
                        help='measure only this server (repeatable)')
    parser.add_argument('--skip', action='append', default=[],
                        choices=['load', 'hostile', 'migrations'],
                        help='leave a part out (repeatable)')
    parser.add_argument('--json', metavar='FILE',
                        help='write every figure to FILE as JSON')
    args = parser.parse_args(argv)
    args.levels = [int(v) for v in args.levels.split(',') if v.strip()]
    if any(level < 1 or level > 500 for level in args.levels):
        parser.error('levels must be between 1 and 500 clients')
    if not 0 < args.duration <= 120:
        parser.error('--duration must be in (0, 120] seconds')
    return args


def say(text):
    print(text, flush=True)


def level_line(name, row):
    return ('[%s] %3d clients: %7.1f req/s  p50 %7.1f ms  p99 %7.1f ms  '
            'resets %d  timeouts %d  5xx %d'
            % (name, row['clients'], row['rate'], row['p50_ms'] or 0,
               row['p99_ms'] or 0, row['resets'], row['timeouts'],
               row['5xx']))


def measure(names, args):
    """Measure every server in ``names``, all of them up at once.

    Each load level is measured on one and then the other, so that a
    change in the machine's load between levels falls on both alike.
    """
    clouds, figures, servers = {}, {}, {}
    try:
        for name in names:
            clouds[name] = cloud.AllInOne(name, threads=args.threads).start()
            aio = clouds[name]
            figures[name] = {'server': name, 'settings': aio.settings,
                             'servers': args.servers}
            say('[%s] nova-all pid %d on port %d; booting %d servers'
                % (name, aio.pid, aio.port, args.servers))
            servers[name] = aio.populate(args.servers)
        if 'load' not in args.skip:
            for clients in args.levels:
                for name in names:
                    aio = clouds[name]
                    row = client.run_level(aio.host, aio.port, PATH, HEADERS,
                                           clients, args.duration).as_dict()
                    figures[name].setdefault('levels', []).append(row)
                    say(level_line(name, row))
        for name in names:
            aio = clouds[name]
            if 'hostile' not in args.skip:
                figures[name]['hostile'] = run_hostile(name, aio, args)
            if 'migrations' not in args.skip:
                figures[name]['migrations'] = run_migrations(
                    name, aio, servers[name], args)
            figures[name]['rss_end_mib'] = hostile.rss_mib(aio.pid)
    finally:
        for aio in clouds.values():
            aio.stop()
    return [figures[name] for name in names if name in figures]


def run_hostile(name, aio, args):
    host, port = aio.host, aio.port
    out = {}
    steps = (
        ('idle_sockets', lambda: hostile.idle_sockets(
            host, port, wait=args.hostile_wait)),
        ('slow_clients', lambda: hostile.slow_clients(
            host, port, wait=args.hostile_wait)),
        ('oversize_bodies', lambda: hostile.oversize_bodies(
            host, port, aio.pid)),
        ('oversize_headers', lambda: hostile.oversize_headers(host, port)),
        ('odd_requests', lambda: hostile.odd_requests(host, port)),
    )
    for key, step in steps:
        try:
            out[key] = step()
        except Exception as exc:  # a server that falls over is a finding
            out[key] = {'error': '%s: %s' % (type(exc).__name__, exc)}
        say('[%s] %s: %s' % (name, key, hostile.as_json(out[key])))
    return out


def run_migrations(name, aio, servers, args):
    quiet = migrations.migration_rate(aio.rest, servers,
                                      args.migration_seconds)
    say('[%s] migrations without load: %s' % (name, json.dumps(quiet)))
    holder = {}

    def load():
        holder['load'] = client.run_level(
            aio.host, aio.port, PATH, HEADERS, LOAD_DURING_MIGRATIONS,
            args.migration_seconds + 5).as_dict()

    loader = threading.Thread(target=load)
    loader.start()
    try:
        busy = migrations.migration_rate(aio.rest, servers,
                                         args.migration_seconds)
    finally:
        loader.join()
    ratio = (busy['per_minute'] / quiet['per_minute']
             if quiet['per_minute'] else None)
    say('[%s] migrations with %d clients of load: %s; rate ratio %s'
        % (name, LOAD_DURING_MIGRATIONS, json.dumps(busy),
           None if ratio is None else round(ratio, 2)))
    return {'quiet': quiet, 'loaded': busy, 'load': holder.get('load'),
            'rate_ratio': None if ratio is None else round(ratio, 2)}


def _ratio(new, old):
    if new is None or not old:
        return '-'
    return '%.2f' % (float(new) / float(old))


def summary(results):
    """The comparison table: waitress against the reference, per level."""
    by_name = {r['server']: r for r in results}
    ref, new = by_name.get('wsgiref'), by_name.get('waitress')
    lines = []
    if ref and new and 'levels' in ref and 'levels' in new:
        lines.append('GET %s, %s servers in the answer'
                     % (PATH, new.get('servers', '?')))
        lines.append('%-8s | %-32s | %-32s | %s' % (
            'clients', 'wsgiref req/s p50 p99 rst 5xx',
            'waitress req/s p50 p99 rst 5xx', 'ratio req/s, p99'))
        for old, cur in zip(ref['levels'], new['levels']):
            lines.append('%-8d | %s | %s | %s, %s' % (
                cur['clients'], _row(old), _row(cur),
                _ratio(cur['rate'], old['rate']),
                _ratio(cur['p99_ms'], old['p99_ms'])))
    lines.extend(verdicts(ref, new))
    for r in results:
        mig = r.get('migrations')
        if mig:
            lines.append('%s: migrations/min %s quiet, %s under %d clients '
                         '(ratio %s)' % (
                             r['server'], mig['quiet']['per_minute'],
                             mig['loaded']['per_minute'],
                             LOAD_DURING_MIGRATIONS, mig['rate_ratio']))
    return '\n'.join(lines)


def verdicts(ref, new):
    """The reliability targets, each met or missed by waitress's run."""
    if not new:
        return []
    out = []
    levels = {row['clients']: row for row in new.get('levels', ())}
    top = levels.get(200)
    if top:
        out.append(_verdict(
            '0 resets, 0 timeouts and 0 5xx at 200 clients',
            top['resets'] + top['timeouts'] + top['5xx'] == 0))
        out.append(_verdict('p99 under 1 s at 200 clients (%s ms)'
                            % top['p99_ms'],
                            (top['p99_ms'] or 0) < 1000))
    ref_levels = {row['clients']: row
                  for row in (ref or {}).get('levels', ())}
    if 50 in levels and 50 in ref_levels:
        out.append(_verdict(
            'p99 at 50 clients no worse than the reference (%s vs %s ms)'
            % (levels[50]['p99_ms'], ref_levels[50]['p99_ms']),
            (levels[50]['p99_ms'] or 0) <= (ref_levels[50]['p99_ms'] or 0)))
    mig = new.get('migrations')
    if mig and mig.get('rate_ratio') is not None:
        out.append(_verdict(
            'migrations under 50 clients at >= 0.8 of the quiet rate (%s)'
            % mig['rate_ratio'], mig['rate_ratio'] >= 0.8))
    return out


def _verdict(what, met):
    return 'target %s: %s' % ('met' if met else 'MISSED', what)


def _row(level):
    return '%7.1f %6.1f %7.1f %4d %3d' % (
        level['rate'], level['p50_ms'] or 0, level['p99_ms'] or 0,
        level['resets'] + level['timeouts'], level['5xx'])


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = [n for n in SERVERS if not args.only or n in args.only]
    results = measure(names, args)
    table = summary(results)
    if table:
        say('\n' + table)
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(results, handle, indent=2, sort_keys=True)
    return 0
