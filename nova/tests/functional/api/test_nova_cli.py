"""The operator's session with the real ``nova`` CLI against nova-all.

nova-all runs with ``--fake-hypervisors``: the real API, compute services,
manager and libvirt driver with its migration monitor, on the simulated
libvirt/QEMU of ``nova.simulator.libvirt`` (sped up). Guests get a
workload from their metadata (``dirty_rate`` MiB/s over ``dirty_mib``
MiB), as the lab guest does from its kernel command line.
"""

import re
import uuid

import testtools

from nova.tests.functional.api import cloud as cloud_lib

BUSY = ('--meta', 'dirty_rate=150', '--meta', 'dirty_mib=256')


def _require_clients():
    for name in ('nova', 'openstack'):
        if cloud_lib.find_script(name) is None:
            raise testtools.TestCase.skipException(
                'the %s client is not installed (test-requirements.txt)'
                % name)


class CloudTestCase(testtools.TestCase):
    """One nova-all per class (started once, shared by its tests)."""

    speed = 10.0
    link_mib_s = 100.0
    config = {}

    @classmethod
    def setUpClass(cls):
        super(CloudTestCase, cls).setUpClass()
        _require_clients()
        cls.cloud = cloud_lib.NovaAll(speed=cls.speed,
                                      link_mib_s=cls.link_mib_s,
                                      config=cls.config).start()
        cls.admin = cloud_lib.CLI(cls.cloud)

    @classmethod
    def tearDownClass(cls):
        cloud = getattr(cls, 'cloud', None)
        if cloud is not None:
            cloud.cleanup()
        super(CloudTestCase, cls).tearDownClass()

    def setUp(self):
        super(CloudTestCase, self).setUp()
        self.addOnException(self._attach_log)

    def _attach_log(self, exc_info):
        from testtools import content
        self.addDetail('nova-all-log', content.text_content(
            self.cloud.log()[-20000:]))

    def ok(self, result):
        self.assertEqual(0, result.returncode, result)
        return result

    def fails(self, result, http_code, message, exc_name=None):
        self.assertNotEqual(0, result.returncode, result)
        self.assertIn('(HTTP %d)' % http_code, result.output)
        self.assertIn(message, result.output)
        if exc_name:
            self.assertIn('ERROR (%s)' % exc_name, result.output)
        return result

    def boot(self, cli=None, busy=False, host='lab-a', flavor='lab.medium'):
        cli = cli or self.admin
        name = 'vm-%s' % uuid.uuid4().hex[:8]
        args = ['boot', '--flavor', flavor, '--image', 'busybox']
        if host:
            args += ['--availability-zone', 'nova:%s' % host]
        if busy:
            args += list(BUSY)
        result = self.ok(cli.nova(*(args + [name])))
        server_id = result.properties()['id']
        self.cloud.wait_for_server(server_id, 'ACTIVE', host=host)
        return server_id

    def migration_id(self, server_id, status='running'):
        return self.cloud.wait_for_migration(server_id, status)['id']


