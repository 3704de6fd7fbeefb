"""A live migration that ends in error leaves the server a fault: the
migration's last decision and its reason, shown once the server is in
ERROR."""

import types
from unittest import mock

import testtools

from nova.compute import manager as compute_manager
from nova.compute import migration_timeline as mtl
from nova.db import api as db_api
from nova.objects import instance as instance_obj
from nova.objects import migration as migration_obj
from nova.tests.unit.compute import cloud


class MigrationFaultTestCase(testtools.TestCase):

    def setUp(self):
        super(MigrationFaultTestCase, self).setUp()
        self.db = self.useFixture(cloud.DatabaseFixture()).db
        row = db_api.instance_create(self.db, {
            'name': 'vm', 'host': 'lab-a', 'vm_state': 'active',
            'task_state': 'migrating'})
        self.inst = instance_obj.Instance.get_by_uuid(self.db, row['uuid'])
        mig = db_api.migration_create(self.db, {
            'instance_uuid': row['uuid'], 'status': 'running',
            'migration_type': 'live-migration', 'source_compute': 'lab-a',
            'dest_compute': 'lab-b'})
        self.mig = migration_obj.Migration.get_by_id(self.db, mig['id'])
        driver = mock.Mock()
        driver.get_power_state.return_value = 1
        conf = types.SimpleNamespace(max_concurrent_live_migrations=1,
                                     live_migration_rpc_timeout=1)
        self.manager = compute_manager.ComputeManager(
            'lab-a', driver, self.db, mock.Mock(), conf)

    def fault(self):
        return instance_obj.Instance.get_by_uuid(self.db,
                                                 self.inst.uuid).fault_message

    def test_unrecovered_post_copy_names_the_last_decision(self):
        self.mig.add_timeline_event(mtl.TimelineEvent(
            6.0, 'postcopy', 'no progress over 3 passes'))
        self.mig.add_timeline_event(mtl.TimelineEvent(
            30.0, 'postcopy-recovery-failed', 'resume refused 3 times'))
        data = types.SimpleNamespace(migration=self.mig,
                                     postcopy_unrecovered=True)
        self.manager._rollback_live_migration(None, self.inst, 'lab-b', data)
        got = instance_obj.Instance.get_by_uuid(self.db, self.inst.uuid)
        self.assertEqual('error', got.vm_state)
        self.assertEqual(
            'Live migration %s to lab-b ended in error: '
            'postcopy-recovery-failed after 30.0 s: resume refused 3 times'
            % self.mig.id, got.fault_message)

    def test_failed_or_cancelled_leave_no_fault(self):
        data = types.SimpleNamespace(migration=self.mig)
        self.manager._rollback_live_migration(
            None, self.inst, 'lab-b', data,
            migration_status=migration_obj.FAILED)
        self.assertIsNone(self.fault())

    def test_destination_failure(self):
        self.manager.compute_rpcapi.post_live_migration_at_destination.\
            side_effect = RuntimeError('lab-b did not answer')
        data = types.SimpleNamespace(migration=self.mig)
        self.manager._post_live_migration(None, self.inst, 'lab-b', False,
                                          data)
        self.assertIn('the destination could not finish it: lab-b did not '
                      'answer', self.fault())
        self.assertEqual('error', migration_obj.Migration.get_by_id(
            self.db, self.mig.id).status)
