"""The world the API fuzzer talks to: the real compute API on a seeded
SQLite database, with a compute RPC API that only records casts.

The REST layer and ``nova.compute.api.API`` run unchanged (state checks,
host checks, database queries), so a request that would make either of
them fail with a 5xx fails here too; nothing runs a guest, so a request
costs a few milliseconds and no thread is started (the same code runs
with and without eventlet's monkey-patching).

``World.reset()`` puts the database back to the seeded state by copying
a template file made once per process.
"""

import datetime
import os
import sqlite3
import tempfile

from oslo_config import cfg

from nova.api.openstack import app as app_mod
from nova.compute import api as compute_api
from nova.db import api as db_api
from nova.db import defaults
from nova.db import migration as db_migration

# Callers the fuzzer uses, as noauth2 tokens "user:project".
ADMIN_TOKEN = 'admin:admin-project'
OWNER_TOKEN = 'demo:demo-project'
OTHER_TOKEN = 'eve:other-project'

HOST_UP = 'lab-a'
HOST_UP_2 = 'lab-b'
HOST_DISABLED = 'lab-c'
HOST_DOWN = 'lab-d'


class RecordingRPCAPI(object):
    """Stands in for nova.compute.rpcapi.ComputeAPI: records every cast."""

    def __init__(self):
        self.casts = []

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)

        def cast(ctx, *args, **kwargs):
            self.casts.append((name, args, kwargs))
        return cast


def _now():
    return db_api.utcnow()


def _seed(db):
    """Services, nodes, servers and migrations in the states that matter.

    Returns the ids the fuzzer draws path parameters from.
    """
    now = _now()
    long_ago = now - datetime.timedelta(days=1)
    for host in (HOST_UP, HOST_UP_2, HOST_DISABLED, HOST_DOWN):
        svc = db_api.service_register(db, host, 'nova-compute', 'compute')
        values = {}
        if host == HOST_DISABLED:
            values = {'disabled': True, 'disabled_reason': 'maintenance'}
        if host == HOST_DOWN:
            values = {'last_seen_up': long_ago, 'updated_at': long_ago}
        if values:
            db_api.service_update(db, svc['id'], values)
        db_api.compute_node_update_for_host(db, host, {
            'hypervisor_hostname': host, 'hypervisor_type': 'QEMU',
            'hypervisor_version': 8002000, 'vcpus': 4,
            'memory_mb': 4096, 'cpu_info': '{}'})
    image = db_api.image_create(db, {
        'name': 'busybox', 'kernel': '/boot/vmlinuz',
        'initrd': '/boot/initrd.img', 'cmdline': 'console=ttyS0'})
    servers = {}

    def server(key, project, host, vm_state='active', task_state=None):
        row = db_api.instance_create(db, {
            'name': key, 'flavor_id': '1', 'memory_mb': 256, 'vcpus': 1,
            'image_ref': image['id'], 'metadata': {}, 'project_id': project,
            'user_id': project.split('-')[0], 'power_state': 1,
            'progress': 0, 'vm_state': vm_state, 'task_state': task_state,
            'host': host, 'node': host})
        servers[key] = row['uuid']
        return row['uuid']

    server('admin-active', 'admin-project', HOST_UP)
    server('demo-active', 'demo-project', HOST_UP)
    server('demo-paused', 'demo-project', HOST_UP_2, vm_state='paused')
    server('error', 'demo-project', HOST_UP, vm_state='error')
    server('on-down-host', 'admin-project', HOST_DOWN)
    migrating = server('migrating', 'demo-project', HOST_UP,
                       task_state='migrating')
    migrations = []
    for status in ('queued', 'preparing', 'running', 'completed', 'failed'):
        row = db_api.migration_create(db, {
            'instance_uuid': migrating, 'source_compute': HOST_UP,
            'source_node': HOST_UP, 'dest_compute': HOST_UP_2,
            'dest_node': HOST_UP_2, 'dest_host': HOST_UP_2,
            'status': status, 'migration_type': 'live-migration',
            'project_id': 'demo-project', 'user_id': 'demo',
            'memory_total': 1 << 30, 'memory_processed': 1 << 29,
            'memory_remaining': 1 << 29})
        migrations.append(row)
    nodes = db_api.compute_node_get_all(db)
    services = db_api.service_get_all(db)
    return {
        'server_id': list(servers.values()),
        'migration_id': [str(m['id']) for m in migrations],
        'migration_uuid': [m['uuid'] for m in migrations],
        'hypervisor_id': ([str(n['id']) for n in nodes]
                          + [n['uuid'] for n in nodes]),
        'service_id': [str(s['id']) for s in services],
        'flavor_id': ['1', '2', '3'],
        'image_id': [image['id']],
        'host': [HOST_UP, HOST_UP_2, HOST_DISABLED, HOST_DOWN],
    }


_TEMPLATE = {}


def _template():
    """A seeded database file and its ids, made once per process."""
    if 'path' not in _TEMPLATE:
        path = os.path.join(tempfile.mkdtemp(prefix='nova-fuzz-'),
                            'template.sqlite')
        db = db_api.Database('sqlite:///%s' % path)
        try:
            db_migration.db_sync(db.engine)
            defaults.seed(db)
            _TEMPLATE['ids'] = _seed(db)
        finally:
            db.dispose()
        _TEMPLATE['path'] = path
    return _TEMPLATE['path'], _TEMPLATE['ids']


def _copy(source_path, target_path):
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


class World(object):
    """The WSGI app over the real compute API and a resettable database."""

    def __init__(self, conf, workdir):
        template, self.ids = _template()
        self._template = template
        self.path = os.path.join(workdir, 'nova.sqlite')
        _copy(template, self.path)
        self.db = db_api.Database('sqlite:///%s' % self.path)
        self.rpcapi = RecordingRPCAPI()
        api_conf = cfg.ConfigOpts()
        import nova.conf
        nova.conf.register_all(api_conf)
        api_conf(args=[], project='nova', default_config_files=[])
        self.compute_api = compute_api.API(db=self.db, conf=api_conf,
                                           compute_rpcapi=self.rpcapi)
        self.app = app_mod.build_app(conf, self.compute_api)

    def reset(self):
        """Back to the seeded records (drops what requests changed)."""
        self.db.dispose()
        _copy(self._template, self.path)
        self.rpcapi.casts[:] = []

    def close(self):
        self.db.dispose()
