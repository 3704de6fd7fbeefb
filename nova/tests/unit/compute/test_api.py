"""The compute API's checks and error paths, on a real (SQLite) database.

RPC is replaced by a recorder: these tests look at what the API decides
and writes, and at what it would cast to which host.
"""

import datetime

import fixtures
from oslo_config import cfg
import testtools

import nova.conf
from nova.compute import api as compute_api
from nova.compute import states
from nova import context as nova_context
from nova.db import api as db_api
from nova import exception
from nova.tests.unit.compute import cloud


class RecordingRPC(object):
    """Stands in for ComputeAPI: remembers every cast and call."""

    def __init__(self):
        self.calls = []
        self.fail = None

    def __getattr__(self, name):
        def record(ctxt, host, *args, **kwargs):
            if self.fail:
                raise self.fail
            self.calls.append((name, host) + args)
        return record

    def names(self):
        return [c[0] for c in self.calls]


class APITestCase(testtools.TestCase):

    def setUp(self):
        super(APITestCase, self).setUp()
        self.database = self.useFixture(cloud.DatabaseFixture())
        self.db = self.database.db
        self.image = self.database.image
        self.conf = cfg.ConfigOpts()
        nova.conf.register_all(self.conf)
        self.conf(args=[], project='nova', default_config_files=[])
        self.rpc = RecordingRPC()
        self.api = compute_api.API(db=self.db, compute_rpcapi=self.rpc,
                                   conf=self.conf)
        self.admin = nova_context.RequestContext(
            'admin', 'admin-project', is_admin=True, roles=['admin'])
        self.user = nova_context.RequestContext('alice', 'project-a')
        for host in ('lab-a', 'lab-b'):
            self.add_host(host)

    def add_host(self, host, memory_mb=16384, disabled=False,
                 last_seen_ago=0, forced_down=False):
        svc = db_api.service_register(self.db, host, 'nova-compute',
                                      'compute')
        db_api.service_update(self.db, svc['id'], {
            'disabled': disabled, 'forced_down': forced_down,
            'last_seen_up': db_api.utcnow() - datetime.timedelta(
                seconds=last_seen_ago)})
        db_api.compute_node_update_for_host(self.db, host, {
            'hypervisor_hostname': host, 'hypervisor_type': 'QEMU',
            'hypervisor_version': 7002000, 'vcpus': 4,
            'memory_mb': memory_mb})
        return svc

    def server(self, host='lab-a', vm_state='active', task_state=None,
               project_id='project-a', memory_mb=512, name='vm'):
        row = db_api.instance_create(self.db, {
            'name': name, 'host': host, 'node': host, 'vm_state': vm_state,
            'task_state': task_state, 'power_state': states.RUNNING,
            'flavor_id': '2', 'memory_mb': memory_mb, 'vcpus': 1,
            'image_ref': self.image['id'], 'project_id': project_id,
            'user_id': 'alice'})
        return row['uuid']

    def migration(self, uuid, status='running', source='lab-a',
                  dest='lab-b'):
        return db_api.migration_create(self.db, {
            'instance_uuid': uuid, 'source_compute': source,
            'dest_compute': dest, 'source_node': source, 'dest_node': dest,
            'status': status, 'migration_type': 'live-migration'})['id']


