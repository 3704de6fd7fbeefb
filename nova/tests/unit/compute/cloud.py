"""A small cloud in one process: a database, two compute services on the
fake hypervisor, the in-process RPC transport and the compute API.

The services run the real ComputeManager and the real LibvirtDriver; only
libvirt is simulated (``nova.simulator.libvirt``), on a sped-up real
clock, so migrations take real (short) time and requests can reach a
migration while it runs.
"""

import os
import sqlite3
import tempfile
import time
import uuid as uuid_lib

import fixtures
from oslo_config import cfg

from nova.compute import api as compute_api
from nova.compute import service as compute_service
from nova import context as nova_context
from nova.db import api as db_api
from nova.db import defaults
from nova.db import migration as db_migration
from nova import rpc
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host

MiB = migration_model.MiB
HOSTS = ('lab-a', 'lab-b')


_TEMPLATE = {}


def _template_database():
    """A synced, seeded SQLite file made once per test process."""
    if 'path' not in _TEMPLATE:
        path = os.path.join(tempfile.mkdtemp(prefix='nova-db-template-'),
                            'nova.sqlite')
        db = db_api.Database('sqlite:///%s' % path)
        db_migration.db_sync(db.engine)
        defaults.seed(db)
        db.dispose()
        _TEMPLATE['path'] = path
    return _TEMPLATE['path']


class DatabaseFixture(fixtures.Fixture):
    """A synced SQLite file in a temporary directory (a copy of a template
    made once per process: running the migrations takes a while).
    """

    def _setUp(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'nova.sqlite')
        source = sqlite3.connect(_template_database())
        target = sqlite3.connect(path)
        source.backup(target)
        target.close()
        source.close()
        self.url = 'sqlite:///%s' % path
        self.db = db_api.Database(self.url)
        self.addCleanup(self.db.dispose)
        self.image = db_api.image_create(self.db, {
            'name': 'busy', 'kernel': '/boot/vmlinuz',
            'initrd': '/boot/initrd.img', 'cmdline': 'console=ttyS0'})


class CloudFixture(fixtures.Fixture):
    """Two compute services (lab-a, lab-b) and an API, all in-process."""

    def __init__(self, speed=50.0, hosts=HOSTS, overrides=None,
                 link_mib_s=100.0, start=True):
        super(CloudFixture, self).__init__()
        self.speed = speed
        self.hosts = hosts
        self.overrides = overrides or {}
        self.link_mib_s = link_mib_s
        self.start = start

    def _setUp(self):
        # RPC server worker threads look for the stop flag every second;
        # tests stop services often.
        self.useFixture(fixtures.MonkeyPatch(
            'futurist._thread.ThreadWorker.MAX_IDLE_FOR', 0.02))
        self.database = self.useFixture(DatabaseFixture())
        self.db = self.database.db
        self.clock = fakelibvirt.RealTimeClock(speed=self.speed, tick=0.01)
        self.addCleanup(self.clock.stop)
        self.hv = fakelibvirt.Hypervisors(clock=self.clock)
        self.hv.set_link(migration_model.Link(
            bandwidth=self.link_mib_s * MiB, setup_time=0.2))
        for index, name in enumerate(self.hosts):
            self.hv.add_host(name, aliases=['198.18.0.%d' % (index + 1)])
        self.conf = cfg.ConfigOpts()
        import nova.conf
        nova.conf.register_all(self.conf)
        self.conf(args=[], project='nova', default_config_files=[])
        # A transport of our own: tests do not share in-process queues.
        self.transport = rpc.create_transport(
            self.conf, 'fake:///%s' % uuid_lib.uuid4().hex)
        self.addCleanup(self.transport.cleanup)
        self.services = {}
        self.api = compute_api.API(db=self.db, conf=self.conf,
                                   transport=self.transport)
        self.ctx = nova_context.RequestContext(
            'admin', 'admin-project', is_admin=True, roles=['admin'])
        if self.start:
            for name in self.hosts:
                self.start_service(name)

    def service_overrides(self, name):
        index = self.hosts.index(name)
        values = {
            'host': name,
            'report_interval': 1,
            'database': {'connection': self.database.url},
            'libvirt': {'connection_uri': self.hv.uri(name),
                        'live_migration_inbound_addr':
                            '198.18.0.%d' % (index + 1),
                        'virt_type': 'qemu'},
        }
        for key, value in self.overrides.items():
            if isinstance(value, dict):
                values.setdefault(key, {}).update(value)
            else:
                values[key] = value
        return values

    def make_driver(self, name, conf):
        host = libvirt_host.Host(self.hv.uri(name),
                                 libvirt_module=self.hv.module,
                                 event_loop=False)
        return libvirt_driver.LibvirtDriver(host=host, conf=conf,
                                            clock=self.clock)

    def start_service_with(self, name, extra):
        """Start ``name`` with more option overrides."""
        return self.start_service(name, extra)

    def start_service(self, name, extra=None):
        overrides = self.service_overrides(name)
        overrides.update(extra or {})
        conf = compute_service.build_conf(overrides=overrides,
                                          base=self.conf)
        svc = compute_service.ComputeService(
            conf=conf, driver=self.make_driver(name, conf), db=self.db,
            transport=self.transport)
        svc.start()
        self.services[name] = svc
        self.addCleanup(self.stop_service, name)
        return svc

    def stop_service(self, name):
        svc = self.services.pop(name, None)
        if svc is not None:
            svc.stop()

    # -- helpers ------------------------------------------------------------

    def boot(self, name='vm', flavor='2', host='lab-a', metadata=None,
             wait=True):
        inst = self.api.create_server(self.ctx, name, flavor,
                                      self.database.image['id'],
                                      metadata=metadata, host=host)
        if wait:
            self.wait_for(lambda: self.api.get_server(
                self.ctx, inst.uuid).vm_state in ('active', 'error'))
        return self.api.get_server(self.ctx, inst.uuid)

    def make_busy(self, uuid, dirty_mib_s=150.0, working_set_mib=256):
        """Give the guest a workload pre-copy alone cannot outrun."""
        for conn in self.hv.hosts.values():
            dom = conn.domains.get(uuid)
            if dom is not None:
                dom.workload = migration_model.Workload(
                    ram=dom.memory, dirty_rate=dirty_mib_s * MiB,
                    working_set=working_set_mib * MiB)
                return dom
        raise AssertionError('no guest %s' % uuid)

    def guest_hosts(self, uuid):
        return sorted(name for name, conn in self.hv.hosts.items()
                      if uuid in conn.domains)

    def migration(self, migration_id):
        return db_api.migration_get(self.db, migration_id)

    def wait_for(self, predicate, timeout=20.0, interval=0.01):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for %s' % predicate)
            time.sleep(interval)

    def wait_for_status(self, migration_id, statuses, timeout=20.0):
        if isinstance(statuses, str):
            statuses = (statuses,)
        self.wait_for(lambda: self.migration(migration_id)['status']
                      in statuses, timeout=timeout)
        return self.migration(migration_id)

    def wait_until_settled(self, migration_id, timeout=30.0):
        """Until the migration ended and its thread is done."""
        mig = self.wait_for_status(
            migration_id, ('completed', 'failed', 'error', 'cancelled'),
            timeout=timeout)
        source = self.services.get(mig['source_compute'])
        if source is not None:
            self.wait_for(lambda: source.manager.live_migration_job(
                migration_id) is None, timeout=timeout)
        return self.migration(migration_id)
