"""Live migrations through the whole service stack, on the fake hypervisor.

API -> RPC (in-process transport) -> ComputeManager -> the real
LibvirtDriver and its monitor -> fake libvirt on a clock sped up 50 times.
Each test checks the Migration record's status flow, where the guest runs
and what the Instance record says about it.
"""

import fixtures
import testtools

from nova.compute import states
from nova.db import api as db_api
from nova import exception
from nova.simulator import libvirt as fakelibvirt
from nova.tests.unit.compute import cloud

C = fakelibvirt.C
FINAL = ('completed', 'failed', 'error', 'cancelled')


class StatusRecorder(fixtures.Fixture):
    """Every status a migration row is given, in order."""

    def _setUp(self):
        self.statuses = {}
        real = db_api.migration_update

        def recording(db, migration_id, values, expected=None):
            won = real(db, migration_id, values, expected=expected)
            if won and 'status' in values:
                self.statuses.setdefault(int(migration_id), []).append(
                    values['status'])
            return won
        self.useFixture(fixtures.MonkeyPatch(
            'nova.db.api.migration_update', recording))

    def of(self, migration_id):
        return self.statuses.get(migration_id, [])


class LiveMigrationFlowTestCase(testtools.TestCase):

    overrides = None

    def setUp(self):
        super(LiveMigrationFlowTestCase, self).setUp()
        self.useFixture(fixtures.FakeLogger(level='INFO'))
        self.recorder = self.useFixture(StatusRecorder())
        self.cloud = self.useFixture(cloud.CloudFixture(
            overrides=self.overrides))
        self.api = self.cloud.api
        self.ctx = self.cloud.ctx

    def boot_busy(self, name='busy'):
        inst = self.cloud.boot(name=name)
        self.assertEqual('active', inst.vm_state)
        self.cloud.make_busy(inst.uuid)
        return inst

    def wait_running(self, mig):
        """Until the migration runs and the model's job has begun."""
        self.cloud.wait_for_status(mig.id, 'running')
        self.cloud.wait_for(lambda: any(
            d.job_begun and d.job is not None
            for d in [self.cloud.hv.hosts['lab-a'].domains.get(
                mig.instance_uuid)] if d is not None))

    def assertStaysOnSource(self, inst, mig, status):
        mig = self.cloud.wait_until_settled(mig.id)
        self.assertEqual(status, mig['status'])
        server = self.api.get_server(self.ctx, inst.uuid)
        self.assertEqual('lab-a', server.host)
        self.assertEqual('lab-a', server.node)
        self.assertIsNone(server.task_state)
        self.assertEqual(['lab-a'], self.cloud.guest_hosts(inst.uuid))
        dom = self.cloud.hv.hosts['lab-a'].domains[inst.uuid]
        self.assertEqual(C.VIR_DOMAIN_RUNNING, dom.state_value[0])
        self.assertEqual(states.RUNNING, server.power_state)
        return mig

    def assertOnDestination(self, inst, mig):
        mig = self.cloud.wait_until_settled(mig.id)
        self.assertEqual('completed', mig['status'])
        server = self.api.get_server(self.ctx, inst.uuid)
        self.assertEqual('lab-b', server.host)
        self.assertEqual('lab-b', server.node)
        self.assertIsNone(server.task_state)
        self.assertEqual('active', server.vm_state)
        self.assertEqual(['lab-b'], self.cloud.guest_hosts(inst.uuid))
        dom = self.cloud.hv.hosts['lab-b'].domains[inst.uuid]
        self.assertEqual(C.VIR_DOMAIN_RUNNING, dom.state_value[0])
        self.assertEqual(states.RUNNING, server.power_state)
        self.assertEqual(0, mig['memory_remaining'])
        self.assertGreater(mig['memory_total'], 0)
        self.assertEqual(100, server.progress)
        return mig