class CreateServerTestCase(APITestCase):

    def test_builds_on_the_least_loaded_host(self):
        self.server(host='lab-a')
        inst = self.api.create_server(self.user, 'web', '2',
                                      self.image['id'], {'dirty_mib': '64'})
        self.assertEqual(('building', 'scheduling', 'lab-b', 'lab-b'),
                         (inst.vm_state, inst.task_state, inst.host,
                          inst.node))
        self.assertEqual((512, 1, '2', 'project-a', 'alice', 'web'),
                         (inst.memory_mb, inst.vcpus, inst.flavor_id,
                          inst.project_id, inst.user_id, inst.name))
        self.assertEqual({'dirty_mib': '64'}, inst.metadata)
        self.assertEqual([('build_and_run_instance', 'lab-b', inst.uuid,
                           self.image['id'])], self.rpc.calls)

    def test_requested_host(self):
        inst = self.api.create_server(self.user, 'web', '1',
                                      self.image['id'], host='lab-a')
        self.assertEqual('lab-a', inst.host)

    def test_unknown_flavor(self):
        exc = self.assertRaises(exception.FlavorNotFound,
                                self.api.create_server, self.user, 'x',
                                'nope', self.image['id'])
        self.assertEqual(400, exc.code)
        self.assertEqual('Flavor nope could not be found.', str(exc))

    def test_unknown_image(self):
        exc = self.assertRaises(exception.ImageNotFound,
                                self.api.create_server, self.user, 'x', '1',
                                'no-such-image')
        self.assertEqual(400, exc.code)
        self.assertIn('no-such-image', str(exc))

    def test_inactive_image(self):
        row = db_api.image_create(self.db, {
            'name': 'old', 'kernel': '/k', 'initrd': '/i',
            'status': 'deactivated'})
        exc = self.assertRaises(exception.ImageNotActive,
                                self.api.create_server, self.user, 'x', '1',
                                row['id'])
        self.assertEqual(400, exc.code)

    def test_bad_workload_metadata(self):
        exc = self.assertRaises(exception.Invalid, self.api.create_server,
                                self.user, 'x', '1', self.image['id'],
                                {'dirty_rate': '5; reboot'})
        self.assertEqual(400, exc.code)
        self.assertIn('dirty_rate', str(exc))

    def test_unknown_host(self):
        exc = self.assertRaises(exception.ComputeHostNotFound,
                                self.api.create_server, self.user, 'x', '1',
                                self.image['id'], host='nowhere')
        self.assertEqual(400, exc.code)
        self.assertEqual('Compute host nowhere could not be found.',
                         str(exc))

    def test_no_valid_host_gives_an_error_server(self):
        db_api.service_update(self.db, 1, {'disabled': True})
        db_api.service_update(self.db, 2, {'forced_down': True})
        inst = self.api.create_server(self.user, 'x', '1', self.image['id'])
        self.assertEqual(('error', None, None),
                         (inst.vm_state, inst.task_state, inst.host))
        self.assertTrue(inst.fault_message.startswith(
            'No valid host was found.'), inst.fault_message)
        self.assertIn('lab-a is disabled', inst.fault_message)
        self.assertIn('lab-b is down', inst.fault_message)
        self.assertEqual([], self.rpc.calls)

    def test_flavor_larger_than_any_host(self):
        db_api.flavor_create(self.db, {'flavorid': 'huge', 'name': 'huge',
                                       'memory_mb': 10 ** 6, 'vcpus': 1})
        inst = self.api.create_server(self.user, 'x', 'huge',
                                      self.image['id'])
        self.assertEqual('error', inst.vm_state)
        self.assertIn('MiB of RAM free', inst.fault_message)


class ServersTestCase(APITestCase):

    def test_get_unknown(self):
        exc = self.assertRaises(exception.InstanceNotFound,
                                self.api.get_server, self.admin, 'nope')
        self.assertEqual(404, exc.code)
        self.assertEqual('Instance nope could not be found.', str(exc))

    def test_other_projects_are_invisible(self):
        uuid = self.server(project_id='project-b')
        self.assertRaises(exception.InstanceNotFound, self.api.get_server,
                          self.user, uuid)
        self.assertEqual(uuid, self.api.get_server(self.admin, uuid).uuid)
        self.assertEqual([], self.api.list_servers(self.user))
        self.assertEqual([uuid], [i.uuid for i in self.api.list_servers(
            self.admin)])

    def test_list_filters_and_paging(self):
        a = self.server(name='alpha', host='lab-a')
        b = self.server(name='beta', host='lab-b')
        c = self.server(name='alphabet', host='lab-b')
        ids = lambda items: [i.uuid for i in items]
        self.assertEqual([c, b, a], ids(self.api.list_servers(self.user)))
        self.assertEqual([c, a], ids(self.api.list_servers(
            self.user, {'name': '^alpha'})))
        self.assertEqual([c, b], ids(self.api.list_servers(
            self.admin, {'host': 'lab-b'})))
        self.assertEqual([b], ids(self.api.list_servers(
            self.user, limit=1, marker=c)))
        exc = self.assertRaises(exception.MarkerNotFound,
                                self.api.list_servers, self.user,
                                marker='nope')
        self.assertEqual(400, exc.code)

    def test_delete_while_migrating_is_accepted(self):
        # As in Nova: the source compute aborts the migration first.
        uuid = self.server(task_state='migrating')
        self.api.delete_server(self.user, uuid)
        self.assertEqual('deleting',
                         self.api.get_server(self.user, uuid).task_state)
        self.assertEqual([('terminate_instance', 'lab-a', uuid)],
                         self.rpc.calls)

    def test_delete_casts_to_the_host(self):
        uuid = self.server()
        self.api.delete_server(self.user, uuid)
        self.assertEqual('deleting',
                         self.api.get_server(self.user, uuid).task_state)
        self.assertEqual([('terminate_instance', 'lab-a', uuid)],
                         self.rpc.calls)

    def test_delete_with_host_down_is_local(self):
        db_api.service_update(self.db, 1, {'forced_down': True})
        uuid = self.server()
        self.api.delete_server(self.user, uuid)
        self.assertRaises(exception.InstanceNotFound, self.api.get_server,
                          self.user, uuid)
        self.assertEqual([], self.rpc.calls)

    def test_delete_error_server_without_host(self):
        uuid = self.server(host=None, vm_state='error')
        self.api.delete_server(self.user, uuid)
        self.assertEqual([], self.api.list_servers(self.user))