class NovaCLIPauseTestCase(CloudTestCase):
    """Post-copy not permitted: force-complete pauses the guest."""

    config = {'libvirt': {'live_migration_permit_post_copy': 'false',
                          'live_migration_permit_auto_converge': 'false'}}

    def test_boot_and_live_migrate_idle_guest(self):
        server_id = self.boot(host='lab-a')
        show = self.ok(self.admin.nova('show', server_id)).properties()
        self.assertEqual('lab-a', show['OS-EXT-SRV-ATTR:host'])
        self.ok(self.admin.nova('live-migration', server_id, 'lab-b'))
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b')
        migrations = self.ok(self.admin.nova(
            'migration-list', '--instance-uuid', server_id)).table()
        self.assertEqual(1, len(migrations))
        self.assertEqual('completed', migrations[0]['Status'])
        self.assertEqual('live-migration', migrations[0]['Type'])
        self.assertEqual('lab-a', migrations[0]['Source Compute'])
        self.assertEqual('lab-b', migrations[0]['Dest Compute'])
        self.assertEqual('lab-b', self.ok(self.admin.nova(
            'show', server_id)).properties()['OS-EXT-SRV-ATTR:host'])

    def test_force_complete_pauses_a_busy_guest(self):
        server_id = self.boot(busy=True)
        # No host: the scheduler picks the other one.
        self.ok(self.admin.nova('live-migration', server_id))
        mid = self.migration_id(server_id)
        # The monitor saves the first real figures as soon as QEMU has
        # them (its set-up samples are zeros).
        self.cloud.wait_for(
            lambda: self.cloud.rest(
                'GET', '/v2.1/servers/%s/migrations/%s' % (server_id, mid))[
                    1]['migration']['memory_total_bytes'] > 0,
            what='the first figures of migration %s' % mid)

        listed = self.ok(self.admin.nova('server-migration-list',
                                         server_id)).table()
        self.assertEqual([str(mid)], [row['Id'] for row in listed])
        self.assertEqual('running', listed[0]['Status'])
        self.assertEqual(str(512 * 1024 * 1024),
                         listed[0]['Total Memory Bytes'])
        shown = self.ok(self.admin.nova('server-migration-show', server_id,
                                        str(mid))).properties()
        self.assertEqual('running', shown['status'])
        self.assertEqual('lab-b', shown['dest_compute'])
        self.assertGreater(int(shown['memory_processed_bytes']), 0)
        self.assertGreater(int(shown['memory_remaining_bytes']), 0)
        self.assertEqual('MIGRATING', self.ok(self.admin.nova(
            'show', server_id)).properties()['status'])

        self.ok(self.admin.nova('live-migration-force-complete', server_id,
                                str(mid)))
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b')
        self.assertEqual('completed', self.cloud.wait_for_migration(
            server_id, 'completed')['status'])
        self.assertIn('Live migration monitor: pause', self.cloud.log())

        # Force-complete of the finished migration: the server is no
        # longer migrating, so Nova answers 409.
        self.fails(self.admin.nova('live-migration-force-complete',
                                   server_id, str(mid)),
                   409, "Cannot 'force_complete' instance %s while it is "
                        "in task_state None" % server_id, 'Conflict')
        # And the finished migration is no longer "in progress".
        self.fails(self.admin.nova('server-migration-show', server_id,
                                   str(mid)),
                   404, 'In-progress live migration %s is not found for '
                        'server %s.' % (mid, server_id), 'NotFound')

    def test_abort_a_running_migration(self):
        server_id = self.boot(busy=True)
        self.ok(self.admin.nova('live-migration', server_id, 'lab-b'))
        mid = self.migration_id(server_id)
        self.ok(self.admin.nova('live-migration-abort', server_id,
                                str(mid)))
        self.assertEqual('cancelled', self.cloud.wait_for_migration(
            server_id, 'cancelled')['status'])
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-a')
        rows = self.ok(self.admin.nova('migration-list', '--status',
                                       'cancelled')).table()
        self.assertIn(str(mid), [row['Id'] for row in rows])
        # Aborting it again: not in progress any more.
        self.fails(self.admin.nova('live-migration-abort', server_id,
                                   str(mid)),
                   409, "Cannot 'abort live migration' instance %s while "
                        "it is in task_state None" % server_id)

    def test_live_migration_of_a_migrating_server(self):
        server_id = self.boot(busy=True)
        self.ok(self.admin.nova('live-migration', server_id, 'lab-b'))
        mid = self.migration_id(server_id)
        self.fails(self.admin.nova('live-migration', server_id),
                   409, "Cannot 'os-migrateLive' instance %s while it is "
                        "in task_state migrating" % server_id, 'Conflict')
        self.ok(self.admin.nova('live-migration-abort', server_id,
                                str(mid)))
        self.cloud.wait_for_migration(server_id, 'cancelled')

    def test_unknown_host(self):
        server_id = self.boot()
        self.fails(self.admin.nova('live-migration', server_id, 'lab-z'),
                   400, 'Compute host lab-z could not be found.',
                   'BadRequest')
        self.assertEqual([], self.cloud.migrations(instance_uuid=server_id))

    def test_non_admin_user(self):
        demo = cloud_lib.CLI(self.cloud, username='demo', project='demo')
        server_id = self.boot(cli=demo, host=None)
        denied = "Policy doesn't allow %s to be performed."
        self.fails(demo.nova('live-migration', server_id),
                   403, denied % 'os_compute_api:os-migrate-server:'
                                 'migrate_live', 'Forbidden')
        self.fails(demo.nova('server-migration-list', server_id),
                   403, denied % 'os_compute_api:servers:migrations:index')
        self.fails(demo.nova('live-migration-force-complete', server_id,
                             '1'),
                   403, denied % 'os_compute_api:servers:migrations:'
                                 'force_complete')
        self.fails(demo.nova('live-migration-abort', server_id, '1'),
                   403, denied % 'os_compute_api:servers:migrations:delete')
        self.fails(demo.nova('migration-list'),
                   403, denied % 'os_compute_api:os-migrations:index')
        # The server itself is theirs to see, without the host.
        show = self.ok(demo.nova('show', server_id)).properties()
        self.assertEqual('ACTIVE', show['status'])
        self.assertNotIn('OS-EXT-SRV-ATTR:host', show)

    def test_microversion_gating(self):
        server_id = self.boot()
        result = self.admin.nova('--os-compute-api-version', '2.21',
                                 'live-migration-force-complete', server_id,
                                 '1')
        self.assertNotEqual(0, result.returncode)
        # novaclient itself refuses below 2.22; the API answers 404 too.
        status, body = self.cloud.rest(
            'POST', '/v2.1/servers/%s/migrations/1/action' % server_id,
            {'force_complete': None}, version='2.21')
        self.assertEqual(404, status)
        self.assertEqual('API version 2.21 is not supported on this '
                         'method.', body['itemNotFound']['message'])
        status, body = self.cloud.rest('GET', '/v2.1/flavors',
                                       version='2.999')
        self.assertEqual(406, status)

    def test_services_and_hypervisors(self):
        services = self.ok(self.admin.nova('service-list')).table()
        self.assertEqual(['lab-a', 'lab-b'],
                         sorted(row['Host'] for row in services))
        self.assertEqual({'up'}, {row['State'] for row in services})
        hypervisors = self.ok(self.admin.nova('hypervisor-list')).table()
        self.assertEqual(['lab-a', 'lab-b'], sorted(
            row['Hypervisor hostname'] for row in hypervisors))

    # -- openstackclient, the maintained CLI -------------------------------

    def test_openstack_client_live_migration(self):
        name = 'osc-%s' % uuid.uuid4().hex[:8]
        created = self.ok(self.admin.openstack(
            'server', 'create', '--flavor', 'lab.medium', '--image',
            'busybox', '--availability-zone', 'nova:lab-a',
            '--property', 'dirty_rate=150', '--property', 'dirty_mib=256',
            '--wait', '-f', 'value', '-c', 'id', name))
        server_id = created.stdout.strip()
        self.ok(self.admin.openstack(
            'server', 'migrate', '--live-migration', '--host', 'lab-b',
            name))
        mig = self.cloud.wait_for_migration(server_id, 'running')
        listed = self.ok(self.admin.openstack(
            'server', 'migration', 'list', '--server', name, '-f', 'value',
            '-c', 'Id', '-c', 'Status', '-c', 'Type'))
        self.assertIn('%s running live-migration' % mig['id'],
                      listed.stdout)
        shown = self.ok(self.admin.openstack(
            'server', 'migration', 'show', name, mig['uuid'], '-f',
            'value', '-c', 'Status', '-c', 'Dest Compute'))
        self.assertIn('lab-b', shown.stdout)
        self.ok(self.admin.openstack(
            'server', 'migration', 'force', 'complete', name,
            str(mig['id'])))
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b',
                                   timeout=90)

    def test_openstack_client_abort_and_errors(self):
        name = 'osc-%s' % uuid.uuid4().hex[:8]
        server_id = self.ok(self.admin.openstack(
            'server', 'create', '--flavor', 'lab.medium', '--image',
            'busybox', '--availability-zone', 'nova:lab-a',
            '--property', 'dirty_rate=150', '--property', 'dirty_mib=256',
            '--wait', '-f', 'value', '-c', 'id', name)).stdout.strip()
        self.ok(self.admin.openstack(
            'server', 'migrate', '--live-migration', '--host', 'lab-b',
            name))
        mig = self.cloud.wait_for_migration(server_id, 'running')
        self.ok(self.admin.openstack('server', 'migration', 'abort', name,
                                     str(mig['id'])))
        self.cloud.wait_for_migration(server_id, 'cancelled')
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-a')
        result = self.admin.openstack(
            'server', 'migrate', '--live-migration', '--host', 'lab-z', name)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('Compute host lab-z could not be found.',
                      result.output)


