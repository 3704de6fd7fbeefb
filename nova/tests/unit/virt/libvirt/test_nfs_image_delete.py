"""Deleting an instance's root image on the ``[libvirt] images_nfs_share``
export: which call paths remove it (the instance's delete on its current
host) and which keep it (the source's clean-up after a live migration, the
destination's rollback of a failed one, ``destroy_disks=False``), on the
fake hypervisor; the pure selection of the images; and the libnfs call
against a stand-in library.

The real export (nfs-ganesha, libnfs) is exercised on the lab by
``SharedNfsStorageTestCase`` in
nova/tests/functional/libvirt/test_block_migration.py.
"""

import ctypes
import errno

import fixtures
from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.simulator import libvirt as fakelibvirt
from nova.tests.unit.virt.libvirt import test_driver_disks
from nova.virt.libvirt import config
from nova.virt.libvirt import disk
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import libnfs

UUID = test_driver_disks.UUID
NAME = '%s-vda.qcow2' % UUID
SERVER = '198.19.0.1'
IMAGE = (SERVER, '/srv/nova/' + NAME)


def domain_xml(disks):
    return config.guest_xml(config.GuestConfig(
        name='vm', uuid=UUID, memory_mib=256, vcpus=1, virt_type='qemu',
        image=config.BootImage('/k', '/i'), disks=disks))


class SelectionTestCase(testtools.TestCase):
    """disk.nfs_images_to_delete: only the instance's own root image."""

    share = (SERVER, '/srv/nova')

    def test_the_instance_s_root_image_is_deleted(self):
        xml = domain_xml((config.GuestDisk(path=IMAGE[1],
                                           nfs_host=SERVER),))
        self.assertEqual([IMAGE], disk.nfs_disks_from_domain_xml(xml))
        self.assertEqual(([IMAGE], []),
                         disk.nfs_images_to_delete(xml, self.share, UUID))

    def test_anything_else_is_kept(self):
        others = [
            (SERVER, '/srv/nova/other-vda.qcow2'),          # not its name
            (SERVER, '/srv/nova/sub/' + NAME),              # below the share
            (SERVER, '/srv/other/' + NAME),                 # another export
            ('198.19.0.2', '/srv/nova/' + NAME),            # another server
        ]
        xml = domain_xml(tuple(config.GuestDisk(
            path=path, nfs_host=host, target='vd%s' % 'bcde'[i])
            for i, (host, path) in enumerate(others)))
        self.assertEqual(([], others),
                         disk.nfs_images_to_delete(xml, self.share, UUID))

    def test_no_share_configured_deletes_nothing(self):
        xml = domain_xml((config.GuestDisk(path=IMAGE[1],
                                           nfs_host=SERVER),))
        self.assertEqual(([], [IMAGE]),
                         disk.nfs_images_to_delete(xml, None, UUID))

    def test_local_disks_are_not_nfs_images(self):
        xml = domain_xml((config.GuestDisk(path='/var/lib/x/' + NAME),))
        self.assertEqual([], disk.nfs_disks_from_domain_xml(xml))
        self.assertEqual(([], []), disk.nfs_images_to_delete(
            xml, self.share, UUID))

    def test_share_at_the_export_root(self):
        xml = domain_xml((config.GuestDisk(path='/' + NAME,
                                           nfs_host=SERVER),))
        self.assertEqual(([(SERVER, '/' + NAME)], []),
                         disk.nfs_images_to_delete(xml, (SERVER, '/'), UUID))