class LiveMigrateTestCase(APITestCase):

    def test_queues_and_casts_to_the_source(self):
        uuid = self.server()
        mig = self.api.live_migrate(self.admin, uuid, host='lab-b')
        self.assertEqual(('queued', 'live-migration', 'lab-a', 'lab-a',
                          'lab-b', 'lab-b', uuid),
                         (mig.status, mig.migration_type, mig.source_compute,
                          mig.source_node, mig.dest_compute, mig.dest_node,
                          mig.instance_uuid))
        self.assertEqual(('admin', 'admin-project'),
                         (mig.user_id, mig.project_id))
        self.assertEqual('migrating',
                         self.api.get_server(self.admin, uuid).task_state)
        # block_migration 'auto' (the default) goes to the source as is:
        # the destination decides from the guest's disks.
        self.assertEqual([('live_migration', 'lab-a', uuid, mig.id, 'lab-b',
                           'auto')], self.rpc.calls)

    def test_paused_server_may_migrate(self):
        uuid = self.server(vm_state='paused')
        self.api.live_migrate(self.admin, uuid, host='lab-b',
                              block_migration=True)
        self.assertTrue(self.rpc.calls[0][-1])

    def test_picks_a_host_when_none_given(self):
        self.add_host('lab-c', memory_mb=256)
        uuid = self.server()
        mig = self.api.live_migrate(self.admin, uuid)
        self.assertEqual('lab-b', mig.dest_compute)

    def test_wrong_vm_state(self):
        uuid = self.server(vm_state='building')
        exc = self.assertRaises(exception.InstanceInvalidState,
                                self.api.live_migrate, self.admin, uuid)
        self.assertEqual(409, exc.code)
        self.assertEqual("Cannot 'os-migrateLive' instance %s while it is "
                         "in vm_state building" % uuid, str(exc))

    def test_already_migrating(self):
        uuid = self.server()
        self.api.live_migrate(self.admin, uuid, host='lab-b')
        exc = self.assertRaises(exception.InstanceInvalidState,
                                self.api.live_migrate, self.admin, uuid,
                                host='lab-b')
        self.assertEqual(409, exc.code)
        self.assertEqual("Cannot 'os-migrateLive' instance %s while it is "
                         "in task_state migrating" % uuid, str(exc))
        self.assertEqual(1, len(self.api.list_migrations(self.admin)))

    def test_unknown_host(self):
        uuid = self.server()
        exc = self.assertRaises(exception.ComputeHostNotFound,
                                self.api.live_migrate, self.admin, uuid,
                                host='lab-z')
        self.assertEqual(400, exc.code)
        self.assertEqual('Compute host lab-z could not be found.', str(exc))
        self.assertIsNone(self.api.get_server(self.admin, uuid).task_state)

    def _precheck(self, uuid, host):
        exc = self.assertRaises(exception.MigrationPreCheckError,
                                self.api.live_migrate, self.admin, uuid,
                                host=host)
        self.assertEqual(400, exc.code)
        self.assertIsNone(self.api.get_server(self.admin, uuid).task_state)
        self.assertEqual([], self.rpc.calls)
        return str(exc)

    def test_same_host(self):
        uuid = self.server()
        self.assertIn('to current host (lab-a)',
                      self._precheck(uuid, 'lab-a'))

    def test_host_down(self):
        self.add_host('lab-c', last_seen_ago=3600)
        self.assertIn('Compute service of lab-c is unavailable',
                      self._precheck(self.server(), 'lab-c'))

    def test_host_disabled(self):
        self.add_host('lab-c', disabled=True)
        self.assertIn('lab-c is disabled',
                      self._precheck(self.server(), 'lab-c'))

    def test_host_without_room(self):
        self.add_host('lab-c', memory_mb=256)
        self.assertIn('256 MiB of RAM free',
                      self._precheck(self.server(), 'lab-c'))

    def test_no_valid_host(self):
        db_api.service_update(self.db, 2, {'disabled': True})
        uuid = self.server()
        exc = self.assertRaises(exception.NoValidHost, self.api.live_migrate,
                                self.admin, uuid)
        self.assertEqual(400, exc.code)
        self.assertIn('No valid host was found.', str(exc))
        self.assertIn('lab-b is disabled', str(exc))

    def test_source_service_down(self):
        db_api.service_update(self.db, 1, {'forced_down': True})
        uuid = self.server()
        exc = self.assertRaises(exception.ServiceUnavailable,
                                self.api.live_migrate, self.admin, uuid,
                                host='lab-b')
        self.assertEqual(409, exc.code)
        self.assertEqual('Compute service of lab-a is unavailable at this '
                         'time.', str(exc))
        self.assertIsNone(self.api.get_server(self.admin, uuid).task_state)

    def test_source_unreachable(self):
        uuid = self.server()
        self.rpc.fail = RuntimeError('no transport')
        self.assertRaises(RuntimeError, self.api.live_migrate, self.admin,
                          uuid, host='lab-b')
        [mig] = self.api.list_migrations(self.admin)
        self.assertEqual('error', mig.status)
        self.assertIsNone(self.api.get_server(self.admin, uuid).task_state)


