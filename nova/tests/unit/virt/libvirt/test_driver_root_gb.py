"""The flavor's root disk: an instance recorded with ``root_gb`` N gets an
N GiB qcow2 root image (local pool or NFS share), metadata ``disk_mib``
still wins, 0 or an older instance without the field makes no disk, and a
block migration's destination creates the same size.
"""

from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.simulator import libvirt as fakelibvirt
from nova.tests.unit.virt.libvirt import test_driver_disks as base
from nova.virt.libvirt import config
from nova.virt.libvirt import disk
from nova.virt.libvirt import driver as libvirt_driver

UUID = base.UUID
NAME = '%s-vda.qcow2' % UUID
GiB = disk.GiB


class RootGbTestCase(testtools.TestCase):

    def setUp(self):
        super(RootGbTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt', virt_type='qemu',
                         instances_path=base.PATH)
        self.hv = fakelibvirt.Hypervisors()
        self.a, self.b = (self._driver(name) for name in ('a', 'b'))
        self.image = config.BootImage('/k', '/i')

    def _driver(self, name):
        self.hv.add_host(name)
        host = base.PoolHost(self.hv.uri(name), libvirt_module=self.hv.module,
                             event_loop=False)
        return libvirt_driver.LibvirtDriver(host=host, clock=self.hv.clock)

    def instance(self, metadata=None, root_gb=None):
        return instance_obj.Instance(uuid=UUID, name='vm1', memory_mb=256,
                                     metadata=metadata or {},
                                     root_gb=root_gb)

    def test_flavor_disk_gives_the_root_image_its_size(self):
        inst = self.instance(root_gb=3)
        self.a.spawn(None, inst, self.image)
        self.assertEqual(('%s/%s' % (base.PATH, NAME), 3 * GiB),
                         self.a.host.volumes[NAME][:2])
        [info] = self.a.get_instance_disk_info(inst)
        self.assertEqual(3 * GiB, info.virt_size)

    def test_metadata_disk_mib_wins(self):
        self.a.spawn(None, self.instance({'disk_mib': '64'}, root_gb=3),
                     self.image)
        self.assertEqual(64 * disk.MiB, self.a.host.volumes[NAME][1])

    def test_zero_or_unrecorded_makes_no_disk(self):
        for root_gb in (0, None):
            guest = self.a.spawn(None, self.instance(root_gb=root_gb),
                                 self.image)
            self.assertNotIn('<disk', guest.get_xml_desc())
            self.assertEqual({}, self.a.host.volumes)
            guest.destroy()
            guest.undefine()

    def test_block_migration_destination_gets_the_same_size(self):
        inst = self.instance(root_gb=2)
        self.a.spawn(None, inst, self.image)
        # The destination's compute reloads the instance from the database:
        # the sizes come from the source's disk info, not from the record.
        dest_view = self.instance(root_gb=None)
        data = self.b.pre_live_migration(
            None, dest_view, migrate_data_obj.LibvirtLiveMigrateData(
                block_migration=True, disks=[
                    d.to_dict() for d in self.a.get_instance_disk_info(inst)]))
        self.assertTrue(data.block_migration)
        self.assertEqual(self.a.host.volumes[NAME][:2],
                         self.b.host.volumes[NAME][:2])
        self.assertEqual(2 * GiB, self.b.host.volumes[NAME][1])

    def test_nfs_share_image_has_the_flavor_size(self):
        self.conf.config(group='libvirt',
                         images_nfs_share='198.19.0.1:/srv/nova')
        ran = []
        self.a._run_qemu_img = lambda *args: ran.append(args)
        self.a.spawn(None, self.instance(root_gb=1), self.image)
        self.assertEqual([('create', '-q', '-f', 'qcow2',
                           'nfs://198.19.0.1/srv/nova/' + NAME,
                           str(GiB))], ran)