class DriverDeleteTestCase(testtools.TestCase):
    """The driver's call paths, lab-a and lab-b sharing the export."""

    def setUp(self):
        super(DriverDeleteTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt', virt_type='qemu',
                         instances_path=test_driver_disks.PATH,
                         images_nfs_share=SERVER + ':/srv/nova')
        self.log = self.useFixture(fixtures.FakeLogger(
            level='INFO', format='%(levelname)s %(message)s'))
        self.hv = fakelibvirt.Hypervisors()
        self.hv.add_host('a')
        self.hv.add_host('b')
        self.unlinked = []
        self.unlink_error = None
        self.a = self._driver('a')
        self.b = self._driver('b')
        self.inst = instance_obj.Instance(uuid=UUID, name='vm1',
                                          memory_mb=256,
                                          metadata={'disk_mib': '64'})
        self.a.spawn(None, self.inst, config.BootImage('/k', '/i'))

    def _driver(self, name):
        host = test_driver_disks.PoolHost(
            self.hv.uri(name), libvirt_module=self.hv.module,
            event_loop=False)
        drv = libvirt_driver.LibvirtDriver(host=host, clock=self.hv.clock)
        drv._run_qemu_img = lambda *args: None

        def unlink(server, path):
            if self.unlink_error is not None:
                raise self.unlink_error
            self.unlinked.append((name, server, path))
            return True
        drv._unlink_nfs_image = unlink
        return drv

    def migrate(self, fail=None):
        """lab-b's pre_live_migration, lab-a's migration; the compute
        manager's steps on lab-b after it (post, or rollback).
        """
        data = self.b.pre_live_migration(
            None, self.inst, migrate_data_obj.LibvirtLiveMigrateData(
                block_migration='auto', disks=[]))
        self.assertIs(False, data.block_migration)
        if fail:
            self.hv.fail_next_migration(UUID, fail)
        calls = []

        def post(ctx, inst, dest, block, migrate_data):
            calls.append('post')
            self.b.post_live_migration_at_destination(ctx, inst,
                                                      migrate_data)

        def recover(ctx, inst, dest, migrate_data, migration_status=None):
            calls.append('recover')
            self.b.rollback_live_migration_at_destination(ctx, inst)

        result = self.a.live_migration(None, self.inst, 'b', post, recover,
                                       block_migration=False,
                                       migrate_data=data)
        return result, calls

    def where(self):
        return tuple(d.host.find_guest(UUID) is not None
                     for d in (self.a, self.b))

    def test_delete_where_it_runs_removes_the_image(self):
        self.assertTrue(self.a.destroy(None, self.inst))
        self.assertEqual([('a',) + IMAGE], self.unlinked)
        self.assertIn('Deleted the root disk nfs://%s%s' % IMAGE,
                      self.log.output)

    def test_destroy_disks_false_keeps_it(self):
        self.assertTrue(self.a.destroy(None, self.inst, destroy_disks=False))
        self.assertEqual((False, False), self.where())
        self.assertEqual([], self.unlinked)

    def test_successful_migration_keeps_it_for_the_destination(self):
        result, calls = self.migrate()
        self.assertTrue(result.completed, result.error)
        self.assertEqual(['post'], calls)
        self.assertEqual((False, True), self.where())
        self.assertEqual([], self.unlinked)
        # The source has nothing left to destroy, and does not touch it.
        self.assertFalse(self.a.destroy(None, self.inst))
        self.assertEqual([], self.unlinked)
        # The delete of the instance, on the host it runs on now.
        self.assertTrue(self.b.destroy(None, self.inst))
        self.assertEqual([('b',) + IMAGE], self.unlinked)

    def test_failed_migration_rollback_keeps_it_for_the_source(self):
        result, calls = self.migrate(fail='the link broke')
        self.assertFalse(result.completed)
        self.assertEqual(['recover'], calls)
        self.assertEqual((True, False), self.where())
        self.assertEqual([], self.unlinked)

    def test_rollback_of_a_stopped_leftover_keeps_it(self):
        # What a migration that failed at the end leaves on lab-b: the
        # domain defined there, not running, on the same image.
        xml = self.a.host.get_guest(UUID).get_xml_desc()
        self.b.host.get_connection().defineXML(xml)
        self.assertEqual((True, True), self.where())
        self.b.rollback_live_migration_at_destination(None, self.inst)
        self.assertEqual((True, False), self.where())
        self.assertEqual([], self.unlinked)

    def test_a_failed_delete_is_a_warning_not_a_failure(self):
        self.unlink_error = libnfs.NfsError('cannot mount: timed out')
        self.assertTrue(self.a.destroy(None, self.inst))
        self.assertEqual((False, False), self.where())
        self.assertIn('WARNING Could not delete the root disk nfs://%s%s: '
                      'cannot mount: timed out' % IMAGE, self.log.output)

    def test_share_no_longer_configured_keeps_it_with_a_warning(self):
        self.conf.config(group='libvirt', images_nfs_share='')
        self.assertTrue(self.a.destroy(None, self.inst))
        self.assertEqual([], self.unlinked)
        self.assertIn('WARNING Left nfs://%s%s on its export' % IMAGE,
                      self.log.output)


