"""Block migration of guests with a local qcow2 disk on the real lab.

The guest boots on lab-a with a root disk in lab-a's own instances pool
(``[libvirt] instances_path``, /var/lib/libvirt/instances: a directory each
lab host has privately); lab-b's ``pre_live_migration`` creates the empty
image of the same size from lab-a's disk info, and lab-a's driver migrates
with VIR_MIGRATE_NON_SHARED_INC and ``migrate_disks``: QEMU mirrors the disk
over NBD first, then the memory. The guest fills part of its disk with
random blocks, keeps their SHA-256 in memory and reads them back from the
disk every few seconds (``LABDISK check``, tools/lab/guest/diskload): the
first check that runs on lab-b reads lab-b's copy.

Shared storage (no copy): this machine's kernel has neither an NFS client
nor server, so SharedNfsStorageTestCase puts the disk on the lab's
user-space NFS export (nfs-ganesha, tools/lab/README.rst "Shared storage")
through ``[libvirt] images_nfs_share``; QEMU opens it over libnfs.
"""

import json
import os
import re
import subprocess
import time

import testtools

from nova.tests.functional.libvirt import lab
from nova.tests.functional.libvirt import test_live_migration as base
from nova import utils
from nova.virt.libvirt import disk as libvirt_disk

MiB = 1024 * 1024
INSTANCES_PATH = '/var/lib/libvirt/instances'
CHECK = re.compile(r'LABDISK check n=(?P<n>\d+) (?P<verdict>ok|BAD)'
                   r'(?: blocks=(?P<blocks>[0-9,]+))?')
STARTED = re.compile(r'LABDISK checking n=(\d+)')


def disk_checks(path):
    """[(n, 'ok'|'BAD', blocks)] the guest printed so far."""
    with open(path, errors='replace') as handle:
        return [(int(m.group('n')), m.group('verdict'), m.group('blocks'))
                for m in CHECK.finditer(handle.read())]


def destination_steps(driver_b):
    """(calls, post, recover): the compute manager's steps on lab-b."""
    calls = []

    def post(context, inst, dest, block, migrate_data):
        calls.append(('post', block))
        driver_b.post_live_migration_at_destination(context, inst,
                                                    migrate_data)

    def recover(context, inst, dest, migrate_data, migration_status):
        calls.append(('recover', migration_status))
        driver_b.rollback_live_migration_at_destination(context, inst)

    return calls, post, recover