class ForceCompleteAbortTestCase(APITestCase):

    def setUp(self):
        super(ForceCompleteAbortTestCase, self).setUp()
        self.uuid = self.server(task_state='migrating')

    def test_force_complete_running(self):
        mig = self.migration(self.uuid, 'running')
        self.api.live_migrate_force_complete(self.admin, self.uuid, mig)
        self.assertEqual([('live_migration_force_complete', 'lab-a',
                           self.uuid, mig)], self.rpc.calls)

    def test_force_complete_not_migrating(self):
        uuid = self.server()
        mig = self.migration(uuid, 'completed')
        exc = self.assertRaises(exception.InstanceInvalidState,
                                self.api.live_migrate_force_complete,
                                self.admin, uuid, mig)
        self.assertEqual(409, exc.code)
        self.assertEqual("Cannot 'force_complete' instance %s while it is "
                         "in task_state None" % uuid, str(exc))

    def test_force_complete_unknown_migration(self):
        other = self.server()
        theirs = self.migration(other)
        for migration_id in (9999, theirs, 'abc'):
            exc = self.assertRaises(exception.MigrationNotFoundForInstance,
                                    self.api.live_migrate_force_complete,
                                    self.admin, self.uuid, migration_id)
            self.assertEqual(404, exc.code)
        self.assertEqual('Migration 9999 not found for instance %s'
                         % self.uuid, str(self.assertRaises(
                             exception.MigrationNotFoundForInstance,
                             self.api.live_migrate_force_complete,
                             self.admin, self.uuid, 9999)))

    def test_force_complete_only_while_running(self):
        for status in ('queued', 'preparing', 'running (post-copy)',
                       'post-migrating', 'completed'):
            mig = self.migration(self.uuid, status)
            exc = self.assertRaises(exception.InvalidMigrationState,
                                    self.api.live_migrate_force_complete,
                                    self.admin, self.uuid, mig)
            self.assertEqual(400, exc.code)
            self.assertEqual(
                'Migration %d state of instance %s is %s. Cannot force '
                'complete while the migration is in this state.'
                % (mig, self.uuid, status), str(exc))
        self.assertEqual([], self.rpc.calls)

    def test_abort_running_casts(self):
        mig = self.migration(self.uuid, 'running')
        self.api.live_migrate_abort(self.admin, self.uuid, mig)
        self.assertEqual([('live_migration_abort', 'lab-a', self.uuid,
                           mig)], self.rpc.calls)

    def test_abort_queued_cancels_without_the_compute(self):
        mig = self.migration(self.uuid, 'queued')
        self.api.live_migrate_abort(self.admin, self.uuid, mig)
        self.assertEqual('cancelled',
                         db_api.migration_get(self.db, mig)['status'])
        self.assertIsNone(self.api.get_server(self.admin,
                                              self.uuid).task_state)
        self.assertEqual([], self.rpc.calls)

    def test_abort_preparing_cancels_and_cleans_the_destination(self):
        mig = self.migration(self.uuid, 'preparing')
        self.api.live_migrate_abort(self.admin, self.uuid, mig)
        self.assertEqual('cancelled',
                         db_api.migration_get(self.db, mig)['status'])
        self.assertEqual([('rollback_live_migration_at_destination', 'lab-b',
                           self.uuid, mig)], self.rpc.calls)

    def test_abort_before_265_only_running(self):
        mig = self.migration(self.uuid, 'queued')
        exc = self.assertRaises(exception.InvalidMigrationState,
                                self.api.live_migrate_abort, self.admin,
                                self.uuid, mig, allowed_statuses=('running',))
        self.assertEqual(400, exc.code)
        self.assertIn('Cannot abort live migration', str(exc))

    def test_abort_finished(self):
        for status in ('completed', 'failed', 'error', 'cancelled',
                       'post-migrating', 'running (post-copy)'):
            mig = self.migration(self.uuid, status)
            exc = self.assertRaises(exception.InvalidMigrationState,
                                    self.api.live_migrate_abort, self.admin,
                                    self.uuid, mig)
            self.assertEqual(400, exc.code)

    def test_abort_not_migrating(self):
        uuid = self.server()
        mig = self.migration(uuid, 'running')
        exc = self.assertRaises(exception.InstanceInvalidState,
                                self.api.live_migrate_abort, self.admin,
                                uuid, mig)
        self.assertEqual(409, exc.code)

    def test_abort_unknown_migration(self):
        exc = self.assertRaises(exception.MigrationNotFoundForInstance,
                                self.api.live_migrate_abort, self.admin,
                                self.uuid, 4242)
        self.assertEqual(404, exc.code)

    def test_abort_races_with_the_compute(self):
        mig = self.migration(self.uuid, 'queued')
        real = db_api.migration_update
        raced = []

        def compute_wins(db, migration_id, values, expected=None):
            if not raced:
                raced.append(True)
                real(db, migration_id, {'status': 'running'})
            return real(db, migration_id, values, expected)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.db.api.migration_update', compute_wins))
        self.api.live_migrate_abort(self.admin, self.uuid, mig)
        self.assertEqual([('live_migration_abort', 'lab-a', self.uuid,
                           mig)], self.rpc.calls)