class NovaCLIPostCopyTestCase(CloudTestCase):
    """Post-copy permitted: force-complete switches to post-copy.

    A slow link makes the first memory pass (where the monitor never
    switches by itself) last long enough for the operator's request.
    """

    speed = 5.0
    link_mib_s = 40.0
    config = {'libvirt': {'live_migration_permit_post_copy': 'true'}}

    def test_force_complete_switches_to_post_copy(self):
        server_id = self.boot(busy=True, flavor='lab.large')
        self.ok(self.admin.nova('live-migration', server_id, 'lab-b'))
        mid = self.migration_id(server_id)
        self.ok(self.admin.nova('live-migration-force-complete', server_id,
                                str(mid)))
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b',
                                   timeout=90)
        self.cloud.wait_for_migration(server_id, 'completed')
        log = self.cloud.log()
        self.assertIsNotNone(re.search(
            r'Live migration monitor: postcopy requested by operator', log), log[-3000:])
        self.assertNotIn('Live migration monitor: pause', log)


class OpenStackSDKTestCase(CloudTestCase):

    def test_sdk_live_migration(self):
        import openstack
        conn = openstack.connect(
            auth_url='%s/identity' % self.cloud.url, username='admin',
            password='secret', project_name='admin',
            user_domain_name='Default', project_domain_name='Default',
            region_name='RegionOne')
        self.addCleanup(conn.close)
        server_id = self.boot()
        server = conn.compute.get_server(server_id)
        self.assertEqual('lab-a', server.compute_host)
        conn.compute.live_migrate_server(server, host='lab-b',
                                         block_migration='auto')
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b')
        server = conn.compute.get_server(server_id)
        self.assertEqual('lab-b', server.compute_host)
        migrations = [m for m in conn.compute.migrations()
                      if m.server_id == server_id]
        self.assertEqual(['completed'], [m.status for m in migrations])
        self.assertEqual([], list(conn.compute.server_migrations(server)))
        services = sorted(s.host for s in conn.compute.services())
        self.assertEqual(['lab-a', 'lab-b'], services)