class BlockMigrationTestCase(base.LabTestCase):

    def setUp(self):
        super(BlockMigrationTestCase, self).setUp()
        # The Migration record is saved every second (the option's
        # minimum), and each case's disk copy lasts about 3 s at its cap,
        # so saves during the disk phase do not depend on luck: at 40
        # MiB/s a 34 MiB copy once ended between two 5 s saves.
        self.flags(instances_path=INSTANCES_PATH,
                   live_migration_monitor_interval=1)

    def boot_with_disk(self, disk_mib, fill_mib, rate=0, **workload):
        metadata = {'disk_mib': str(disk_mib), 'disk_fill_mib': str(fill_mib),
                    'disk_rate': str(rate), 'disk_check_s': '4'}
        metadata.update(workload)
        instance = self.boot(memory_mb=192, metadata=metadata)
        lab.wait_for(lambda: disk_checks(self.console), 120,
                     what="the guest's first disk check")
        self.assertEqual('ok', disk_checks(self.console)[0][1],
                         disk_checks(self.console))
        return instance

    def block_migrate(self, instance):
        """lab-b's pre_live_migration, then lab-a's block migration.

        Every save of the Migration record (what ``server migration show``
        reads) is kept with its time.
        """
        saves = []

        def saver(mig):
            saves.append((time.monotonic(), mig.status, mig.disk_total,
                          mig.disk_processed, mig.disk_remaining,
                          mig.memory_processed))

        data = lab.migrate_data(self.b['addr'], saver=saver)
        data.block_migration = True
        data.disks = [d.to_dict() for d in
                      self.driver_a.get_instance_disk_info(instance)]
        self.driver_b.pre_live_migration(None, instance, data)
        calls, post, recover = destination_steps(self.driver_b)

        started = time.monotonic()
        result = self.driver_a.live_migration(
            None, instance, 'lab-b', post, recover, block_migration=True,
            migrate_data=data)
        result.wall = time.monotonic() - started
        result.calls = calls
        result.saves = saves
        result.migrate_data = data
        return result

    def assertDiskIntactOnDestination(self, console_offset):
        """A disk check that started after the migration completed (its
        "checking" line is past ``console_offset``) says ok: it read lab-b's
        copy of the disk. Checks before it must have said ok too.
        """
        def started_after():
            with open(self.console, errors='replace') as handle:
                handle.seek(console_offset)
                return [int(n) for n in STARTED.findall(handle.read())]

        first = lab.wait_for(started_after, 60,
                             what='a disk check starting on the '
                                  'destination')[0]
        lab.wait_for(lambda: [c for c in disk_checks(self.console)
                              if c[0] >= first], 60,
                     what='disk check n=%d to end' % first)
        checks = disk_checks(self.console)
        self.assertEqual([], [c for c in checks if c[1] != 'ok'],
                         'disk checks: %s' % checks)

    def assertDiskPhaseSeen(self, result, written_bytes, disk_bytes):
        """The record's disk figures moved while the disk was copied.

        QEMU's disk total is what the mirror has to copy: the clusters the
        guest wrote (``written_bytes`` and more), not the virtual size.
        """
        with_disk = [s for s in result.saves if s[2] > 0]
        self.assertTrue(with_disk, 'no save carried disk figures: %s'
                        % result.saves)
        totals = {s[2] for s in with_disk}
        self.assertTrue(all(written_bytes <= t <= disk_bytes
                            for t in totals),
                        (totals, written_bytes, disk_bytes))
        # The copy ends complete, and the counters moved from 0.
        self.assertEqual(with_disk[-1][2], with_disk[-1][3], result.saves)
        self.assertEqual(0, with_disk[-1][4], result.saves)
        processed = [s[3] for s in result.saves]
        self.assertGreater(max(processed), min(processed), result.saves)
        # A save while the disk was still being copied is reported, not
        # asserted: libvirt 9.0 sometimes answers no job statistics for
        # the whole NBD copy (CI saw a 3.2 s gap covering a 3 s copy).
        return [s for s in with_disk if s[4] > 0]

    def _run(self, case, disk_mib, fill_mib, rate=0, **workload):
        instance = self.boot_with_disk(disk_mib, fill_mib, rate, **workload)
        source = self.driver_a.get_instance_disk_info(instance)
        self.assertEqual(['vda'], [d.target for d in source])
        self.assertEqual(disk_mib * MiB, source[0].virt_size)
        result = self.block_migrate(instance)
        console_offset = os.path.getsize(self.console)
        self.assertTrue(result.completed, result.error)
        self.assertEqual([('post', True)], result.calls)
        self.assertEqual((False, True), self.where(instance))
        self.assertEqual(disk_mib * MiB, result.migrate_data.disk_bytes)
        # The destination has its own image now; the source's is gone.
        pool_b = self.driver_b._instances_pool()
        pool_a = self.driver_a._instances_pool()
        name = libvirt_disk.volume_name(instance.uuid)
        self.assertIsNotNone(self.driver_b.host.find_volume(pool_b, name))
        self.assertIsNone(self.driver_a.host.find_volume(pool_a, name))
        self.assertDiskIntactOnDestination(console_offset)
        self.assertGuestKeepsRunning()
        during = self.assertDiskPhaseSeen(result, fill_mib * MiB,
                                          disk_mib * MiB)
        self.addDetail('saves during the disk copy',
                       testtools.content.text_content('%d of %d saves' % (
                           len(during), len(result.saves))))
        self.record(case, result, instance)
        self.addDetail('disk figures', testtools.content.json_content({
            'disk_mib': disk_mib, 'disk_fill_mib': fill_mib,
            'disk_rate': rate,
            'disk_total_mib': round(max(s[2] for s in result.saves) / MiB,
                                    1),
            'disk_processed_mib': round(max(s[3] for s in result.saves) /
                                        MiB, 1)}))
        return result

    def test_idle_guest_block_migrates_with_its_disk(self):
        # 8 MiB/s: the disk phase (libvirt caps the NBD mirror at the
        # migration's bandwidth too) lasts about 3 s, so the record shows
        # it.
        self.flags(live_migration_bandwidth=8)
        self._run('block-idle', disk_mib=64, fill_mib=24,
                  dirty_mib='32', dirty_rate='0')

    def test_busy_guest_block_migrates_while_writing_its_disk(self):
        # Memory dirtied at 20 MiB/s and two 1 MiB disk blocks rewritten
        # per second while the disk is mirrored; the link capped at
        # 40 MiB/s, auto-converge allowed; 112 MiB of the disk written, so
        # its copy lasts about 3 s.
        self.flags(live_migration_bandwidth=40,
                   live_migration_permit_auto_converge=True)
        self._run('block-busy', disk_mib=128, fill_mib=112, rate=2,
                  dirty_mib='48', dirty_rate='20')

    def test_force_complete_during_the_disk_copy_switches_after_it(self):
        # Post-copy permitted; the operator forces completion while the
        # disk is still being copied. QEMU refuses post-copy before its
        # memory migration starts (libvirt 9.0/QEMU 7.2: "Postcopy must be
        # started after migration has been started"), so the monitor holds
        # the request and switches at the memory copy's first poll; libvirt
        # completes the disk mirrors at the switch. The guest dirties more
        # than the link carries: only post-copy finishes it.
        self.flags(live_migration_bandwidth=10,
                   live_migration_permit_post_copy=True)
        instance = self.boot_with_disk(64, 24, dirty_mib='48',
                                       dirty_rate='30')

        def force_in_disk_phase():
            def copying_disk():
                active = self.driver_a.active_migration(instance.uuid)
                samples = active and active.state and active.state.samples
                return samples and any(
                    i.disk_remaining > 0 and i.memory_processed == 0
                    for _t, i in samples)
            lab.wait_for(copying_disk, 60, interval=0.2,
                         what='the disk copy to start')
            self.driver_a.live_migration_force_complete(instance)

        forcer = utils.spawn(force_in_disk_phase)
        result = self.block_migrate(instance)
        forcer.wait(timeout=60)
        self.assertTrue(result.completed, result.error)
        self.assertTrue(result.state.postcopy.confirmed)
        console_offset = os.path.getsize(self.console)
        self.assertEqual((False, True), self.where(instance))
        self.assertDiskIntactOnDestination(console_offset)
        self.assertGuestKeepsRunning()
        self.record('block-postcopy-forced', result, instance)


