"""pause, unpause, suspend and resume through the whole stack.

compute API -> RPC -> ComputeManager -> LibvirtDriver -> Guest, on the
simulated libvirt (suspend is libvirt's managed save there too); and the
host facts os-hypervisors shows (cpu_info, uptime).
"""

import json

import fixtures
import testtools

from nova.compute import states
from nova.db import api as db_api
from nova import exception
from nova.tests.unit.compute import cloud


class PowerActionsTestCase(testtools.TestCase):

    def setUp(self):
        super(PowerActionsTestCase, self).setUp()
        self.cloud = self.useFixture(cloud.CloudFixture())
        self.api = self.cloud.api
        self.ctx = self.cloud.ctx
        self.inst = self.cloud.boot()
        self.assertEqual(states.ACTIVE, self.inst.vm_state)

    def server(self):
        return self.api.get_server(self.ctx, self.inst.uuid)

    def wait_vm_state(self, vm_state):
        self.cloud.wait_for(
            lambda: (self.server().vm_state, self.server().task_state)
            == (vm_state, None))
        return self.server()

    def domain(self, host='lab-a'):
        return self.cloud.hv.hosts[host].domains[self.inst.uuid]

    def test_pause_and_unpause(self):
        self.api.pause(self.ctx, self.inst.uuid)
        self.assertEqual(states.PAUSING, self.server().task_state)
        inst = self.wait_vm_state(states.PAUSED)
        self.assertEqual(states.PAUSED_POWER, inst.power_state)
        self.assertEqual(3, self.domain().state()[0])  # VIR_DOMAIN_PAUSED
        self.api.unpause(self.ctx, self.inst.uuid)
        inst = self.wait_vm_state(states.ACTIVE)
        self.assertEqual(states.RUNNING, inst.power_state)

    def test_suspend_is_a_managed_save_and_resume_restores(self):
        self.api.suspend(self.ctx, self.inst.uuid)
        inst = self.wait_vm_state(states.SUSPENDED_VM)
        self.assertEqual(states.SHUTDOWN, inst.power_state)
        dom = self.domain()
        self.assertEqual(1, dom.hasManagedSaveImage(0))
        self.assertFalse(dom.isActive())
        self.api.resume(self.ctx, self.inst.uuid)
        inst = self.wait_vm_state(states.ACTIVE)
        self.assertEqual(states.RUNNING, inst.power_state)
        self.assertEqual(0, dom.hasManagedSaveImage(0))
        self.assertIn('restored', [what for _t, what in dom.history])

    def test_delete_suspended_server_drops_the_saved_image(self):
        self.api.suspend(self.ctx, self.inst.uuid)
        self.wait_vm_state(states.SUSPENDED_VM)
        self.api.delete_server(self.ctx, self.inst.uuid)
        self.cloud.wait_for(
            lambda: self.inst.uuid not in self.cloud.hv.hosts[
                'lab-a'].domains)

    def test_wrong_states_are_409(self):
        for action in (self.api.unpause, self.api.resume):
            exc = self.assertRaises(exception.InstanceInvalidState, action,
                                    self.ctx, self.inst.uuid)
            self.assertEqual(409, exc.code)
        self.api.suspend(self.ctx, self.inst.uuid)
        self.wait_vm_state(states.SUSPENDED_VM)
        for action in (self.api.pause, self.api.suspend,
                       self.api.unpause):
            self.assertRaises(exception.InstanceInvalidState, action,
                              self.ctx, self.inst.uuid)
        # Nova refuses to live-migrate a suspended server: 409.
        self.assertRaises(exception.InstanceInvalidState,
                          self.api.live_migrate, self.ctx, self.inst.uuid)

    def test_paused_server_live_migrates_and_stays_paused(self):
        self.api.pause(self.ctx, self.inst.uuid)
        self.wait_vm_state(states.PAUSED)
        mig = self.api.live_migrate(self.ctx, self.inst.uuid)
        self.cloud.wait_until_settled(mig.id)
        self.assertEqual('completed', self.cloud.migration(mig.id)['status'])
        inst = self.wait_vm_state(states.PAUSED)
        self.assertEqual('lab-b', inst.host)
        self.assertEqual(3, self.domain('lab-b').state()[0])

    def test_driver_failure_keeps_vm_state_and_records_fault(self):
        self.domain().destroy()     # the guest is gone behind our back
        self.api.pause(self.ctx, self.inst.uuid)
        inst = self.wait_vm_state(states.ACTIVE)
        self.assertIn('Pause of instance', inst.fault_message)

    def test_reset_state_forces_vm_state_and_clears_the_task(self):
        self.api.reset_state(self.ctx, self.inst.uuid, 'error')
        inst = self.server()
        self.assertEqual(('error', None), (inst.vm_state, inst.task_state))
        self.assertRaises(exception.Invalid, self.api.reset_state, self.ctx,
                          self.inst.uuid, 'paused')

    def test_host_uptime_and_cpu_info(self):
        line = self.api.get_host_uptime(self.ctx, 'lab-a')
        self.assertIn(' up ', line)
        self.assertIn('load average:', line)
        self.assertRaises(exception.ComputeHostNotFound,
                          self.api.get_host_uptime, self.ctx, 'nope')
        (node,) = [n for n in self.api.list_hypervisors(self.ctx)
                   if n.host == 'lab-a']
        info = json.loads(node.cpu_info)
        self.assertEqual('x86_64', info['arch'])
        self.assertEqual('Intel', info['vendor'])
        self.assertEqual({'sockets': 1, 'cores': 2, 'threads': 2},
                         info['topology'])


