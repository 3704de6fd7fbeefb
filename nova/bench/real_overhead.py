"""The monitor's cost with its real costs: libvirt RPC and the database.

``nova.bench.overhead`` measures the monitor loop against the in-process
fake libvirt. Here every monitored migration does what a monitor does per
poll, with the real parts under it:

* ``Guest.get_job_info()`` over a libvirt connection: a real daemon (the
  lab's ``lab-a``, whose domains are started paused and answer jobStats
  like any domain that is not migrating), or the fake for the growth curve;
* the monitor's own work on the sample: ``ProgressTracker.observe`` and
  ``migration.decide`` (fed a running migration's figures, since the real
  domains do not migrate: the decision code must see a live job);
* every ``live_migration_monitor_interval`` (5 s), the migration's stats
  written to the database (PostgreSQL: a scratch database created and
  dropped by the run), as ``decide``'s SAVE_STATS asks.

Each migration is a native thread polling every 0.5 s. The figures are the
process's CPU (client side: RPC, decisions, SQL), and the libvirt daemon's
and PostgreSQL's CPU over the same window, read from /proc.
"""

import argparse
import json
import os
import resource
import sys
import threading
import time
import uuid as uuid_lib

from nova.db import api as db_api
from nova.db import migration as db_migration
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration

POLL_INTERVAL = 0.5
STATS_INTERVAL = 5.0
DEFAULT_PG_URL = os.environ.get(
    'NOVA_TEST_POSTGRESQL_URL',
    'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres')
MiB = 1024 ** 2
DOMAIN_XML = """<domain type='qemu'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='%(machine)s'>hvm</type></os>
  <devices><emulator>%(emulator)s</emulator></devices>
</domain>"""


def running_sample(elapsed):
    """A running migration's job statistics (1 GiB guest on 1 Gbit/s)."""
    sent = int(min(elapsed, 8.0) * 125e6 + max(elapsed - 8.0, 0) * 30e6)
    return libvirt_guest.JobInfo(
        type=libvirt_guest.JOB_UNBOUNDED, time_elapsed=int(elapsed * 1000),
        data_total=1024 * MiB, data_processed=sent,
        data_remaining=max(1024 * MiB - sent % (1024 * MiB), 0),
        memory_total=1024 * MiB, memory_processed=sent,
        memory_remaining=max(1024 * MiB - sent % (1024 * MiB), 0),
        memory_bps=125 * 10 ** 6, memory_dirty_rate=1000,
        memory_page_size=4096, memory_iteration=1 + int(elapsed // 8))


class Monitored(object):
    """One migration's monitor work on one guest, polled by a thread."""

    def __init__(self, guest, db, migration_id):
        self.guest = guest
        self.db = db
        self.migration_id = migration_id
        self.policy = migration.Policy(stats_interval=STATS_INTERVAL,
                                       ladder=((0, 50), (150, 95)))
        self.tracker = None
        self.postcopy = migration.PostcopyState()
        self.taken = migration.ActionsTaken()
        self.polls = self.saves = self.errors = 0

    def poll(self, now, started):
        try:
            self.guest.get_job_info()       # the real RPC (or the fake)
        except Exception:
            self.errors += 1
        elapsed = now - started
        info = running_sample(elapsed)
        if self.tracker is None:
            self.tracker = migration.ProgressTracker(started_at=now)
        self.tracker.observe(now, info.memory_iteration, info.data_remaining,
                             info.memory_dirty_bps, info.memory_bps,
                             processed=info.data_processed)
        for decision in migration.decide(
                now, elapsed, info, self.policy, migration.Requests(),
                self.tracker, self.postcopy, self.taken):
            if decision.action == migration.Action.SAVE_STATS:
                db_api.migration_update(self.db, self.migration_id,
                                        migration.migration_stats(info))
                self.taken.stats_saved_at = now
                self.taken.status_saved = migration.status_for(
                    self.postcopy)
                # As the monitor's applier: real figures went out.
                self.taken.totals_saved = (
                    self.taken.totals_saved or
                    info.data_total > 0)
                self.saves += 1
            elif decision.action == migration.Action.STEP_DOWNTIME:
                self.taken.downtime_step = decision.step
        self.polls += 1


def _proc_cpu(pids):
    """CPU seconds (user + system) of these processes, from /proc."""
    return sum(_proc_cpu_each(pids).values())


def _proc_cpu_each(pids):
    """{pid: CPU seconds} of the processes that still exist."""
    ticks = os.sysconf('SC_CLK_TCK')
    out = {}
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / float(ticks)
        except (OSError, ValueError, IndexError):
            pass
    return out


def _cpu_between(before, after):
    """CPU spent between two readings by processes alive at both."""
    return sum(max(after[p] - before[p], 0.0) for p in before if p in after)


def pids_named(name):
    pids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/comm' % entry) as f:
                    if f.read().strip() == name:
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


class ScratchPostgres(object):
    """A database of its own on the server: created, synced, dropped."""

    def __init__(self, admin_url=DEFAULT_PG_URL):
        import sqlalchemy as sa
        self._sa = sa
        self.name = 'nova_bench_%s' % uuid_lib.uuid4().hex[:10]
        self.admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT',
                                      connect_args={'connect_timeout': 3})
        with self.admin.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % self.name)
        url = sa.engine.make_url(admin_url).set(database=self.name)
        self.db = db_api.Database(url.render_as_string(hide_password=False))
        db_migration.db_sync(self.db.engine)

    def close(self):
        self.db.dispose()
        with self.admin.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE %s' % self.name)
        self.admin.dispose()


