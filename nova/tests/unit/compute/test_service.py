"""ComputeService: private configuration, registration, heartbeat, builds."""

import io
import os

import fixtures
from oslo_config import cfg
import testtools

import nova.conf
from nova.cmd import manage
from nova.compute import service as compute_service
from nova.compute import states
from nova.db import api as db_api
from nova.db import migration as db_migration
from nova import exception
from nova.tests.unit.compute import cloud


class BuildConfTestCase(testtools.TestCase):

    def test_overrides_are_private_to_each_service(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        shared = os.path.join(tmp, 'nova.conf')
        with open(shared, 'w') as f:
            f.write('[DEFAULT]\nmax_concurrent_live_migrations = 3\n'
                    '[libvirt]\nlive_migration_permit_post_copy = true\n')
        host_b = os.path.join(tmp, 'lab-b.conf')
        with open(host_b, 'w') as f:
            f.write('[libvirt]\nconnection_uri = qemu+unix:///b\n')
        base = cfg.ConfigOpts()
        nova.conf.register_all(base)
        base(args=['--config-file', shared], project='nova',
             default_config_files=[])
        a = compute_service.build_conf(
            overrides={'host': 'lab-a', 'libvirt': {
                'connection_uri': 'qemu+unix:///a',
                'live_migration_inbound_addr': '198.18.0.1'}}, base=base)
        b = compute_service.build_conf(
            config_files=[host_b], overrides={'host': 'lab-b',
                                              'libvirt.virt_type': 'qemu'},
            base=base)
        self.assertEqual(('lab-a', 'qemu+unix:///a', '198.18.0.1', 3, True),
                         (a.host, a.libvirt.connection_uri,
                          a.libvirt.live_migration_inbound_addr,
                          a.max_concurrent_live_migrations,
                          a.libvirt.live_migration_permit_post_copy))
        self.assertEqual(('lab-b', 'qemu+unix:///b', None, 'qemu'),
                         (b.host, b.libvirt.connection_uri,
                          b.libvirt.live_migration_inbound_addr,
                          b.libvirt.virt_type))
        self.assertEqual('fake://', a.transport_url)


class ServiceTestCase(testtools.TestCase):

    def setUp(self):
        super(ServiceTestCase, self).setUp()
        self.useFixture(fixtures.FakeLogger(level='INFO'))
        self.cloud = self.useFixture(cloud.CloudFixture())

    def test_registered_with_heartbeat_and_node(self):
        services = {s.host: s for s in self.cloud.api.list_services(
            self.cloud.ctx)}
        self.assertEqual({'lab-a', 'lab-b'}, set(services))
        self.assertEqual(('up', 'enabled', 'compute'),
                         (services['lab-a'].state, services['lab-a'].status,
                          services['lab-a'].topic))
        before = services['lab-a'].report_count
        self.cloud.wait_for(lambda: db_api.service_get(
            self.cloud.db, services['lab-a'].id)['report_count'] > before,
            timeout=5)
        node = db_api.compute_node_get_by_host(self.cloud.db, 'lab-a')
        self.assertEqual(('lab-a', 'QEMU', 4, 16384, 7002000),
                         (node['hypervisor_hostname'],
                          node['hypervisor_type'], node['vcpus'],
                          node['memory_mb'], node['hypervisor_version']))

    def test_build_names_the_domain_after_the_uuid(self):
        inst = self.cloud.boot(name='same')
        other = self.cloud.boot(name='same')
        self.assertEqual(('active', None, states.RUNNING),
                         (inst.vm_state, inst.task_state, inst.power_state))
        self.assertIsNotNone(inst.launched_at)
        domains = self.cloud.hv.hosts['lab-a'].domains
        self.assertEqual('instance-%s' % inst.uuid[:8],
                         domains[inst.uuid].name())
        self.assertIn(other.uuid, domains)
        self.assertEqual('same', self.cloud.api.get_server(
            self.cloud.ctx, inst.uuid).name)
        # The node record counts both.
        usage = lambda: (lambda n: (n['running_vms'], n['memory_mb_used'],
                                    n['vcpus_used']))(
            db_api.compute_node_get_by_host(self.cloud.db, 'lab-a'))
        self.cloud.wait_for(lambda: usage() == (2, 1024, 2), timeout=5)

    def test_build_failure_sets_error(self):
        svc = self.cloud.services['lab-a']

        def broken(*args, **kwargs):
            raise RuntimeError('no space left on device')
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.spawn', broken))
        inst = self.cloud.boot()
        self.assertEqual(('error', None), (inst.vm_state, inst.task_state))
        self.assertIn('no space left on device', inst.fault_message)
        self.assertIsNotNone(svc)

    def test_restart_settles_an_interrupted_build(self):
        inst = self.cloud.boot()
        db_api.instance_update(self.cloud.db, inst.uuid,
                               {'vm_state': 'building',
                                'task_state': 'spawning'})
        self.cloud.stop_service('lab-a')
        self.cloud.start_service('lab-a')
        server = self.cloud.api.get_server(self.cloud.ctx, inst.uuid)
        self.assertEqual(('active', None), (server.vm_state,
                                            server.task_state))

    def test_delete(self):
        inst = self.cloud.boot()
        self.cloud.api.delete_server(self.cloud.ctx, inst.uuid)
        self.cloud.wait_for(lambda: not self.cloud.api.list_servers(
            self.cloud.ctx))
        self.assertEqual([], self.cloud.guest_hosts(inst.uuid))

    def test_unsynced_database_refuses_to_start(self):
        empty = db_api.Database('sqlite://')
        svc = compute_service.ComputeService(
            'lab-x', overrides={'database': {'connection': 'sqlite://'}},
            db=empty, transport=self.cloud.transport)
        self.assertRaises(exception.DatabaseNotSynced, svc.start)


class ManageTestCase(testtools.TestCase):

    def setUp(self):
        super(ManageTestCase, self).setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.url = 'sqlite:///%s/state/nova.sqlite' % self.tmp
        self.useFixture(fixtures.MonkeyPatch(
            'nova.cmd.manage.CONF', self.fresh_conf()))

    @staticmethod
    def fresh_conf():
        conf = cfg.ConfigOpts()
        nova.conf.register_all(conf)
        return conf

    def run_manage(self, *args):
        out = io.StringIO()
        code = manage.main(['--database-connection', self.url] +
                           list(args), out=out)
        return code, out.getvalue()

    def test_sync_flavors_images(self):
        code, out = self.run_manage('db', 'sync')
        self.assertEqual(0, code)
        self.assertIn('Database at revision %s.'
                      % db_migration.head_revision(), out)
        self.assertIn('Created flavor lab.small.', out)
        code, out = self.run_manage('db', 'sync')
        self.assertNotIn('Created flavor', out)
        self.assertEqual((0, '%s\n' % db_migration.head_revision()),
                         self.run_manage('db', 'version'))
        code, out = self.run_manage('flavor', 'create', '--name', 'lab.tiny',
                                    '--memory', '128')
        self.assertEqual(0, code)
        self.assertIn('Created flavor lab.tiny (id lab.tiny): 128 MiB',
                      out)
        code, out = self.run_manage('flavor', 'list')
        self.assertIn('lab.medium', out)
        self.assertIn('| 512 ', out)
        kernel = os.path.join(self.tmp, 'vmlinuz')
        initrd = os.path.join(self.tmp, 'initrd.img')
        for path in (kernel, initrd):
            open(path, 'w').close()
        code, out = self.run_manage('image', 'create', '--name', 'busy',
                                    '--kernel', kernel, '--initrd', initrd,
                                    '--cmdline', 'console=ttyS0 quiet')
        self.assertEqual(0, code, out)
        code, out = self.run_manage('image', 'list')
        self.assertIn('console=ttyS0 quiet', out)
        db = db_api.Database(self.url)
        self.addCleanup(db.dispose)
        self.assertEqual(db_migration.head_revision(),
                         db_migration.db_version(db.engine))

    def test_image_paths_are_checked(self):
        self.run_manage('db', 'sync')
        code, _out = self.run_manage('image', 'create', '--name', 'x',
                                     '--kernel', '/nonexistent/k',
                                     '--initrd', '/nonexistent/i')
        self.assertEqual(1, code)
        code, _out = self.run_manage('image', 'create', '--name', 'x',
                                     '--kernel', '/nonexistent/k',
                                     '--initrd', '/nonexistent/i',
                                     '--no-check')
        self.assertEqual(0, code)

    def test_duplicate_flavor(self):
        self.run_manage('db', 'sync')
        code, _out = self.run_manage('flavor', 'create', '--name',
                                     'lab.small', '--memory', '64')
        self.assertEqual(1, code)


class ComputeDriverOptionTestCase(testtools.TestCase):
    """[DEFAULT] compute_driver is loaded by name, as in Nova."""

    def test_the_default_names_the_libvirt_driver(self):
        from oslo_utils import importutils

        import nova.conf
        from nova.virt import driver as virt_driver
        cls = importutils.import_class(
            'nova.virt.' + nova.conf.CONF.compute_driver)
        self.assertTrue(issubclass(cls, virt_driver.ComputeDriver))
        self.assertEqual('LibvirtDriver', cls.__name__)
