"""The driver's instance disks: spawn with a root disk, the destination's
images for a block migration (explicit and 'auto'), rollback and cleanup.

Domains come from the simulated hypervisor; the storage pool is a small
in-memory stand-in for libvirt's (the real one is exercised on the lab by
nova/tests/functional/libvirt/test_block_migration.py).
"""

import xml.etree.ElementTree as ET

from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova import exception
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.simulator import libvirt as fakelibvirt
from nova.virt.libvirt import config
from nova.virt.libvirt import disk
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host

UUID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
PATH = '/var/lib/nova/instances'
MiB = disk.MiB


class PoolHost(libvirt_host.Host):
    """A Host whose storage pool is a dict: name -> (path, size, xml)."""

    def __init__(self, *args, **kwargs):
        self.shared = kwargs.pop('shared', None)
        super(PoolHost, self).__init__(*args, **kwargs)
        self.volumes = self.shared if self.shared is not None else {}
        self.pool_xmls = []

    def instances_pool(self, pool_xml, name):
        self.pool_xmls.append((pool_xml, name))
        return ET.fromstring(pool_xml).findtext('./target/path')

    def create_volume(self, pool, volume_xml):
        root = ET.fromstring(volume_xml)
        name = root.findtext('name')
        assert name not in self.volumes, name
        path = '%s/%s' % (pool, name)
        self.volumes[name] = (path, int(root.findtext('capacity')),
                              volume_xml)
        return path

    def find_volume(self, pool, name):
        found = self.volumes.get(name)
        return found and found[:2]

    def delete_volume(self, pool, name):
        return self.volumes.pop(name, None) is not None


class DriverDisksTestCase(testtools.TestCase):

    def setUp(self):
        super(DriverDisksTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt', virt_type='qemu',
                         instances_path=PATH)
        self.hv = fakelibvirt.Hypervisors()
        self.hv.add_host('a')
        self.hv.add_host('b')
        self.a = self._driver('a')
        self.b = self._driver('b')
        self.image = config.BootImage('/k', '/i')

    def _driver(self, name, shared=None):
        host = PoolHost(self.hv.uri(name), libvirt_module=self.hv.module,
                        event_loop=False, shared=shared)
        return libvirt_driver.LibvirtDriver(host=host, clock=self.hv.clock)

    def instance(self, metadata):
        return instance_obj.Instance(uuid=UUID, name='vm1', memory_mb=256,
                                     metadata=metadata)

    def data(self, block_migration, disks):
        return migrate_data_obj.LibvirtLiveMigrateData(
            block_migration=block_migration,
            disks=[d.to_dict() for d in disks])

    def test_spawn_without_disk_mib_makes_no_disk(self):
        guest = self.a.spawn(None, self.instance({}), self.image)
        self.assertNotIn('<disk', guest.get_xml_desc())
        self.assertEqual({}, self.a.host.volumes)
        self.assertEqual([], self.a.get_instance_disk_info(
            self.instance({})))

    def test_spawn_with_disk_mib_creates_and_attaches_the_image(self):
        inst = self.instance({'disk_mib': '64'})
        guest = self.a.spawn(None, inst, self.image)
        name = '%s-vda.qcow2' % UUID
        self.assertEqual(('%s/%s' % (PATH, name), 64 * MiB),
                         self.a.host.volumes[name][:2])
        source = ET.fromstring(guest.get_xml_desc()).find(
            './devices/disk/source')
        self.assertEqual('%s/%s' % (PATH, name), source.get('file'))
        [info] = self.a.get_instance_disk_info(inst)
        self.assertEqual(('vda', 64 * MiB, 'qcow2'),
                         (info.target, info.virt_size, info.format))

    def test_block_migration_creates_the_same_image_on_the_destination(self):
        inst = self.instance({'disk_mib': '96'})
        self.a.spawn(None, inst, self.image)
        disks = self.a.get_instance_disk_info(inst)
        data = self.b.pre_live_migration(None, inst, self.data(True, disks))
        self.assertTrue(data.block_migration)
        name = '%s-vda.qcow2' % UUID
        self.assertEqual(self.a.host.volumes[name][:2],
                         self.b.host.volumes[name][:2])

    def test_auto_copies_local_disks(self):
        inst = self.instance({'disk_mib': '64'})
        self.a.spawn(None, inst, self.image)
        data = self.b.pre_live_migration(None, inst, self.data(
            'auto', self.a.get_instance_disk_info(inst)))
        self.assertIs(True, data.block_migration)
        self.assertEqual(1, len(self.b.host.volumes))

    def test_auto_on_shared_storage_copies_nothing(self):
        shared = {}
        self.a = self._driver('a', shared=shared)
        self.b = self._driver('b', shared=shared)
        inst = self.instance({'disk_mib': '64'})
        self.a.spawn(None, inst, self.image)
        data = self.b.pre_live_migration(None, inst, self.data(
            'auto', self.a.get_instance_disk_info(inst)))
        self.assertIs(False, data.block_migration)
        self.assertEqual(1, len(shared))
        # A rollback on the destination must not delete the shared image.
        self.b.rollback_live_migration_at_destination(None, inst)
        self.assertEqual(1, len(shared))

    def test_auto_without_disks_is_no_block_migration(self):
        data = self.b.pre_live_migration(None, self.instance({}),
                                         self.data('auto', []))
        self.assertIs(False, data.block_migration)

    def test_explicit_block_migration_refuses_an_existing_image(self):
        shared = {}
        self.a = self._driver('a', shared=shared)
        self.b = self._driver('b', shared=shared)
        inst = self.instance({'disk_mib': '64'})
        self.a.spawn(None, inst, self.image)
        self.assertRaises(exception.MigrationPreCheckError,
                          self.b.pre_live_migration, None, inst,
                          self.data(True, self.a.get_instance_disk_info(
                              inst)))

    def test_rollback_deletes_the_images_it_created(self):
        inst = self.instance({'disk_mib': '64'})
        self.a.spawn(None, inst, self.image)
        self.b.pre_live_migration(None, inst, self.data(
            True, self.a.get_instance_disk_info(inst)))
        self.b.rollback_live_migration_at_destination(None, inst)
        self.assertEqual({}, self.b.host.volumes)
        self.assertEqual(1, len(self.a.host.volumes))

    def test_destroy_deletes_the_image(self):
        inst = self.instance({'disk_mib': '64'})
        self.a.spawn(None, inst, self.image)
        self.assertTrue(self.a.destroy(None, inst))
        self.assertEqual({}, self.a.host.volumes)