class PrecopyTestCase(LiveMigrationFlowTestCase):

    def test_idle_guest_completes(self):
        inst = self.cloud.boot()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.assertEqual('queued', mig.status)
        self.assertEqual('migrating',
                         self.api.get_server(self.ctx, inst.uuid).task_state)
        self.assertOnDestination(inst, mig)
        self.assertEqual(['preparing', 'running', 'post-migrating',
                          'completed'], _dedup(self.recorder.of(mig.id)))
        self.assertEqual([], self.api.list_server_migrations(self.ctx,
                                                             inst.uuid))
        # The compute nodes were told: the instance counts on lab-b now.
        nodes = {n.host: n for n in self.api.list_hypervisors(self.ctx)}
        self.cloud.wait_for(lambda: {
            n.host: n.running_vms for n in self.api.list_hypervisors(
                self.ctx)} == {'lab-a': 0, 'lab-b': 1})
        self.assertEqual('up', nodes['lab-b'].state)

    def test_scheduler_picks_the_other_host(self):
        inst = self.cloud.boot()
        mig = self.api.live_migrate(self.ctx, inst.uuid)
        self.assertEqual('lab-b', mig.dest_compute)
        self.assertOnDestination(inst, mig)

    def test_force_complete_pauses_and_completes(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.wait_running(mig)
        self.api.live_migrate_force_complete(self.ctx, inst.uuid, mig.id)
        self.assertOnDestination(inst, mig)
        src = self.cloud.hv.migrations[-1][0]
        self.assertIn('paused', [what for _t, what in src.history])
        self.assertNotIn('running (post-copy)', self.recorder.of(mig.id))

    def test_abort_keeps_the_guest_on_the_source(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.wait_running(mig)
        self.assertEqual(
            [mig.id], [m.id for m in self.api.list_server_migrations(
                self.ctx, inst.uuid)])
        self.api.live_migrate_abort(self.ctx, inst.uuid, mig.id)
        self.assertStaysOnSource(inst, mig, 'cancelled')
        self.assertEqual(['preparing', 'running', 'cancelled'],
                         _dedup(self.recorder.of(mig.id)))
        # A finished migration can be neither forced nor aborted again.
        self.assertRaises(exception.InstanceInvalidState,
                          self.api.live_migrate_force_complete, self.ctx,
                          inst.uuid, mig.id)

    def test_failure_keeps_the_guest_on_the_source(self):
        inst = self.cloud.boot()
        self.cloud.hv.fail_next_migration(
            inst.uuid, 'Unable to write to socket: Broken pipe')
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.assertStaysOnSource(inst, mig, 'failed')
        self.assertNotIn('post-migrating', self.recorder.of(mig.id))
        # And it can be migrated again afterwards.
        again = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.assertOnDestination(inst, again)

    def test_destination_down_before_copy_is_an_error(self):
        inst = self.cloud.boot()
        self.cloud.stop_service('lab-b')
        self.cloud.services['lab-a'].manager.conf.set_override(
            'live_migration_rpc_timeout', 1)
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        mig = self.assertStaysOnSource(inst, mig, 'error')
        self.assertEqual(['preparing', 'error'],
                         _dedup(self.recorder.of(mig['id'])))

    def test_delete_after_migration(self):
        inst = self.cloud.boot()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.assertOnDestination(inst, mig)
        self.api.delete_server(self.ctx, inst.uuid)
        self.cloud.wait_for(lambda: not self.api.list_servers(self.ctx))
        self.assertEqual([], self.cloud.guest_hosts(inst.uuid))
        # os-migrations still lists it.
        self.assertEqual([mig.id], [m.id for m in self.api.list_migrations(
            self.ctx, {'instance_uuid': inst.uuid})])


class DeleteWhileMigratingTestCase(LiveMigrationFlowTestCase):
    """Nova accepts the delete of a live-migrating server.

    The migration is aborted first (the monitor gives a delete the abort's
    rank).
    """

    def test_delete_during_precopy_aborts_then_deletes(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.wait_running(mig)
        self.api.delete_server(self.ctx, inst.uuid)
        self.cloud.wait_for(lambda: not self.api.list_servers(self.ctx))
        self.assertEqual('cancelled', self.cloud.migration(mig.id)['status'])
        self.assertEqual([], self.cloud.guest_hosts(inst.uuid))


class DeleteInPostcopyTestCase(LiveMigrationFlowTestCase):

    overrides = {'libvirt': {'live_migration_permit_post_copy': True}}

    def test_delete_in_postcopy_finishes_then_deletes_on_destination(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.cloud.wait_for_status(mig.id, 'running (post-copy)')
        self.api.delete_server(self.ctx, inst.uuid)
        self.cloud.wait_for(lambda: not self.api.list_servers(self.ctx))
        # The abort was refused (in post-copy the guest already ran on the
        # destination): the migration completed, then the guest went.
        self.assertEqual('completed', self.cloud.migration(mig.id)['status'])
        self.assertEqual([], self.cloud.guest_hosts(inst.uuid))


class PostcopyTestCase(LiveMigrationFlowTestCase):

    overrides = {'libvirt': {'live_migration_permit_post_copy': True}}

    def test_stalled_migration_switches_to_postcopy(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.assertOnDestination(inst, mig)
        self.assertEqual(['preparing', 'running', 'running (post-copy)',
                          'post-migrating', 'completed'],
                         _dedup(self.recorder.of(mig.id)))

    def test_force_complete_while_in_postcopy_is_refused(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.wait_running(mig)
        self.api.live_migrate_force_complete(self.ctx, inst.uuid, mig.id)
        self.cloud.wait_for(lambda: self.cloud.migration(mig.id)[
            'status'] != 'running')
        status = self.cloud.migration(mig.id)['status']
        if status == 'running (post-copy)':
            exc = self.assertRaises(
                exception.InvalidMigrationState,
                self.api.live_migrate_force_complete, self.ctx, inst.uuid,
                mig.id)
            self.assertEqual(400, exc.code)
        self.assertOnDestination(inst, mig)
        self.assertIn('running (post-copy)', self.recorder.of(mig.id))


class PostcopyBrokenTestCase(LiveMigrationFlowTestCase):
    """The link dies in post-copy and stays down past the recovery time."""

    overrides = {'libvirt': {
        'live_migration_permit_post_copy': True,
        'live_migration_postcopy_recovery_timeout': 20,
        'live_migration_postcopy_resume_max_interval': 4}}

    def test_unrecovered_postcopy_is_an_error_and_keeps_both_halves(self):
        inst = self.boot_busy()
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.cloud.wait_for(lambda: self.cloud.migration(mig.id)[
            'status'] == 'running (post-copy)')
        self.cloud.hv.set_link_up(False)
        settled = self.cloud.wait_until_settled(mig.id, timeout=60)
        self.assertEqual('error', settled['status'])
        self.assertIn('running (post-copy paused)', self.recorder.of(mig.id))
        server = self.api.get_server(self.ctx, inst.uuid)
        self.assertEqual('error', server.vm_state)
        self.assertIsNone(server.task_state)
        # Nothing destroyed: the source half waits for an operator.
        dom = self.cloud.hv.hosts['lab-a'].domains[inst.uuid]
        self.assertEqual(
            (C.VIR_DOMAIN_PAUSED, C.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED),
            dom.state_value)


class ConcurrencyLimitTestCase(LiveMigrationFlowTestCase):

    overrides = {'max_concurrent_live_migrations': 1}

    def test_second_migration_queues_until_the_first_ends(self):
        first = self.boot_busy('first')
        second = self.boot_busy('second')
        mig1 = self.api.live_migrate(self.ctx, first.uuid, host='lab-b')
        self.wait_running(mig1)
        mig2 = self.api.live_migrate(self.ctx, second.uuid, host='lab-b')
        # Accepted by the source, waiting for the slot.
        self.cloud.wait_for(lambda: self.cloud.services[
            'lab-a'].manager.live_migration_job(mig2.id) is not None)
        for _ in range(20):
            self.assertEqual('queued', self.cloud.migration(mig2.id)[
                'status'])
            self.assertEqual('running', self.cloud.migration(mig1.id)[
                'status'])
            self.cloud.clock.sleep(0.5)
        self.api.live_migrate_force_complete(self.ctx, first.uuid, mig1.id)
        self.assertOnDestination(first, mig1)
        self.wait_running(mig2)
        self.api.live_migrate_abort(self.ctx, second.uuid, mig2.id)
        self.assertStaysOnSource(second, mig2, 'cancelled')

    def test_delete_while_queued_cancels_it(self):
        first = self.boot_busy('first')
        second = self.cloud.boot(name='second')
        mig1 = self.api.live_migrate(self.ctx, first.uuid, host='lab-b')
        self.wait_running(mig1)
        mig2 = self.api.live_migrate(self.ctx, second.uuid, host='lab-b')
        self.cloud.wait_for(lambda: self.cloud.services[
            'lab-a'].manager.live_migration_job(mig2.id) is not None)
        self.api.delete_server(self.ctx, second.uuid)
        self.cloud.wait_for(lambda: [s.uuid for s in self.api.list_servers(
            self.ctx)] == [first.uuid])
        self.assertEqual('cancelled', self.cloud.migration(mig2.id)[
            'status'])
        self.assertEqual([], self.cloud.guest_hosts(second.uuid))
        self.assertEqual('running', self.cloud.migration(mig1.id)['status'])
        self.api.live_migrate_abort(self.ctx, first.uuid, mig1.id)
        self.assertStaysOnSource(first, mig1, 'cancelled')

    def test_abort_while_queued_never_touches_libvirt(self):
        first = self.boot_busy('first')
        second = self.boot_busy('second')
        mig1 = self.api.live_migrate(self.ctx, first.uuid, host='lab-b')
        self.wait_running(mig1)
        mig2 = self.api.live_migrate(self.ctx, second.uuid, host='lab-b')
        self.cloud.wait_for(lambda: self.cloud.services[
            'lab-a'].manager.live_migration_job(mig2.id) is not None)
        self.api.live_migrate_abort(self.ctx, second.uuid, mig2.id)
        self.assertEqual('cancelled', self.cloud.migration(mig2.id)[
            'status'])
        self.assertIsNone(self.api.get_server(self.ctx,
                                              second.uuid).task_state)
        self.api.live_migrate_abort(self.ctx, first.uuid, mig1.id)
        self.assertStaysOnSource(first, mig1, 'cancelled')
        # The queued one woke up, saw it was cancelled and did nothing.
        self.cloud.wait_for(lambda: self.cloud.services[
            'lab-a'].manager.live_migration_job(mig2.id) is None)
        self.assertEqual(['cancelled'], self.recorder.of(mig2.id))
        self.assertEqual(1, len(self.cloud.hv.migrations))
        self.assertEqual(['lab-a'], self.cloud.guest_hosts(second.uuid))

    def test_stop_cancels_what_is_queued(self):
        first = self.boot_busy('first')
        second = self.boot_busy('second')
        mig1 = self.api.live_migrate(self.ctx, first.uuid, host='lab-b')
        self.wait_running(mig1)
        mig2 = self.api.live_migrate(self.ctx, second.uuid, host='lab-b')
        manager = self.cloud.services['lab-a'].manager
        self.cloud.wait_for(lambda: manager.live_migration_job(
            mig2.id) is not None)
        self.cloud.stop_service('lab-a')
        self.assertEqual('cancelled', self.cloud.migration(mig2.id)[
            'status'])
        self.assertIsNone(self.api.get_server(self.ctx,
                                              second.uuid).task_state)
        # The running one goes on in its thread; end it directly.
        manager.driver.live_migration_abort(first)
        self.assertStaysOnSource(first, mig1, 'cancelled')
        self.cloud.wait_for(lambda: manager.live_migration_job(
            mig2.id) is None)
        self.assertEqual(['cancelled'], self.recorder.of(mig2.id))
        self.assertEqual(1, len(self.cloud.hv.migrations))


class RestartTestCase(LiveMigrationFlowTestCase):
    """A source compute service that stopped mid-way settles on start."""

    def interrupted(self, status, guest_on):
        inst = self.cloud.boot()
        db = self.cloud.db
        if guest_on == 'lab-b':
            conn_a = self.cloud.hv.hosts['lab-a']
            dom = conn_a.domains.pop(inst.uuid)
            self.cloud.hv.define_guest('lab-b', dom.name(),
                                       dom.memory // cloud.MiB,
                                       dom_uuid=inst.uuid)
        db_api.instance_update(db, inst.uuid,
                               {'task_state': states.MIGRATING})
        row = db_api.migration_create(db, {
            'instance_uuid': inst.uuid, 'source_compute': 'lab-a',
            'source_node': 'lab-a', 'dest_compute': 'lab-b',
            'dest_node': 'lab-b', 'status': status,
            'migration_type': 'live-migration'})
        return inst, row['id']

    def restart_source(self):
        self.cloud.stop_service('lab-a')
        self.cloud.start_service('lab-a')

    def test_guest_already_on_destination_completes(self):
        inst, mig_id = self.interrupted('running', 'lab-b')
        self.restart_source()
        mig = self.cloud.migration(mig_id)
        self.assertEqual('completed', mig['status'])
        server = self.api.get_server(self.ctx, inst.uuid)
        self.assertEqual(('lab-b', 'lab-b', None, states.RUNNING),
                         (server.host, server.node, server.task_state,
                          server.power_state))

    def test_postcopy_left_with_guest_on_destination_completes(self):
        inst, mig_id = self.interrupted('running (post-copy)', 'lab-b')
        self.restart_source()
        self.assertEqual('completed', self.cloud.migration(mig_id)['status'])
        self.assertEqual('lab-b',
                         self.api.get_server(self.ctx, inst.uuid).host)

    def test_guest_still_on_source_fails(self):
        inst, mig_id = self.interrupted('running', 'lab-a')
        self.restart_source()
        self.assertEqual('failed', self.cloud.migration(mig_id)['status'])
        server = self.api.get_server(self.ctx, inst.uuid)
        self.assertEqual(('lab-a', None), (server.host, server.task_state))
        # It can migrate again.
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b')
        self.assertOnDestination(inst, mig)

    def test_queued_is_cancelled(self):
        inst, mig_id = self.interrupted('queued', 'lab-a')
        self.restart_source()
        self.assertEqual('cancelled', self.cloud.migration(mig_id)['status'])
        self.assertIsNone(self.api.get_server(self.ctx,
                                              inst.uuid).task_state)

    def test_destination_unreachable_waits_then_settles(self):
        inst, mig_id = self.interrupted('running', 'lab-b')
        self.cloud.stop_service('lab-b')
        self.cloud.stop_service('lab-a')
        svc = self.cloud.start_service_with(
            'lab-a', {'live_migration_rpc_timeout': 1})
        # Not on the source, destination silent: cannot tell yet.
        self.assertEqual('running', self.cloud.migration(mig_id)['status'])
        self.assertEqual('migrating',
                         self.api.get_server(self.ctx, inst.uuid).task_state)
        self.cloud.start_service('lab-b')
        svc.manager.periodic_tasks(svc.context)
        self.assertEqual('completed', self.cloud.migration(mig_id)['status'])
        self.assertEqual('lab-b',
                         self.api.get_server(self.ctx, inst.uuid).host)

    def test_stale_task_state_cleared(self):
        inst = self.cloud.boot()
        db_api.instance_update(self.cloud.db, inst.uuid,
                               {'task_state': states.MIGRATING})
        self.restart_source()
        self.assertIsNone(self.api.get_server(self.ctx,
                                              inst.uuid).task_state)


def _dedup(statuses):
    out = []
    for status in statuses:
        if not out or out[-1] != status:
            out.append(status)
    return out
