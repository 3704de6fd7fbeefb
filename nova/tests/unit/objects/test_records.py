"""Records: the attribute + save() surface the driver uses, change
tracking, and DB-backed saves that write only what changed."""

import datetime

import testtools

from nova.db import api as db_api
from nova.objects import instance as instance_obj
from nova.objects import migration as migration_obj
from nova.objects import service as service_obj
from nova.tests.unit.compute import cloud


class RecordTestCase(testtools.TestCase):

    def test_constructor_and_saver_as_the_driver_uses_them(self):
        saved = []
        mig = migration_obj.Migration(status='preparing',
                                      saver=lambda m: saved.append(
                                          m.status))
        self.assertEqual(('live-migration', 0), (mig.migration_type,
                                                 mig.memory_total))
        mig.status = 'running'
        mig.save()
        self.assertEqual((['running'], 1), (saved, mig.save_count))
        self.assertRaises(TypeError, migration_obj.Migration, bogus=1)

    def test_changes(self):
        inst = instance_obj.Instance(uuid='u', metadata={'a': '1'})
        self.assertEqual({}, inst.obj_get_changes())
        inst.progress = 40
        inst.metadata['a'] = '2'
        self.assertEqual({'progress': 40, 'metadata': {'a': '2'}},
                         inst.obj_get_changes())
        inst.obj_reset_changes()
        self.assertEqual({}, inst.obj_get_changes())

    def test_statuses(self):
        self.assertTrue(migration_obj.Migration(status='queued').in_progress)
        self.assertTrue(migration_obj.Migration(
            status='running (post-copy)').in_progress)
        self.assertFalse(migration_obj.Migration(
            status='cancelled').in_progress)

    def test_service_is_up(self):
        now = db_api.utcnow()
        ago = lambda s: now - datetime.timedelta(seconds=s)
        self.assertTrue(service_obj.service_is_up(False, ago(10), None,
                                                  None, now, 60))
        self.assertFalse(service_obj.service_is_up(False, ago(61), None,
                                                   None, now, 60))
        self.assertFalse(service_obj.service_is_up(True, ago(1), None, None,
                                                   now, 60))
        self.assertFalse(service_obj.service_is_up(False, None, None, None,
                                                   now, 60))


class DBRecordTestCase(testtools.TestCase):

    def setUp(self):
        super(DBRecordTestCase, self).setUp()
        self.db = self.useFixture(cloud.DatabaseFixture()).db

    def test_saves_land_in_the_database_and_only_changes(self):
        row = db_api.instance_create(self.db, {'name': 'vm', 'host': 'a',
                                               'vm_state': 'active'})
        mine = instance_obj.Instance.get_by_uuid(self.db, row['uuid'])
        theirs = instance_obj.Instance.get_by_uuid(self.db, row['uuid'])
        theirs.task_state = 'migrating'
        theirs.save()
        mine.progress = 55           # the driver's stats save
        mine.save()
        fresh = instance_obj.Instance.get_by_uuid(self.db, row['uuid'])
        self.assertEqual((55, 'migrating'),
                         (fresh.progress, fresh.task_state))

    def test_migration_from_db(self):
        row = db_api.migration_create(self.db, {
            'instance_uuid': 'u', 'status': 'running',
            'migration_type': 'live-migration'})
        mig = migration_obj.Migration.get_by_id(self.db, row['id'])
        mig.memory_total, mig.memory_remaining = 100, 40
        mig.save()
        self.assertEqual((100, 40, 'running'), tuple(
            db_api.migration_get(self.db, row['id'])[k]
            for k in ('memory_total', 'memory_remaining', 'status')))
        found = migration_obj.Migration.get_all(self.db,
                                                {'instance_uuid': 'u'})
        self.assertEqual([row['id']], [m.id for m in found])