class CreateRecordsTestCase(testtools.TestCase):
    """What a create records for microversions 2.90 and 2.96."""

    def setUp(self):
        super(CreateRecordsTestCase, self).setUp()
        self.cloud = self.useFixture(cloud.CloudFixture(start=False))

    def test_hostname_and_pinned_zone(self):
        api, ctx = self.cloud.api, self.cloud.ctx
        image = self.cloud.database.image['id']
        inst = api.create_server(ctx, 'Web Server_1', '1', image,
                                 hostname='web.example.org',
                                 availability_zone='nova')
        inst = api.get_server(ctx, inst.uuid)
        self.assertEqual(('web.example.org', 'nova'),
                         (inst.hostname, inst.pinned_availability_zone))
        inst = api.create_server(ctx, 'Web Server_1', '1', image)
        inst = api.get_server(ctx, inst.uuid)
        self.assertEqual(('web-server-1', None),
                         (inst.hostname, inst.pinned_availability_zone))


class PowerActionCastFailsTestCase(testtools.TestCase):
    """The host cannot be reached: the API answers 503 and the server is
    left as it was, so the operator can simply try again.
    """

    def setUp(self):
        super(PowerActionCastFailsTestCase, self).setUp()
        self.cloud = self.useFixture(cloud.CloudFixture())
        self.api = self.cloud.api
        self.ctx = self.cloud.ctx
        self.inst = self.cloud.boot()

    def fail_cast(self, method):
        self.useFixture(fixtures.MockPatchObject(
            self.api.compute_rpcapi, '%s_instance' % method,
            side_effect=exception.MessagingUnavailable(reason='timed out')))

    def test_each_action_undoes_its_task_state(self):
        for method, vm_state in (('pause', states.ACTIVE),
                                 ('suspend', states.ACTIVE)):
            with fixtures.MockPatchObject(
                    self.api.compute_rpcapi, '%s_instance' % method,
                    side_effect=exception.MessagingUnavailable(
                        reason='timed out')):
                exc = self.assertRaises(exception.MessagingUnavailable,
                                        getattr(self.api, method),
                                        self.ctx, self.inst.uuid)
            self.assertEqual(503, exc.code)
            server = self.api.get_server(self.ctx, self.inst.uuid)
            self.assertEqual((vm_state, None),
                             (server.vm_state, server.task_state), method)

    def test_retry_after_failure_works(self):
        self.fail_cast('pause')
        self.assertRaises(exception.MessagingUnavailable, self.api.pause,
                          self.ctx, self.inst.uuid)
        self.useFixture(fixtures.MockPatchObject(
            self.api.compute_rpcapi, 'pause_instance'))
        self.api.pause(self.ctx, self.inst.uuid)
        self.assertEqual(states.PAUSING, self.api.get_server(
            self.ctx, self.inst.uuid).task_state)

    def test_unpause_and_resume_undo_too(self):
        for method, claim, vm_state in (
                ('unpause', states.UNPAUSING, states.PAUSED),
                ('resume', states.RESUMING, states.SUSPENDED_VM)):
            db_api.instance_update(self.cloud.db, self.inst.uuid,
                                   {'vm_state': vm_state})
            with fixtures.MockPatchObject(
                    self.api.compute_rpcapi, '%s_instance' % method,
                    side_effect=exception.MessagingUnavailable(
                        reason='timed out')):
                self.assertRaises(exception.MessagingUnavailable,
                                  getattr(self.api, method),
                                  self.ctx, self.inst.uuid)
            server = self.api.get_server(self.ctx, self.inst.uuid)
            self.assertEqual((vm_state, None),
                             (server.vm_state, server.task_state), claim)