class FakeLibnfs(object):
    """The libnfs calls unlink makes, with scripted return codes."""

    def __init__(self, mount=0, unlink=0, context=1):
        self.calls = []
        self.rc = {'mount': mount, 'unlink': unlink}
        self.context = context

    def nfs_init_context(self):
        self.calls.append(('init',))
        return self.context

    def nfs_set_timeout(self, ctx, ms):
        self.calls.append(('timeout', ms))

    def nfs_mount(self, ctx, server, export):
        self.calls.append(('mount', server, export))
        return self.rc['mount']

    def nfs_unlink(self, ctx, path):
        self.calls.append(('unlink', path))
        return self.rc['unlink']

    def nfs_get_error(self, ctx):
        return b'nfs_service failed'

    def nfs_destroy_context(self, ctx):
        self.calls.append(('destroy',))


class LibnfsTestCase(testtools.TestCase):

    def test_mounts_the_directory_and_removes_the_file(self):
        lib = FakeLibnfs()
        self.assertTrue(libnfs.unlink(SERVER, IMAGE[1], library=lib,
                                      timeout_ms=5000))
        self.assertEqual([('init',), ('timeout', 5000),
                          ('mount', SERVER.encode(), b'/srv/nova'),
                          ('unlink', ('/' + NAME).encode()),
                          ('destroy',)], lib.calls)

    def test_missing_file_is_not_an_error(self):
        lib = FakeLibnfs(unlink=-errno.ENOENT)
        self.assertFalse(libnfs.unlink(SERVER, IMAGE[1], library=lib))
        self.assertEqual(('destroy',), lib.calls[-1])

    def test_mount_failure_raises_and_frees_the_context(self):
        lib = FakeLibnfs(mount=-errno.EIO)
        exc = self.assertRaises(libnfs.NfsError, libnfs.unlink, SERVER,
                                IMAGE[1], library=lib)
        self.assertIn('cannot mount 198.19.0.1:/srv/nova: nfs_service '
                      'failed', str(exc))
        self.assertNotIn('unlink', [c[0] for c in lib.calls])
        self.assertEqual(('destroy',), lib.calls[-1])

    def test_unlink_failure_raises(self):
        lib = FakeLibnfs(unlink=-errno.EACCES)
        self.assertRaises(libnfs.NfsError, libnfs.unlink, SERVER, IMAGE[1],
                          library=lib)
        self.assertEqual(('destroy',), lib.calls[-1])

    def test_no_context(self):
        lib = FakeLibnfs(context=None)
        self.assertRaises(libnfs.NfsError, libnfs.unlink, SERVER, IMAGE[1],
                          library=lib)

    def test_bad_paths_are_refused_before_any_call(self):
        for bad in ('', 'relative/x.qcow2', '/srv/nova/', '/srv/..'):
            self.assertRaises(ValueError, libnfs.unlink, SERVER, bad,
                              library=FakeLibnfs())
        self.assertEqual(('/', 'x.qcow2'), libnfs.split_image_path('/x.qcow2'))

    def test_missing_library_is_an_nfs_error(self):
        self.assertRaises(libnfs.NfsError, libnfs._load,
                          'libnfs-does-not-exist.so.0')

    def test_prototypes(self):
        # The real library where this machine has it (libnfs13).
        try:
            lib = libnfs._load()
        except libnfs.NfsError as exc:
            self.skipTest(str(exc))
        self.assertIs(ctypes.c_void_p, lib.nfs_init_context.restype)
        self.assertEqual([ctypes.c_void_p, ctypes.c_char_p],
                         lib.nfs_unlink.argtypes)
