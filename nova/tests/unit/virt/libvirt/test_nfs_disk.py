"""Root disks on an NFS export QEMU opens itself ([libvirt]
images_nfs_share): the share's parsing, the network disk's XML, and the
driver's decisions (the image is created over NFS, the source offers no
local disk to copy, the destination creates nothing).

The real export (nfs-ganesha, libnfs) is exercised on the lab by
nova/tests/functional/libvirt/test_block_migration.py.
"""

import xml.etree.ElementTree as ET

from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova import exception
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.simulator import libvirt as fakelibvirt
from nova.tests.unit.virt.libvirt import test_disk
from nova.tests.unit.virt.libvirt import test_driver_disks
from nova.virt.libvirt import config
from nova.virt.libvirt import disk
from nova.virt.libvirt import driver as libvirt_driver

UUID = test_driver_disks.UUID
NAME = '%s-vda.qcow2' % UUID


class ShareTestCase(testtools.TestCase):

    def test_empty_means_no_share(self):
        self.assertIsNone(disk.parse_nfs_share(''))
        self.assertIsNone(disk.parse_nfs_share(None))

    def test_host_and_path(self):
        self.assertEqual(('198.19.0.1', '/srv/nova'),
                         disk.parse_nfs_share('198.19.0.1:/srv/nova/'))
        share = disk.parse_nfs_share('nfs.example.org:/x')
        self.assertEqual(('nfs.example.org', '/x/' + NAME),
                         disk.nfs_image(share, NAME))
        self.assertEqual('nfs://h/x/a.qcow2', disk.nfs_url('h', '/x/a.qcow2'))

    def test_nonsense_is_refused(self):
        for bad in ('/srv/nova', 'host:srv', ':/srv', 'h:/a/../b',
                    'h:/a b', 'h:/a?x', 'user@h:/a', 'nfs://h/a'):
            self.assertRaises(ValueError, disk.parse_nfs_share, bad)


class NetworkDiskXmlTestCase(testtools.TestCase):

    _xml = test_disk.DomainDisksTestCase._xml

    def test_nfs_disk_is_a_network_disk(self):
        root = ET.fromstring(self._xml((config.GuestDisk(
            path='/srv/nova/u-vda.qcow2', nfs_host='198.19.0.1'),)))
        element = root.find('./devices/disk')
        self.assertEqual(('network', 'disk'),
                         (element.get('type'), element.get('device')))
        source = element.find('source')
        self.assertEqual({'protocol': 'nfs', 'name': '/srv/nova/u-vda.qcow2'},
                         source.attrib)
        self.assertEqual({'name': '198.19.0.1'}, source.find('host').attrib)
        self.assertEqual({'name': 'qemu', 'type': 'qcow2', 'cache': 'none'},
                         element.find('driver').attrib)
        self.assertEqual({'dev': 'vda', 'bus': 'virtio'},
                         element.find('target').attrib)
        # Not a local disk: nothing for a block migration to copy.
        self.assertEqual([], disk.disks_from_domain_xml(ET.tostring(
            root, encoding='unicode')))

    def test_bad_server_is_refused(self):
        self.assertRaises(ValueError, self._xml, (config.GuestDisk(
            path='/a', nfs_host='h/../x'),))


class DriverNfsDiskTestCase(testtools.TestCase):

    def setUp(self):
        super(DriverNfsDiskTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt', virt_type='qemu',
                         instances_path=test_driver_disks.PATH,
                         images_nfs_share='198.19.0.1:/srv/nova')
        self.hv = fakelibvirt.Hypervisors()
        self.hv.add_host('a')
        self.hv.add_host('b')
        self.ran = []
        self.a = self._driver('a')
        self.b = self._driver('b')
        self.image = config.BootImage('/k', '/i')

    def _driver(self, name):
        host = test_driver_disks.PoolHost(
            self.hv.uri(name), libvirt_module=self.hv.module,
            event_loop=False)
        drv = libvirt_driver.LibvirtDriver(host=host, clock=self.hv.clock)
        drv._run_qemu_img = lambda *args: self.ran.append((name,) + args)
        return drv

    def instance(self):
        return instance_obj.Instance(uuid=UUID, name='vm1', memory_mb=256,
                                     metadata={'disk_mib': '64'})

    def test_spawn_creates_the_image_on_the_share(self):
        guest = self.a.spawn(None, self.instance(), self.image)
        self.assertEqual([('a', 'create', '-q', '-f', 'qcow2',
                           'nfs://198.19.0.1/srv/nova/' + NAME,
                           str(64 * disk.MiB))], self.ran)
        self.assertEqual({}, self.a.host.volumes)
        source = ET.fromstring(guest.get_xml_desc()).find(
            './devices/disk/source')
        self.assertEqual(('nfs', '/srv/nova/' + NAME),
                         (source.get('protocol'), source.get('name')))

    def test_destination_creates_nothing(self):
        inst = self.instance()
        self.a.spawn(None, inst, self.image)
        disks = self.a.get_instance_disk_info(inst)
        self.assertEqual([], disks)
        for block_migration in ('auto', False):
            data = self.b.pre_live_migration(
                None, inst, migrate_data_obj.LibvirtLiveMigrateData(
                    block_migration=block_migration, disks=[]))
            self.assertIs(False, data.block_migration)
        self.assertEqual({}, self.b.host.volumes)
        self.assertEqual(1, len(self.ran))

    def test_bad_share_fails_the_boot(self):
        self.conf.config(group='libvirt', images_nfs_share='srv/nova')
        self.assertRaises(exception.InternalError, self.a.spawn, None,
                          self.instance(), self.image)
        self.assertEqual([], self.ran)
