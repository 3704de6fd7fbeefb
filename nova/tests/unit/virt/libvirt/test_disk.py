"""Instance disks: sizes, names, pool/volume XML, disks of a domain."""

import xml.etree.ElementTree as ET

import testtools

from nova.virt.libvirt import config
from nova.virt.libvirt import disk

MiB = disk.MiB


class RootDiskBytesTestCase(testtools.TestCase):

    def test_no_disk_by_default(self):
        self.assertEqual(0, disk.root_disk_bytes({}))
        self.assertEqual(0, disk.root_disk_bytes(None, 0))

    def test_metadata_mib_wins_over_flavor(self):
        self.assertEqual(64 * MiB, disk.root_disk_bytes({'disk_mib': '64'}))
        self.assertEqual(96 * MiB,
                         disk.root_disk_bytes({'disk_mib': ' 96 '}, 1))

    def test_flavor_root_gb(self):
        self.assertEqual(2 * disk.GiB, disk.root_disk_bytes({}, 2))
        self.assertEqual(2 * disk.GiB, disk.root_disk_bytes({'disk_mib': ''},
                                                            2))

    def test_bad_sizes_are_refused(self):
        for value in ('-1', '1.5', '64M', '1; rm', str(disk.MAX_DISK_MIB + 1)):
            self.assertRaises(ValueError, disk.root_disk_bytes,
                              {'disk_mib': value})


class NamesAndXmlTestCase(testtools.TestCase):

    def test_volume_name(self):
        self.assertEqual('6e6f7661-0001-vda.qcow2',
                         disk.volume_name('6e6f7661-0001'))
        self.assertRaises(ValueError, disk.volume_name, '../etc/passwd')

    def test_pool_xml(self):
        root = ET.fromstring(disk.pool_xml('/var/lib/nova/instances'))
        self.assertEqual('dir', root.get('type'))
        self.assertEqual(disk.POOL_NAME, root.findtext('name'))
        self.assertEqual('/var/lib/nova/instances',
                         root.findtext('./target/path'))
        self.assertRaises(ValueError, disk.pool_xml, 'relative/path')

    def test_volume_xml_qcow2_without_backing(self):
        root = ET.fromstring(disk.volume_xml('u-vda.qcow2', 64 * MiB))
        self.assertEqual('u-vda.qcow2', root.findtext('name'))
        self.assertEqual(str(64 * MiB), root.findtext('capacity'))
        self.assertEqual('bytes', root.find('capacity').get('unit'))
        self.assertEqual('0', root.findtext('allocation'))
        self.assertEqual('qcow2', root.find('./target/format').get('type'))
        self.assertIsNone(root.find('backingStore'))

    def test_volume_xml_keeps_the_backing_file(self):
        root = ET.fromstring(disk.volume_xml(
            'u-vda.qcow2', disk.GiB, backing_file='/base/cirros.qcow2'))
        self.assertEqual('/base/cirros.qcow2',
                         root.findtext('./backingStore/path'))

    def test_volume_xml_refuses_nonsense(self):
        self.assertRaises(ValueError, disk.volume_xml, 'x', 0)
        self.assertRaises(ValueError, disk.volume_xml, 'x', MiB, fmt='vmdk')


class DomainDisksTestCase(testtools.TestCase):

    def _xml(self, disks):
        return config.guest_xml(config.GuestConfig(
            name='vm', uuid='u-1', memory_mib=256, vcpus=1, virt_type='qemu',
            image=config.BootImage('/k', '/i'), disks=disks))

    def test_guest_xml_has_a_virtio_qcow2_disk_without_host_cache(self):
        root = ET.fromstring(self._xml((config.GuestDisk(
            path='/var/lib/nova/instances/u-vda.qcow2'),)))
        element = root.find('./devices/disk')
        self.assertEqual(('file', 'disk'),
                         (element.get('type'), element.get('device')))
        self.assertEqual({'name': 'qemu', 'type': 'qcow2', 'cache': 'none'},
                         element.find('driver').attrib)
        self.assertEqual('/var/lib/nova/instances/u-vda.qcow2',
                         element.find('source').get('file'))
        self.assertEqual({'dev': 'vda', 'bus': 'virtio'},
                         element.find('target').attrib)

    def test_no_disk_element_without_disks(self):
        self.assertIsNone(ET.fromstring(self._xml(())).find('./devices/disk'))

    def test_bad_disks_are_refused(self):
        for bad in (config.GuestDisk(path='rel.qcow2'),
                    config.GuestDisk(path='/a', target='sda'),
                    config.GuestDisk(path='/a', format='vmdk'),
                    config.GuestDisk(path='/a', cache='fast')):
            self.assertRaises(ValueError, self._xml, (bad,))

    def test_disks_read_back_from_the_domain_xml(self):
        xml = self._xml((config.GuestDisk(path='/p/u-vda.qcow2'),
                         config.GuestDisk(path='/p/u-vdb.raw', target='vdb',
                                          format='raw')))
        found = disk.disks_from_domain_xml(xml)
        self.assertEqual([('vda', '/p/u-vda.qcow2', 'qcow2'),
                          ('vdb', '/p/u-vdb.raw', 'raw')],
                         [(d.target, d.path, d.format) for d in found])

    def test_disk_info_round_trips_and_sums(self):
        info = disk.DiskInfo('vda', '/p/u-vda.qcow2', 64 * MiB,
                             backing_file='/base/b.qcow2')
        self.assertEqual(info, disk.DiskInfo.from_dict(info.to_dict()))
        self.assertEqual(96 * MiB, disk.data_bytes(
            [info, disk.DiskInfo('vdb', '/p/x', 32 * MiB)]))
