"""nova-manage: schema, flavors, images and services of the database.

    nova-manage [--config-file nova.conf] db sync
    nova-manage db version
    nova-manage flavor create --name lab.tiny --memory 128 [--vcpus 1]
    nova-manage flavor list
    nova-manage image create --name busy --kernel /path/vmlinuz \\
        --initrd /path/initrd.img [--cmdline "console=ttyS0"]
    nova-manage image list
    nova-manage service list
    nova-manage live-migration show ID [--json]
    nova-manage live-migration watch ID [--interval 1] [--timeout S]
    nova-manage live-migration plot ID -o file.png
    nova-manage db purge --older-than DAYS [--archive FILE] [--dry-run]

``[database] connection`` says which database (``--database-connection``
overrides it for one command). ``db sync`` creates or upgrades the schema
and adds the default flavors (lab.small 256 MiB, lab.medium 512 MiB,
lab.large 1024 MiB).

``live-migration`` reads a migration's saved timeline (the monitor's
samples and decisions): ``show`` prints its state, ETA and verdict,
``watch`` follows it with a progress bar until it ends (exit status 0 when
it completed, 1 when it did not, 2 on --timeout), ``plot`` draws it
(needs matplotlib: ``pip install 'nova[plot]'``). ``db purge`` deletes
finished migrations last changed more than DAYS ago with their timelines,
after writing them as JSON lines to FILE with --archive.
"""

import argparse
import datetime
import json
import os
import sys

import nova.conf
from nova.compute import api as compute_api
from nova.db import api as db_api
from nova.db import defaults
from nova.cmd import live_migration
from nova.db import migration
from nova import exception
from nova.objects import migration as migration_obj

CONF = nova.conf.CONF


def _table(headers, rows, out):
    rows = [[('' if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows])
              for i, h in enumerate(headers)]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    out.write(line + '\n')
    out.write('| ' + ' | '.join(h.ljust(w) for h, w in zip(headers, widths))
              + ' |\n')
    out.write(line + '\n')
    for row in rows:
        out.write('| ' + ' | '.join(v.ljust(w) for v, w in zip(row, widths))
                  + ' |\n')
    out.write(line + '\n')


def _ensure_state_dir(url):
    """A SQLite file under a missing directory: create the directory."""
    import sqlalchemy as sa
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite' and parsed.database not in (
            None, '', ':memory:'):
        directory = os.path.dirname(os.path.abspath(parsed.database))
        os.makedirs(directory, exist_ok=True)


class Commands(object):

    def __init__(self, db, out):
        self.db = db
        self.out = out

    def db_sync(self, args):
        migration.db_sync(self.db.engine, args.revision)
        created = defaults.seed(self.db)
        self.out.write('Database at revision %s.\n'
                       % migration.db_version(self.db.engine))
        for name in created:
            self.out.write('Created flavor %s.\n' % name)
        return 0

    def db_version(self, args):
        self.out.write('%s\n' % (migration.db_version(self.db.engine) or
                                 'none (run "nova-manage db sync")'))
        return 0

    def flavor_create(self, args):
        row = db_api.flavor_create(self.db, {
            'name': args.name, 'memory_mb': args.memory,
            'vcpus': args.vcpus, 'root_gb': args.root_gb,
            'flavorid': args.id or args.name})
        self.out.write('Created flavor %s (id %s): %d MiB, %d vCPU.\n' % (
            row['name'], row['flavorid'], row['memory_mb'], row['vcpus']))
        return 0

    def flavor_list(self, args):
        _table(['ID', 'Name', 'Memory_MiB', 'VCPUs', 'Root_GB'],
               [(f['flavorid'], f['name'], f['memory_mb'], f['vcpus'],
                 f['root_gb']) for f in db_api.flavor_get_all(self.db)],
               self.out)
        return 0

    def image_create(self, args):
        for label, path in (('kernel', args.kernel),
                            ('initrd', args.initrd)):
            if not os.path.isabs(path):
                raise exception.Invalid(reason='the %s must be an absolute '
                                               'path: %s' % (label, path))
            if not os.path.exists(path) and not args.no_check:
                raise exception.Invalid(reason='no %s at %s (use '
                                               '--no-check for a path of '
                                               'the compute hosts)'
                                        % (label, path))
        values = {'name': args.name, 'kernel': args.kernel,
                  'initrd': args.initrd, 'cmdline': args.cmdline}
        if args.id:
            values['id'] = args.id
        row = db_api.image_create(self.db, values)
        self.out.write('Created image %s (id %s).\n'
                       % (row['name'], row['id']))
        return 0

    def image_list(self, args):
        _table(['ID', 'Name', 'Status', 'Kernel', 'Initrd', 'Cmdline'],
               [(i['id'], i['name'], i['status'], i['kernel'], i['initrd'],
                 i['cmdline']) for i in db_api.image_get_all(self.db)],
               self.out)
        return 0

    def service_list(self, args):
        api = compute_api.API(db=self.db, conf=CONF)
        _table(['Id', 'Binary', 'Host', 'Status', 'State', 'Last seen up'],
               [(s.id, s.binary, s.host, s.status, s.state, s.last_seen_up)
                for s in api.list_services(None)], self.out)
        return 0