class SharedNfsStorageTestCase(base.LabTestCase):
    """A guest whose root disk is on the lab's NFS export live-migrates with
    ``block_migration`` false: libvirt counts the network disk as shared,
    nothing is copied, and lab-b's QEMU opens the same image. The image
    outlives the source's clean-up; destroying the guest on lab-b, where
    it now runs, removes it from the export (over NFS, libnfs).
    """

    boot_with_disk = BlockMigrationTestCase.boot_with_disk
    assertDiskIntactOnDestination = (
        BlockMigrationTestCase.assertDiskIntactOnDestination)

    def setUp(self):
        super(SharedNfsStorageTestCase, self).setUp()
        if not self.env.get('NOVA_LAB_NFS_EXPORT'):
            self.skipTest('lab.env names no NFS export: the lab predates '
                          'setup.sh step_shared_storage; run setup.sh')
        if self.env.get('NOVA_LAB_A_BUILD', 'system') != 'system' or \
                self.env.get('NOVA_LAB_B_BUILD', 'system') != 'system':
            self.skipTest("the backports stack's QEMU has no block-nfs "
                          "module in the lab (qemu-block-extra is the "
                          "system's only)")
        self.flags(images_nfs_share='%s:%s' % (
            self.env['NOVA_LAB_NFS_HOST'], self.env['NOVA_LAB_NFS_EXPORT']))

    def test_guest_on_nfs_migrates_without_disk_copy(self):
        instance = self.boot_with_disk(64, 8, rate=1, dirty_mib='32',
                                       dirty_rate='10')
        self.assertIn("protocol='nfs'", self.driver_a.host.get_guest(
            instance.uuid).get_xml_desc())
        self.assertEqual([], self.driver_a.get_instance_disk_info(instance))
        saves = []

        def saver(mig):
            saves.append((mig.status, mig.disk_total, mig.disk_processed))

        data = lab.migrate_data(self.b['addr'], saver=saver)
        data.block_migration = 'auto'
        data.disks = []
        self.driver_b.pre_live_migration(None, instance, data)
        self.assertIs(False, data.block_migration)
        calls, post, recover = destination_steps(self.driver_b)

        result = self.driver_a.live_migration(
            None, instance, 'lab-b', post, recover, block_migration=False,
            migrate_data=data)
        console_offset = os.path.getsize(self.console)
        self.assertTrue(result.completed, result.error)
        self.assertEqual([('post', False)], calls)
        self.assertEqual((False, True), self.where(instance))
        self.assertEqual([], [s for s in saves if s[1] or s[2]],
                         'a disk was copied: %s' % saves)
        self.assertIn("protocol='nfs'", self.driver_b.host.get_guest(
            instance.uuid).get_xml_desc())
        self.assertDiskIntactOnDestination(console_offset)
        self.assertGuestKeepsRunning()
        # The source's clean-up after the migration left the image to
        # lab-b's guest; deleting the instance where it runs now removes it.
        url = self.image_url(instance)
        self.assertEqual(64 * MiB, self.nfs_image_size(url))
        self.assertFalse(self.driver_a.destroy(None, instance))
        self.assertEqual(64 * MiB, self.nfs_image_size(url))
        self.assertTrue(self.driver_b.destroy(None, instance))
        self.assertIsNone(self.nfs_image_size(url))
        self.assertIn('Deleted the root disk %s' % url, self.log.output)

    def image_url(self, instance):
        host, path = libvirt_disk.nfs_image(
            libvirt_disk.parse_nfs_share(
                self.conf.conf.libvirt.images_nfs_share),
            libvirt_disk.volume_name(instance.uuid))
        return libvirt_disk.nfs_url(host, path)

    def nfs_image_size(self, url):
        """The image's virtual size read over NFS (qemu-img, libnfs, as
        QEMU opens it), or None when qemu-img cannot open it.
        """
        proc = subprocess.run(
            ('qemu-img', 'info', '--force-share', '--output=json', url),
            capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            self.addDetail('qemu-img-info-%d' % len(self.getDetails()),
                           testtools.content.text_content(proc.stderr))
            return None
        return json.loads(proc.stdout)['virtual-size']
