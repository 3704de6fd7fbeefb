"""The schema and the queries on every database backend.

SQLite always runs. PostgreSQL and MySQL/MariaDB run opportunistically
(the oslo.db convention): when a server answers on 127.0.0.1 with the
test credentials (PostgreSQL: user postgres or root, trust auth, database
``test``; MariaDB: root with an empty password, database ``test``) each
test class works in a database of its own, created and dropped here;
otherwise the tests are skipped with the reason. ``NOVA_TEST_POSTGRESQL_URL``
and ``NOVA_TEST_MYSQL_URL`` point them elsewhere.
"""

import datetime
import os
import uuid as uuid_lib

from alembic import autogenerate
from alembic import migration as alembic_migration
import fixtures
import sqlalchemy as sa
import testtools

from nova.db import api as db_api
from nova.db import defaults
from nova.db import migration
from nova.db import models
from nova import exception

POSTGRESQL_URLS = [os.environ.get('NOVA_TEST_POSTGRESQL_URL')] if os.environ.get(
    'NOVA_TEST_POSTGRESQL_URL') else [
    'postgresql+psycopg2://postgres@127.0.0.1:5432/test',
    'postgresql+psycopg2://root@127.0.0.1:5432/test']
MYSQL_URLS = [os.environ.get('NOVA_TEST_MYSQL_URL')] if os.environ.get(
    'NOVA_TEST_MYSQL_URL') else [
    'mysql+pymysql://root:@127.0.0.1:3306/test']


def _reachable(urls):
    """(url, None) of the first server that answers, or (None, reason)."""
    reasons = []
    for url in urls:
        try:
            engine = sa.create_engine(url, connect_args=_timeout(url))
            with engine.connect() as conn:
                conn.exec_driver_sql('SELECT 1')
            engine.dispose()
            return url, None
        except Exception as exc:  # no driver, no server, bad credentials
            first = str(exc).strip().splitlines()[0] if str(exc) else exc
            reasons.append('%s: %s' % (sa.engine.make_url(url)
                                       .render_as_string(hide_password=True),
                                       first))
    return None, '; '.join(reasons)


def _timeout(url):
    name = sa.engine.make_url(url).get_backend_name()
    return {'connect_timeout': 3} if name in ('postgresql', 'mysql') else {}


class ScratchDatabase(fixtures.Fixture):
    """A database of its own on a server: created, then dropped."""

    def __init__(self, admin_url):
        super(ScratchDatabase, self).__init__()
        self.admin_url = admin_url

    def _setUp(self):
        name = 'nova_test_%s' % uuid_lib.uuid4().hex[:12]
        admin = sa.create_engine(self.admin_url,
                                 isolation_level='AUTOCOMMIT',
                                 connect_args=_timeout(self.admin_url))
        with admin.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % name)

        def drop():
            with admin.connect() as conn:
                conn.exec_driver_sql('DROP DATABASE %s' % name)
            admin.dispose()
        self.addCleanup(drop)
        self.url = sa.engine.make_url(self.admin_url).set(
            database=name).render_as_string(hide_password=False)