class MigrationListTestCase(APITestCase):

    def test_server_migrations_in_progress_only(self):
        uuid = self.server(task_state='migrating')
        done = self.migration(uuid, 'completed')
        running = self.migration(uuid, 'running (post-copy)')
        self.assertEqual([running], [m.id for m in
                                     self.api.list_server_migrations(
                                         self.admin, uuid)])
        self.assertEqual(running, self.api.get_server_migration(
            self.admin, uuid, running).id)
        exc = self.assertRaises(exception.InProgressMigrationNotFound,
                                self.api.get_server_migration, self.admin,
                                uuid, done)
        self.assertEqual(404, exc.code)
        self.assertRaises(exception.InstanceNotFound,
                          self.api.list_server_migrations, self.admin,
                          'nope')

    def test_os_migrations_filters(self):
        a = self.server()
        b = self.server()
        m1 = self.migration(a, 'completed', source='lab-a', dest='lab-b')
        m2 = self.migration(b, 'running', source='lab-b', dest='lab-a')
        m3 = self.migration(a, 'failed', source='lab-a', dest='lab-c')
        ids = lambda f=None, **kw: [m.id for m in self.api.list_migrations(
            self.admin, f, **kw)]
        self.assertEqual([m3, m2, m1], ids())
        self.assertEqual([m3, m1], ids({'instance_uuid': a}))
        self.assertEqual([m2], ids({'status': 'running'}))
        self.assertEqual([m3], ids({'host': 'lab-c'}))
        self.assertEqual([m3, m2, m1], ids({'host': 'lab-a'}))
        self.assertEqual([m3, m1], ids({'source_compute': 'lab-a'}))
        self.assertEqual([m3, m2, m1],
                         ids({'migration_type': 'live-migration'}))
        self.assertEqual([], ids({'migration_type': 'migration'}))
        future = (db_api.utcnow() + datetime.timedelta(hours=1)).isoformat()
        self.assertEqual([], ids({'changes-since': future}))
        self.assertEqual([m3, m2, m1], ids({'changes-before': future}))
        self.assertEqual([m3, m2, m1], ids({'changes-since':
                                            '2000-01-01T00:00:00Z'}))
        uuid2 = db_api.migration_get(self.db, m2)['uuid']
        self.assertEqual([m1], ids(limit=5, marker=uuid2))
        self.assertRaises(exception.MarkerNotFound, ids, marker='nope')
        self.assertRaises(exception.Invalid, ids, {'changes-since': 'soon'})


