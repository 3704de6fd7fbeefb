"""Two compute services and an API client in separate processes, over a
real RabbitMQ.

Each compute service is a process of its own
(``nova.tests.functional.compute.fake_compute``: the real service, manager
and driver on the simulated libvirt); this test process is the API
client (``nova.compute.api.API``). They share an SQLite file and talk only
through RabbitMQ at 127.0.0.1:5672 (guest/guest; ``NOVA_TEST_RABBIT_URL``
points elsewhere). Skipped, with the reason, when no broker answers.

Covered over the wire: service registration and heartbeats, the build cast,
the live-migration cast to the source, the source's pre_live_migration and
post_live_migration_at_destination calls to the destination and their
answers, force-complete and abort casts reaching the running monitor, the
rollback cast, and the delete cast to the host the server moved to.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid as uuid_lib

from oslo_config import cfg
import testtools

import nova.conf
from nova.compute import api as compute_api
from nova import context as nova_context
from nova.db import api as db_api
from nova.db import defaults
from nova.db import migration as db_migration
from nova import rpc

RABBIT_URL = os.environ.get('NOVA_TEST_RABBIT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')
FINAL = ('completed', 'failed', 'error', 'cancelled')


def rabbit_reachable(url):
    """None when a broker answers the AMQP handshake, else why not."""
    try:
        import kombu
    except ImportError as exc:
        return 'kombu is not installed: %s' % exc
    try:
        with kombu.Connection(url.replace('rabbit://', 'amqp://'),
                              connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return 'RabbitMQ not reachable at %s: %s' % (url, exc)
    return None


def seeded_database(testcase, prefix):
    """A migrated, seeded SQLite database in a new temporary directory.

    Returns (directory, URL, Database); the database is disposed of at
    cleanup. Services in other processes open the same URL.
    """
    tmp = tempfile.mkdtemp(prefix=prefix)
    url = 'sqlite:///%s' % os.path.join(tmp, 'nova.sqlite')
    db = db_api.Database(url)
    testcase.addCleanup(db.dispose)
    db_migration.db_sync(db.engine)
    defaults.seed(db)
    return tmp, url, db


def free_name(prefix):
    return '%s-%s' % (prefix, uuid_lib.uuid4().hex[:6])


class MultiProcessRabbitTestCase(testtools.TestCase):

    def setUp(self):
        super(MultiProcessRabbitTestCase, self).setUp()
        reason = rabbit_reachable(RABBIT_URL)
        if reason:
            self.skipTest(reason)
        self.tmp, self.db_url, self.db = seeded_database(
            self, 'nova-rabbit-test-')
        self.image = db_api.image_create(self.db, {
            'name': 'busy', 'kernel': '/boot/vmlinuz',
            'initrd': '/boot/initrd.img', 'cmdline': 'console=ttyS0'})
        # Names of their own: several runs may share the broker.
        self.host_a = free_name('lab-a')
        self.host_b = free_name('lab-b')
        self.exchange = free_name('nova-test')
        self.hosts = '%s=198.18.0.1,%s=198.18.0.2' % (self.host_a,
                                                      self.host_b)
        self.conf = cfg.ConfigOpts()
        nova.conf.register_all(self.conf)
        self.conf(args=[], project='nova', default_config_files=[])
        self.conf.set_override('control_exchange', self.exchange)
        self.conf.set_override('live_migration_rpc_timeout', 20)
        self.transport = rpc.create_transport(self.conf, RABBIT_URL)
        self.addCleanup(self.transport.cleanup)
        self.api = compute_api.API(db=self.db, conf=self.conf,
                                   transport=self.transport)
        self.ctx = nova_context.RequestContext('admin', 'admin',
                                               is_admin=True,
                                               roles=['admin'])
        self.procs = {}
        for index, host in enumerate((self.host_a, self.host_b)):
            self.start_compute(host, '198.18.0.%d' % (index + 1))
        self.wait_for(lambda: {s.host: s.state for s in
                               self.api.list_services(self.ctx)} ==
                      {self.host_a: 'up', self.host_b: 'up'}, timeout=60)

    def start_compute(self, host, address):
        conf_path = os.path.join(self.tmp, '%s.conf' % host)
        with open(conf_path, 'w') as f:
            f.write('[DEFAULT]\nhost = %s\ntransport_url = %s\n'
                    'control_exchange = %s\nreport_interval = 1\n'
                    'live_migration_rpc_timeout = 20\n'
                    '[database]\nconnection = %s\n'
                    '[libvirt]\nvirt_type = qemu\n'
                    'live_migration_inbound_addr = %s\n'
                    % (host, RABBIT_URL, self.exchange, self.db_url,
                       address))
        log_path = os.path.join(self.tmp, '%s.log' % host)
        env = dict(os.environ, NOVA_FAKE_HOSTS=self.hosts,
                   NOVA_FAKE_SPEED='20', PYTHONUNBUFFERED='1')
        env.pop('NOVA_TEST_CONCURRENCY', None)
        log = open(log_path, 'w')
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'nova.tests.functional.compute.'
             'fake_compute', '--config-file', conf_path,
             '--log-file', log_path.replace('.log', '-service.log')],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env)
        self.procs[host] = (proc, log_path)
        self.addCleanup(self.stop_compute, host)

    def stop_compute(self, host):
        proc, log_path = self.procs.pop(host, (None, None))
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def logs(self):
        out = []
        for host, (_proc, path) in sorted(self.procs.items()):
            for suffix in ('.log', '-service.log'):
                name = path.replace('.log', suffix)
                if os.path.exists(name):
                    with open(name) as f:
                        out.append('--- %s ---\n%s' % (name, f.read()[-4000:]))
        return '\n'.join(out)

    def wait_for(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            for host, (proc, _log) in self.procs.items():
                if proc.poll() is not None:
                    self.fail('compute %s exited (%s):\n%s'
                              % (host, proc.returncode, self.logs()))
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s\n%s'
                          % (predicate, self.logs()))
            time.sleep(0.05)

    def boot(self, name, metadata=None):
        inst = self.api.create_server(self.ctx, name, '1',
                                      self.image['id'], metadata=metadata,
                                      host=self.host_a)
        self.wait_for(lambda: self.api.get_server(
            self.ctx, inst.uuid).vm_state == 'active')
        return inst

    def status(self, mig):
        return db_api.migration_get(self.db, mig.id)['status']

    def ended(self, mig):
        self.wait_for(lambda: self.status(mig) in FINAL, timeout=60)
        inst = self.api.get_server(self.ctx, mig.instance_uuid)
        self.wait_for(lambda: self.api.get_server(
            self.ctx, mig.instance_uuid).task_state is None)
        return self.status(mig), self.api.get_server(self.ctx, inst.uuid)

    def test_services_build_migrate_force_complete_abort_delete(self):
        nodes = {n.host for n in self.api.list_hypervisors(self.ctx)}
        self.assertEqual({self.host_a, self.host_b}, nodes)

        # An idle guest: pre-copy completes; the records follow the guest.
        idle = self.boot('idle')
        mig = self.api.live_migrate(self.ctx, idle.uuid, host=self.host_b)
        status, server = self.ended(mig)
        self.assertEqual('completed', status, self.logs())
        self.assertEqual((self.host_b, self.host_b, 1),
                         (server.host, server.node, server.power_state))

        # A busy guest: force-complete reaches the monitor on the source.
        busy = self.boot('busy', {'dirty_rate': '150', 'dirty_mib': '200'})
        mig = self.api.live_migrate(self.ctx, busy.uuid, host=self.host_b)
        self.wait_for(lambda: self.status(mig) == 'running')
        time.sleep(0.5)
        self.assertEqual('running', self.status(mig))
        self.assertEqual([mig.id], [m.id for m in
                                    self.api.list_server_migrations(
                                        self.ctx, busy.uuid)])
        self.api.live_migrate_force_complete(self.ctx, busy.uuid, mig.id)
        status, server = self.ended(mig)
        self.assertEqual('completed', status, self.logs())
        self.assertEqual(self.host_b, server.host)
        mig_row = db_api.migration_get(self.db, mig.id)
        self.assertGreater(mig_row['memory_processed'], 0)

        # Another busy guest: abort reaches the monitor; it stays on A.
        other = self.boot('other', {'dirty_rate': '150', 'dirty_mib': '200'})
        mig = self.api.live_migrate(self.ctx, other.uuid, host=self.host_b)
        self.wait_for(lambda: self.status(mig) == 'running')
        self.api.live_migrate_abort(self.ctx, other.uuid, mig.id)
        status, server = self.ended(mig)
        self.assertEqual('cancelled', status, self.logs())
        self.assertEqual(self.host_a, server.host)

        # Delete goes to the host the server moved to.
        self.api.delete_server(self.ctx, idle.uuid)
        self.wait_for(lambda: idle.uuid not in [
            s.uuid for s in self.api.list_servers(self.ctx)])

        # The services stop cleanly on SIGTERM.
        for host in (self.host_a, self.host_b):
            proc = self.procs[host][0]
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(0, proc.wait(timeout=20), self.logs())