def _migrations(db, count):
    ids = []
    for _ in range(count):
        row = db_api.migration_create(db, {
            'instance_uuid': str(uuid_lib.uuid4()), 'status': 'running',
            'migration_type': 'live-migration', 'source_compute': 'src',
            'dest_compute': 'dest'})
        ids.append(row['id'])
    return ids


def real_guests(uri, count, machine, emulator):
    """``count`` paused transient domains on the daemon at ``uri``."""
    from nova.virt.libvirt import host as libvirt_host
    host = libvirt_host.Host(uri)   # with its event loop, as in nova
    conn, lv = host.get_connection(), host.libvirt
    domains = []
    try:
        for index in range(count):
            xml = DOMAIN_XML % {'name': 'nova-ovh-%03d' % index,
                                'uuid': str(uuid_lib.uuid4()),
                                'machine': machine, 'emulator': emulator}
            domains.append(conn.createXML(xml, lv.VIR_DOMAIN_START_PAUSED))
    except Exception:
        destroy(domains)
        raise
    return [libvirt_guest.Guest(d, lv) for d in domains], domains


def destroy(domains):
    for dom in domains:
        try:
            dom.destroy()
        except Exception:
            pass


def fake_guests(count):
    """``count`` running guests on the in-process fake libvirt."""
    from nova.simulator import libvirt as fakelibvirt
    hv = fakelibvirt.Hypervisors(clock=fakelibvirt.VirtualClock())
    hv.add_host('src')
    guests = []
    for index in range(count):
        dom = hv.define_guest('src', 'ovh-%03d' % index, 1024)
        guests.append(libvirt_guest.Guest(dom, hv.module))
    return guests