class LiveMigrationCommands(object):
    """``live-migration`` and ``db purge``: a migration's timeline."""

    def __init__(self, db, out):
        self.db = db
        self.out = out

    def _load(self, migration_id):
        try:
            migration_id = int(migration_id)
        except (TypeError, ValueError):
            raise exception.Invalid(reason='a migration id is a number, '
                                           'not %r' % (migration_id,))
        mig = migration_obj.Migration.get_by_id(self.db, migration_id)
        return mig, mig.timeline()

    def show(self, args):
        mig, timeline = self._load(args.id)
        values = live_migration.summary(mig, timeline)
        if args.json:
            self.out.write(live_migration.dumps(values) + '\n')
        else:
            live_migration.write_show(values, self.out)
        return 0

    def watch(self, args):
        self._load(args.id)     # a wrong id fails before the first line
        try:
            return live_migration.watch(lambda: self._load(args.id),
                                        self.out, interval=args.interval,
                                        timeout=args.timeout)
        except KeyboardInterrupt:
            self.out.write('\n')
            return 130

    def plot(self, args):
        mig, timeline = self._load(args.id)
        path = live_migration.plot(mig, timeline, args.output)
        self.out.write('Wrote %s (%d samples, %d decisions).\n'
                       % (path, len(timeline.points), len(timeline.events)))
        return 0

    def purge(self, args):
        if args.older_than < 0:
            raise exception.Invalid(reason='--older-than must be 0 or more '
                                           'days')
        before = db_api.utcnow() - datetime.timedelta(days=args.older_than)
        rows = db_api.migration_get_finished_before(self.db, before,
                                                    migration_obj.FINAL)
        if args.archive and rows and not args.dry_run:
            with open(args.archive, 'a') as archive:
                for row in rows:
                    record = dict(row, timeline=db_api.migration_timeline_get(
                        self.db, row['id']))
                    archive.write(json.dumps(record, default=str,
                                             sort_keys=True) + '\n')
        if args.dry_run:
            self.out.write('Would purge %d finished migration(s) last '
                           'changed before %s.\n' % (len(rows), before))
            return 0
        migrations, timeline = db_api.migration_purge(
            self.db, [row['id'] for row in rows])
        self.out.write('Purged %d finished migration(s) last changed before '
                       '%s and %d timeline row(s)%s.\n' % (
                           migrations, before.replace(microsecond=0),
                           timeline, ' (archived to %s)' % args.archive
                           if args.archive and migrations else ''))
        return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog='nova-manage',
        description='Manage the database of the compute services.')
    parser.add_argument('--config-file', action='append', default=[],
                        help='nova.conf to read (repeatable)')
    parser.add_argument('--database-connection',
                        help='SQLAlchemy URL; overrides [database] '
                             'connection')
    categories = parser.add_subparsers(dest='category', metavar='CATEGORY')
    categories.required = True

    db = categories.add_parser('db', help='schema').add_subparsers(
        dest='action', metavar='ACTION')
    db.required = True
    sync = db.add_parser('sync', help='create or upgrade the schema and add '
                                      'the default flavors')
    sync.add_argument('--revision', default='head')
    sync.set_defaults(func='db_sync')
    db.add_parser('version', help='schema revision').set_defaults(
        func='db_version')
    purge = db.add_parser('purge', help='delete finished migrations and '
                                        'their timelines')
    purge.add_argument('--older-than', type=int, required=True,
                       metavar='DAYS',
                       help='only migrations last changed more than DAYS '
                            'days ago')
    purge.add_argument('--archive', metavar='FILE',
                       help='first append them, timelines included, to FILE '
                            'as JSON lines')
    purge.add_argument('--dry-run', action='store_true',
                       help='only count them')
    purge.set_defaults(func='purge', commands=LiveMigrationCommands)

    flavor = categories.add_parser('flavor', help='flavors').add_subparsers(
        dest='action', metavar='ACTION')
    flavor.required = True
    create = flavor.add_parser('create', help='add a flavor')
    create.add_argument('--name', required=True)
    create.add_argument('--memory', type=int, required=True,
                        help='RAM in MiB')
    create.add_argument('--vcpus', type=int, default=1)
    create.add_argument('--root-gb', type=int, default=0)
    create.add_argument('--id', help='flavor id (default: the name)')
    create.set_defaults(func='flavor_create')
    flavor.add_parser('list', help='list flavors').set_defaults(
        func='flavor_list')

    image = categories.add_parser('image', help='boot images').add_subparsers(
        dest='action', metavar='ACTION')
    image.required = True
    create = image.add_parser('create', help='add a boot image (kernel + '
                                             'initramfs + command line)')
    create.add_argument('--name', required=True)
    create.add_argument('--kernel', required=True,
                        help='absolute path of the kernel on the compute '
                             'hosts')
    create.add_argument('--initrd', required=True,
                        help='absolute path of the initramfs')
    create.add_argument('--cmdline', default='console=ttyS0',
                        help='kernel command line')
    create.add_argument('--id', help='image uuid (default: a new one)')
    create.add_argument('--no-check', action='store_true',
                        help='do not check that the files exist here')
    create.set_defaults(func='image_create')
    image.add_parser('list', help='list images').set_defaults(
        func='image_list')

    service = categories.add_parser('service', help='services')
    service = service.add_subparsers(dest='action', metavar='ACTION')
    service.required = True
    service.add_parser('list', help='list services').set_defaults(
        func='service_list')

    lm = categories.add_parser(
        'live-migration', help="a live migration's progress, ETA and "
                               'timeline').add_subparsers(
        dest='action', metavar='ACTION')
    lm.required = True
    show = lm.add_parser('show', help='state, ETA, verdict and decisions')
    show.add_argument('id', help='migration id')
    show.add_argument('--json', action='store_true')
    show.set_defaults(func='show', commands=LiveMigrationCommands)
    watch = lm.add_parser('watch', help='follow it with a progress bar '
                                        'until it ends')
    watch.add_argument('id', help='migration id')
    watch.add_argument('--interval', type=float, default=1.0,
                       help='seconds between refreshes (default 1)')
    watch.add_argument('--timeout', type=float,
                       help='stop watching after this many seconds')
    watch.set_defaults(func='watch', commands=LiveMigrationCommands)
    plot = lm.add_parser('plot', help='draw its saved timeline to a PNG')
    plot.add_argument('id', help='migration id')
    plot.add_argument('-o', '--output', required=True, help='PNG file')
    plot.set_defaults(func='plot', commands=LiveMigrationCommands)
    return parser


def main(argv=None, out=None):
    out = out or sys.stdout
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    CONF(['--config-file=%s' % f for f in args.config_file],
         project='nova', prog='nova-manage',
         default_config_files=[] if args.config_file else None)
    from nova.conf import validation
    problems = [problem for problem in validation.errors(CONF)
                if problem.startswith('[database]')]
    for problem in problems:
        sys.stderr.write('ERROR: invalid configuration: %s\n' % problem)
    if problems:
        return 1
    url = args.database_connection or CONF.database.connection
    _ensure_state_dir(url)
    db = db_api.get_database(url,
                             connect_timeout=CONF.database.connect_timeout,
                             read_timeout=CONF.database.read_timeout)
    try:
        db.check_connection()
        commands = getattr(args, 'commands', Commands)
        return getattr(commands(db, out), args.func)(args)
    except exception.NovaException as exc:
        sys.stderr.write('ERROR: %s\n' % exc)
        return 1


if __name__ == '__main__':
    sys.exit(main())
