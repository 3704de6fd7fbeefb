"""A compute service whose hypervisor stops answering takes no new work.

Found by the fault drill that kills a lab host's libvirt daemon: the
service kept beating, so os-services showed it up and enabled and the API
sent builds and migrations to a host that could only fail them. Like Nova,
the service now disables itself ("AUTO: Connection to libvirt lost") and
enables itself again when the hypervisor answers; a service an operator
disabled stays as the operator left it.
"""

from unittest import mock

import fixtures
import testtools

from nova.compute import manager as compute_manager
from nova.db import api as db_api
from nova import exception
from nova.tests.unit.compute import cloud


class HypervisorLostTestCase(testtools.TestCase):

    def setUp(self):
        super(HypervisorLostTestCase, self).setUp()
        self.useFixture(fixtures.FakeLogger(level='INFO'))
        self.cloud = self.useFixture(cloud.CloudFixture())
        self.svc = self.cloud.services['lab-b']
        self.manager = self.svc.manager

    def service(self):
        return db_api.service_get(self.cloud.db, self.manager.service_id)

    def lost(self):
        return mock.patch.object(
            self.manager.driver, 'get_available_resource',
            side_effect=RuntimeError('Cannot recv data: Connection reset'))

    def test_disabled_while_lost_enabled_when_back(self):
        inst = self.cloud.boot()
        with self.lost():
            self.assertRaises(RuntimeError, self.manager.periodic_tasks,
                              self.svc.context)
            row = self.service()
            self.assertTrue(row['disabled'])
            self.assertEqual(
                compute_manager.HYPERVISOR_LOST +
                ': Cannot recv data: Connection reset',
                row['disabled_reason'])
            # The API no longer sends a migration there.
            self.assertRaises(exception.MigrationPreCheckError,
                              self.cloud.api.live_migrate, self.cloud.ctx,
                              inst.uuid, host='lab-b')
        self.manager.periodic_tasks(self.svc.context)
        row = self.service()
        self.assertFalse(row['disabled'])
        self.assertIsNone(row['disabled_reason'])

    def test_operator_disabled_service_left_alone(self):
        db_api.service_update(self.cloud.db, self.manager.service_id,
                              {'disabled': True,
                               'disabled_reason': 'maintenance'})
        with self.lost():
            self.assertRaises(RuntimeError, self.manager.periodic_tasks,
                              self.svc.context)
        self.assertEqual('maintenance', self.service()['disabled_reason'])
        self.manager.periodic_tasks(self.svc.context)
        row = self.service()
        self.assertTrue(row['disabled'])
        self.assertEqual('maintenance', row['disabled_reason'])

    def test_left_disabled_by_a_previous_run_is_enabled(self):
        db_api.service_update(self.cloud.db, self.manager.service_id,
                              {'disabled': True,
                               'disabled_reason':
                                   compute_manager.HYPERVISOR_LOST + ': x'})
        self.manager._auto_disabled = None      # as after a restart
        self.manager.periodic_tasks(self.svc.context)
        self.assertFalse(self.service()['disabled'])