class BackendTestMixin(object):
    """The tests; subclasses say which database."""

    def make_url(self):
        raise NotImplementedError()

    def setUp(self):
        super(BackendTestMixin, self).setUp()
        self.db = db_api.Database(self.make_url())
        self.addCleanup(self.db.dispose)
        migration.db_sync(self.db.engine)

    def test_schema_is_at_head_and_sync_is_idempotent(self):
        self.assertEqual(migration.head_revision(),
                         migration.db_version(self.db.engine))
        migration.db_sync(self.db.engine)
        self.assertEqual(migration.head_revision(),
                         migration.db_version(self.db.engine))

    def test_models_match_migrations(self):
        with self.db.engine.connect() as conn:
            context = alembic_migration.MigrationContext.configure(conn)
            diff = autogenerate.compare_metadata(context,
                                                 models.Base.metadata)
        self.assertEqual([], diff)

    def test_seed_and_flavors(self):
        self.assertEqual(['lab.small', 'lab.medium', 'lab.large'],
                         defaults.seed(self.db))
        self.assertEqual([], defaults.seed(self.db))
        self.assertEqual(256, db_api.flavor_get_by_flavorid(
            self.db, '1')['memory_mb'])
        self.assertRaises(exception.FlavorExists, db_api.flavor_create,
                          self.db, {'name': 'lab.small', 'memory_mb': 1,
                                    'vcpus': 1})

    def test_instances(self):
        row = db_api.instance_create(self.db, {
            'name': 'vm', 'host': 'a', 'vm_state': 'active',
            'memory_mb': 512, 'vcpus': 1,
            'metadata': {'dirty_mib': '64'}})
        got = db_api.instance_get_by_uuid(self.db, row['uuid'])
        self.assertEqual({'dirty_mib': '64'}, got['metadata'])
        self.assertIsNotNone(got['created_at'])
        # Conditional updates: only the expected state wins.
        self.assertTrue(db_api.instance_update(
            self.db, row['uuid'], {'task_state': 'migrating'},
            expected={'task_state': None, 'vm_state': ['active', 'paused']}))
        self.assertFalse(db_api.instance_update(
            self.db, row['uuid'], {'task_state': 'migrating'},
            expected={'task_state': None}))
        self.assertEqual({'a': (1, 512, 1)},
                         db_api.instance_usage_by_host(self.db))
        self.assertEqual(1, len(db_api.instance_get_all(
            self.db, {'host': 'a', 'task_state': 'migrating'})))
        db_api.instance_destroy(self.db, row['uuid'])
        self.assertRaises(exception.InstanceNotFound,
                          db_api.instance_get_by_uuid, self.db, row['uuid'])
        self.assertEqual('deleted', db_api.instance_get_by_uuid(
            self.db, row['uuid'], read_deleted=True)['vm_state'])
        self.assertEqual([], db_api.instance_get_all(self.db))
        self.assertEqual({}, db_api.instance_usage_by_host(self.db))

    def test_migrations(self):
        ids = []
        for status in ('completed', 'running', 'queued'):
            ids.append(db_api.migration_create(self.db, {
                'instance_uuid': 'i-1', 'source_compute': 'a',
                'dest_compute': 'b', 'status': status,
                'migration_type': 'live-migration',
                'memory_total': 5 * 1024 ** 3})['id'])
        rows = db_api.migration_get_all(self.db)
        self.assertEqual(list(reversed(ids)), [r['id'] for r in rows])
        self.assertEqual(5 * 1024 ** 3, rows[0]['memory_total'])
        self.assertEqual([ids[1], ids[2]][::-1], [r['id'] for r in (
            db_api.migration_get_all(self.db, {
                'status': ['queued', 'running']}))])
        self.assertTrue(db_api.migration_update(
            self.db, ids[2], {'status': 'preparing'},
            expected={'status': 'queued'}))
        self.assertFalse(db_api.migration_update(
            self.db, ids[2], {'status': 'preparing'},
            expected={'status': 'queued'}))
        row = db_api.migration_get(self.db, ids[2])
        self.assertIsNotNone(row['updated_at'])
        self.assertRaises(exception.MigrationNotFoundForInstance,
                          db_api.migration_get_by_id_and_instance, self.db,
                          ids[0], 'i-2')
        later = db_api.utcnow() + datetime.timedelta(minutes=5)
        self.assertEqual([], db_api.migration_get_all(
            self.db, {'changes-since': later}))

    def test_services_and_nodes(self):
        svc = db_api.service_register(self.db, 'a', 'nova-compute',
                                      'compute')
        again = db_api.service_register(self.db, 'a', 'nova-compute',
                                        'compute')
        self.assertEqual(svc['id'], again['id'])
        db_api.service_heartbeat(self.db, svc['id'])
        self.assertEqual(1, db_api.service_get(self.db,
                                               svc['id'])['report_count'])
        node = db_api.compute_node_update_for_host(self.db, 'a', {
            'hypervisor_hostname': 'a', 'vcpus': 4, 'memory_mb': 8192,
            'hypervisor_version': 7002000})
        node2 = db_api.compute_node_update_for_host(self.db, 'a', {
            'hypervisor_hostname': 'a', 'vcpus': 4, 'memory_mb': 8192,
            'running_vms': 2})
        self.assertEqual(node['id'], node2['id'])
        self.assertEqual(2, db_api.compute_node_get_by_host(
            self.db, 'a')['running_vms'])


class SQLiteTestCase(BackendTestMixin, testtools.TestCase):

    def make_url(self):
        path = self.useFixture(fixtures.TempDir()).path
        return 'sqlite:///%s/nova.sqlite' % path


class PostgreSQLTestCase(BackendTestMixin, testtools.TestCase):

    def make_url(self):
        url, reason = _reachable(POSTGRESQL_URLS)
        if url is None:
            self.skipTest('PostgreSQL not reachable: %s' % reason)
        return self.useFixture(ScratchDatabase(url)).url


class MySQLTestCase(BackendTestMixin, testtools.TestCase):

    def make_url(self):
        url, reason = _reachable(MYSQL_URLS)
        if url is None:
            self.skipTest('MySQL/MariaDB not reachable: %s' % reason)
        return self.useFixture(ScratchDatabase(url)).url
