"""The flavor's root disk through the whole create path: the API records
the flavor's ``root_gb`` on the instance, the compute service's driver
makes a qcow2 root image of that size, and a block live migration makes
the same size on the destination (in-process cloud on the fake
hypervisor).
"""

import testtools

from nova.db import api as db_api
from nova.tests.unit.compute import cloud
from nova.virt.libvirt import disk

GiB = disk.GiB
MiB = disk.MiB


class RootGbTestCase(testtools.TestCase):

    def setUp(self):
        super(RootGbTestCase, self).setUp()
        self.cloud = self.useFixture(cloud.CloudFixture())
        self.api, self.ctx = self.cloud.api, self.cloud.ctx
        db_api.flavor_create(self.cloud.db, {
            'flavorid': 'disk2', 'name': 'lab.disk2', 'memory_mb': 256,
            'vcpus': 1, 'root_gb': 2})

    def volumes(self, host):
        """{image name: virtual size} in ``host``'s instances pool."""
        pools = self.cloud.hv.hosts[host].pools.values()
        return {name: vol.capacity for pool in pools
                for name, vol in pool.volumes.items()}

    def test_create_records_the_flavor_disk(self):
        inst = self.api.create_server(self.ctx, 'vm', 'disk2',
                                      self.cloud.database.image['id'])
        self.assertEqual(2, inst.root_gb)
        self.assertEqual(2, db_api.instance_get_by_uuid(
            self.cloud.db, inst.uuid)['root_gb'])
        self.assertEqual(2, self.api.get_server(self.ctx, inst.uuid).root_gb)
        inst = self.api.create_server(self.ctx, 'vm', '1',
                                      self.cloud.database.image['id'])
        self.assertEqual(0, inst.root_gb)

    def test_boot_makes_a_root_disk_of_the_flavor_size(self):
        inst = self.cloud.boot(flavor='disk2')
        self.assertEqual('active', inst.vm_state, inst.fault_message)
        self.assertEqual({'%s-vda.qcow2' % inst.uuid: 2 * GiB},
                         self.volumes('lab-a'))

    def test_metadata_disk_mib_still_wins(self):
        inst = self.cloud.boot(flavor='disk2', metadata={'disk_mib': '64'})
        self.assertEqual('active', inst.vm_state, inst.fault_message)
        self.assertEqual({'%s-vda.qcow2' % inst.uuid: 64 * MiB},
                         self.volumes('lab-a'))

    def test_flavor_without_disk_makes_none(self):
        inst = self.cloud.boot(flavor='1')
        self.assertEqual('active', inst.vm_state, inst.fault_message)
        self.assertEqual({}, self.volumes('lab-a'))

    def test_block_migration_recreates_the_size_on_the_destination(self):
        inst = self.cloud.boot(flavor='disk2')
        name = '%s-vda.qcow2' % inst.uuid
        mig = self.api.live_migrate(self.ctx, inst.uuid, host='lab-b',
                                    block_migration=True)
        mig = self.cloud.wait_until_settled(mig.id)
        self.assertEqual('completed', mig['status'])
        self.assertEqual(['lab-b'], self.cloud.guest_hosts(inst.uuid))
        self.assertEqual({name: 2 * GiB}, self.volumes('lab-b'))
        self.assertEqual({}, self.volumes('lab-a'))