class InventoryTestCase(APITestCase):

    def test_services_up_and_down(self):
        self.add_host('lab-c', last_seen_ago=3600)
        self.add_host('lab-d', forced_down=True)
        states_ = {s.host: (s.state, s.status, s.binary)
                   for s in self.api.list_services(self.admin)}
        self.assertEqual({
            'lab-a': ('up', 'enabled', 'nova-compute'),
            'lab-b': ('up', 'enabled', 'nova-compute'),
            'lab-c': ('down', 'enabled', 'nova-compute'),
            'lab-d': ('down', 'enabled', 'nova-compute')}, states_)

    def test_update_service(self):
        svc = self.api.update_service(self.admin, 1, status='disabled',
                                      disabled_reason='maintenance')
        self.assertEqual(('disabled', 'maintenance'),
                         (svc.status, svc.disabled_reason))
        svc = self.api.update_service(self.admin, 1, forced_down=True)
        self.assertEqual('down', svc.state)
        uuid = self.api.get_service(self.admin, 1).uuid
        self.assertEqual(36, len(uuid))
        svc = self.api.update_service(self.admin, uuid, status='enabled',
                                      forced_down=False)
        self.assertEqual(('enabled', None, 'up'),
                         (svc.status, svc.disabled_reason, svc.state))
        self.assertRaises(exception.Invalid, self.api.update_service,
                          self.admin, 1, status='sleeping')
        exc = self.assertRaises(exception.ServiceNotFound,
                                self.api.update_service, self.admin, 99,
                                status='enabled')
        self.assertEqual(404, exc.code)

    def test_hypervisors(self):
        self.server(host='lab-b')
        db_api.service_update(self.db, 2, {'disabled': True})
        nodes = self.api.list_hypervisors(self.admin)
        self.assertEqual(['lab-a', 'lab-b'],
                         [n.hypervisor_hostname for n in nodes])
        node = self.api.get_hypervisor(self.admin, nodes[1].id)
        self.assertEqual(('up', 'disabled', 2, 16384, 4),
                         (node.state, node.status, node.service_id,
                          node.memory_mb, node.vcpus))
        self.assertEqual(node.id, self.api.get_hypervisor(
            self.admin, node.uuid).id)
        exc = self.assertRaises(exception.HypervisorNotFound,
                                self.api.get_hypervisor, self.admin, 77)
        self.assertEqual(404, exc.code)

    def test_flavors_and_images(self):
        self.assertEqual(['lab.small', 'lab.medium', 'lab.large'],
                         [f.name for f in self.api.list_flavors(self.user)])
        self.assertEqual(512, self.api.get_flavor(self.user, '2').memory_mb)
        exc = self.assertRaises(exception.FlavorNotFound,
                                self.api.get_flavor, self.user, '42')
        self.assertEqual(404, exc.code)
        self.assertEqual(['busy'],
                         [i.name for i in self.api.list_images(self.user)])
        self.assertEqual('/boot/vmlinuz', self.api.get_image(
            self.user, self.image['id']).kernel)
        exc = self.assertRaises(exception.ImageNotFound,
                                self.api.get_image, self.user, 'nope')
        self.assertEqual(404, exc.code)


class SchemaCheckTestCase(testtools.TestCase):

    def test_unsynced_database_is_refused(self):
        db = db_api.Database('sqlite://')
        api = compute_api.API(conf=_conf_with_db(db.url))
        api._db = db
        exc = self.assertRaises(exception.DatabaseNotSynced,
                                api.list_flavors, None)
        self.assertIn('nova-manage db sync', str(exc))


def _conf_with_db(url):
    conf = cfg.ConfigOpts()
    nova.conf.register_all(conf)
    conf(args=[], project='nova', default_config_files=[])
    conf.set_override('connection', url, group='database')
    return conf