def run(guests, db, seconds, daemon_pids=(), warmup=2.0):
    """Poll every guest's monitor work for ``seconds``; the figures."""
    ids = _migrations(db, len(guests))
    monitors = [Monitored(g, db, i) for g, i in zip(guests, ids)]
    stop = threading.Event()
    started = time.monotonic()

    def loop(mon, offset):
        time.sleep(offset)
        while not stop.is_set():
            mon.poll(time.monotonic(), started)
            stop.wait(POLL_INTERVAL)

    threads = [threading.Thread(target=loop, args=(m, POLL_INTERVAL * i /
                                                   len(monitors)),
                                daemon=True)
               for i, m in enumerate(monitors)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    polls0 = sum(m.polls for m in monitors)
    saves0 = sum(m.saves for m in monitors)
    cpu0 = _self_cpu()
    pg = pids_named('postgres')
    daemon0, pg0 = _proc_cpu_each(daemon_pids), _proc_cpu_each(pg)
    wall0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - wall0
    cpu = _self_cpu() - cpu0
    daemon = _cpu_between(daemon0, _proc_cpu_each(daemon_pids))
    pgcpu = _cpu_between(pg0, _proc_cpu_each(pg))
    polls = sum(m.polls for m in monitors) - polls0
    saves = sum(m.saves for m in monitors) - saves0
    stop.set()
    for t in threads:
        t.join(5)
    return {
        'migrations': len(monitors), 'seconds': round(wall, 1),
        'polls': polls, 'saves': saves,
        'errors': sum(m.errors for m in monitors),
        'monitor_cpu_s': round(cpu, 2),
        'core_pct': round(100.0 * cpu / wall, 2),
        'cpu_per_poll_us': round(1e6 * cpu / max(polls, 1), 1),
        'libvirtd_core_pct': round(100.0 * daemon / wall, 2)
        if daemon_pids else None,
        'postgres_core_pct': round(100.0 * pgcpu / wall, 2),
    }


def _self_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The curve: real libvirt up to what fits on the lab, the fake beyond.
CURVE = (('lab', 50), ('lab', 100), ('fake', 100), ('fake', 200),
         ('fake', 500))
CSV_COLUMNS = ('backend', 'migrations', 'polls', 'saves', 'core_pct',
               'cpu_per_poll_us', 'libvirtd_core_pct', 'postgres_core_pct')
CSV_HEADERS = ('libvirt', 'migrations', 'polls', 'stats saves',
               '% of one core (monitors)', 'CPU per poll (us)',
               '% of one core (libvirtd)', '% of one core (PostgreSQL)')


def measure_in_subprocess(backend, migrations, seconds, db_url):
    """One configuration in a clean interpreter (its own CPU account)."""
    import subprocess
    out = subprocess.check_output(
        [sys.executable, '-m', 'nova.bench.real_overhead', '--backend',
         backend, '--migrations', str(migrations), '--seconds',
         str(seconds), '--db-url', db_url])
    return json.loads(out.decode().strip().splitlines()[-1])


def curve(seconds=20.0, db_url=DEFAULT_PG_URL, points=CURVE):
    """The figures of every configuration in ``points``, as CSV text."""
    from nova.bench import report
    rows = []
    for backend, migrations in points:
        figures = measure_in_subprocess(backend, migrations, seconds, db_url)
        sys.stderr.write('%s\n' % json.dumps(figures, sort_keys=True))
        rows.append([figures.get(c) for c in CSV_COLUMNS])
    return report.csv_text(CSV_HEADERS, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Monitor overhead with a real libvirt daemon and '
                    'PostgreSQL (run under flock /tmp/nova-lab.lock)')
    parser.add_argument('--curve', metavar='CSV', default=None,
                        help='run the whole curve (lab 50 and 100, fake '
                             '100, 200 and 500) and write it here')
    parser.add_argument('--backend', choices=('lab', 'fake'),
                        default='fake')
    parser.add_argument('--migrations', type=int, default=100)
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--db-url', default=DEFAULT_PG_URL)
    parser.add_argument('--lab-env', default='/var/tmp/nova-lab/lab.env')
    args = parser.parse_args(argv)
    if args.curve:
        text = curve(args.seconds, args.db_url)
        with open(args.curve, 'w') as f:
            f.write(text)
        sys.stdout.write(text)
        return 0
    scratch = ScratchPostgres(args.db_url)
    domains, daemon_pids = [], ()
    try:
        if args.backend == 'lab':
            env = _env(args.lab_env)
            guests, domains = real_guests(
                env['NOVA_LAB_A_URI'], args.migrations,
                env['NOVA_LAB_MACHINE_TYPE'], env['NOVA_LAB_EMULATOR'])
            pidfile = os.path.join(env['NOVA_LAB_A_STATE_DIR'], 'run',
                                   'libvirtd.pid')
            with open(pidfile) as f:
                daemon_pids = (int(f.read().strip()),)
        else:
            guests = fake_guests(args.migrations)
        figures = run(guests, scratch.db, args.seconds, daemon_pids)
        figures['backend'] = args.backend
    finally:
        destroy(domains)
        scratch.close()
    json.dump(figures, sys.stdout, sort_keys=True)
    sys.stdout.write('\n')
    return 0


def _env(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#') and '=' in line:
                key, value = line.split('=', 1)
                values[key] = value
    return values


if __name__ == '__main__':
    sys.exit(main())
