"""Revision 0004: ``instances.root_gb`` added to a database at 0003 with a
server in it (SQLite; the model/migration comparison of every backend is
test_backends'). The old row keeps no size; new rows store the flavor's.
"""

import uuid as uuid_lib

import fixtures
import sqlalchemy as sa
import testtools

from nova.db import api as db_api
from nova.db import migration
from nova.objects import instance as instance_obj
from nova.virt.libvirt import disk


class Migration0004TestCase(testtools.TestCase):

    def setUp(self):
        super(Migration0004TestCase, self).setUp()
        path = self.useFixture(fixtures.TempDir()).path
        self.db = db_api.Database('sqlite:///%s/nova.sqlite' % path)
        self.addCleanup(self.db.dispose)

    def columns(self):
        return {c['name'] for c in sa.inspect(self.db.engine).get_columns(
            'instances')}

    def test_upgrade_from_0003_keeps_old_rows_without_a_size(self):
        migration.db_sync(self.db.engine, '0003')
        self.assertNotIn('root_gb', self.columns())
        old = str(uuid_lib.uuid4())
        with self.db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO instances (uuid, name, memory_mb, vcpus, "
                "deleted) VALUES (:uuid, 'old', 256, 1, 0)"), {'uuid': old})
        migration.db_sync(self.db.engine)
        self.assertEqual('0004', migration.db_version(self.db.engine))
        self.assertEqual(migration.head_revision(),
                         migration.db_version(self.db.engine))
        self.assertIn('root_gb', self.columns())
        inst = instance_obj.Instance.get_by_uuid(self.db, old)
        self.assertIsNone(inst.root_gb)
        # The driver reads no size as no disk: today's behaviour.
        self.assertEqual(0, disk.root_disk_bytes(inst.metadata,
                                                 inst.root_gb))
        new = db_api.instance_create(self.db, {'name': 'new', 'root_gb': 5})
        self.assertEqual(5, instance_obj.Instance.get_by_uuid(
            self.db, new['uuid']).root_gb)
