"""The migration model's disk phase and its blackout prediction."""

import testtools

from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model as mm

C = fakelibvirt.C
MiB = mm.MiB
GiB = mm.GiB


def model(ram_mib=1024, disk_mib=0, disk_write=0.0, dirty=0.0,
          link_mib_s=100.0, copy_disk=True, **kw):
    workload = mm.Workload(ram=ram_mib * MiB, dirty_rate=dirty * MiB,
                           working_set=256 * MiB, disk=disk_mib * MiB,
                           disk_write_rate=disk_write * MiB)
    link = mm.Link(bandwidth=link_mib_s * MiB)
    return mm.MigrationModel(workload, link, copy_disk=copy_disk, **kw)


def run(job, seconds, step=0.5):
    t = 0.0
    while t < seconds and not job.ended:
        job.advance(step)
        t += step


class DiskPhaseTestCase(testtools.TestCase):

    def test_disk_first_with_libvirt_s_figures(self):
        job = model(disk_mib=1024)
        self.assertEqual(mm.PHASE_DISK, job.phase)
        job.advance(5.0)
        stats = job.job_stats()
        self.assertEqual(1024 * MiB, stats['disk_total'])
        self.assertEqual(500 * MiB, stats['disk_processed'])
        self.assertEqual(524 * MiB, stats['disk_remaining'])
        # QEMU's migration has not begun: memory keys present, all 0.
        for key in ('memory_total', 'memory_processed', 'memory_remaining',
                    'memory_iteration', 'memory_bps'):
            self.assertEqual(0, stats[key], key)
        self.assertNotIn('setup_time', stats)
        self.assertEqual(stats['disk_total'], stats['data_total'])
        self.assertEqual(stats['disk_remaining'], stats['data_remaining'])

    def test_memory_after_the_disk_figures_frozen(self):
        job = model(disk_mib=1024, disk_write=5.0)
        run(job, 11.0)
        self.assertEqual(mm.PHASE_PRECOPY, job.phase)
        ready = job.disk_ready_at
        # Rewritten blocks were copied again: the mirror's len grew.
        self.assertGreater(job.disk_total, 1024 * MiB)
        self.assertAlmostEqual(job.disk_total / (100 * MiB), ready,
                               delta=0.06)
        stats = job.job_stats()
        self.assertEqual(1024 * MiB, stats['memory_total'])
        self.assertGreater(stats['memory_processed'], 0)
        self.assertEqual(1, stats['memory_iteration'])
        self.assertEqual(int(job.disk_total), stats['disk_total'])
        self.assertEqual(0, stats['disk_remaining'])
        frozen = stats['disk_processed']
        job.advance(1.0)
        self.assertEqual(frozen, job.job_stats()['disk_processed'])
        self.assertEqual(stats['memory_total'] + stats['disk_total'],
                         stats['data_total'])
        # The mirror keeps synchronising writes: 5 of the 100 MiB/s.
        self.assertAlmostEqual(95 * MiB, job.job_stats()['memory_bps'],
                               delta=MiB)

    def test_writer_faster_than_the_link_never_leaves_the_disk_phase(self):
        job = model(disk_mib=256, disk_write=150.0)
        run(job, 60.0)
        self.assertEqual(mm.PHASE_DISK, job.phase)
        self.assertGreater(job.disk_remaining, 0)

    def test_no_postcopy_while_the_disk_is_copied(self):
        job = model(disk_mib=1024, postcopy_permitted=True)
        job.advance(1.0)
        self.assertEqual(mm.POSTCOPY_TOO_EARLY, job.start_postcopy())
        self.assertEqual(mm.PHASE_DISK, job.phase)

    def test_cancel_in_the_disk_phase(self):
        job = model(disk_mib=1024)
        job.advance(1.0)
        self.assertIsNone(job.cancel())
        self.assertEqual(mm.PHASE_CANCELLED, job.phase)

    def test_paused_guest_writes_nothing(self):
        job = model(disk_mib=512, disk_write=50.0)
        job.pause_guest()
        run(job, 6.0)
        self.assertEqual(512 * MiB, job.disk_total)

    def test_without_a_disk_nothing_changes(self):
        job = model(disk_mib=0)
        self.assertFalse(job.copy_disk)
        self.assertEqual(mm.PHASE_SETUP, job.phase)
        job.advance(1.0)
        stats = job.job_stats()
        self.assertIn('setup_time', stats)
        self.assertEqual(stats['memory_processed'], stats['data_processed'])


class FakeLibvirtBlockMigrationTestCase(testtools.TestCase):

    def migrate(self, flags, params=None, disk_mib=1024):
        hv = fakelibvirt.Hypervisors()
        hv.add_host('src')
        hv.add_host('dest')
        dom = hv.define_guest('src', 'g', 256, disk=disk_mib * MiB)
        hv.clock.add_ticker(lambda dt: None)
        job = {}

        def record(*args):
            job['job'] = hv.migrations[-1][2]
            raise RuntimeError('stop here')
        self.useFixture_patch(hv, record)
        self.assertRaises(RuntimeError, dom.migrateToURI3,
                          hv.uri('dest'), params or {},
                          C.VIR_MIGRATE_LIVE | C.VIR_MIGRATE_PEER2PEER |
                          flags)
        return job['job'], dom

    def useFixture_patch(self, hv, record):
        domain_class = fakelibvirt.FakeDomain
        original = domain_class._run_job
        domain_class._run_job = lambda self, *args: record()
        self.addCleanup(setattr, domain_class, '_run_job', original)

    def test_non_shared_inc_copies_the_disk(self):
        job, dom = self.migrate(C.VIR_MIGRATE_NON_SHARED_INC)
        self.assertTrue(job.copy_disk)
        self.assertIn("<target dev=\"vda\"", dom.XMLDesc())

    def test_without_the_flag_no_copy(self):
        job, _dom = self.migrate(0)
        self.assertFalse(job.copy_disk)

    def test_migrate_disks_without_the_disk_no_copy(self):
        job, _dom = self.migrate(
            C.VIR_MIGRATE_NON_SHARED_DISK,
            {C.VIR_MIGRATE_PARAM_MIGRATE_DISKS: ['vdb']})
        self.assertFalse(job.copy_disk)
        job, _dom = self.migrate(
            C.VIR_MIGRATE_NON_SHARED_DISK,
            {C.VIR_MIGRATE_PARAM_MIGRATE_DISKS: ['vda']})
        self.assertTrue(job.copy_disk)

    def test_postcopy_refused_as_qemu_refuses_it(self):
        hv = fakelibvirt.Hypervisors()
        hv.add_host('src')
        dom = hv.define_guest('src', 'g', 256, disk=GiB)
        dom.job = model(disk_mib=1024, postcopy_permitted=True)
        exc = self.assertRaises(fakelibvirt.libvirtError,
                                dom.migrateStartPostCopy)
        self.assertEqual(C.VIR_ERR_INTERNAL_ERROR, exc.get_error_code())
        self.assertIn("'migrate-start-postcopy': Postcopy must be started "
                      "after migration has been started", str(exc))


class BlackoutTestCase(testtools.TestCase):
    """``blackout_s``: the longest time the guest cannot answer."""

    def handover(self, job):
        return job.link.resume_time + job.link.rtt / 2

    def test_precopy_finish_is_the_final_stop_plus_the_handover(self):
        job = model(disk_mib=0, copy_disk=False)
        run(job, 30.0)
        self.assertEqual(mm.PHASE_COMPLETED, job.phase)
        self.assertEqual('switchover', job.blackout_cause)
        self.assertAlmostEqual(job.downtime + self.handover(job),
                               job.blackout_s, places=9)
        # The hand-over is not part of QEMU's downtime.
        self.assertGreater(job.blackout_s, job.downtime)

    def test_block_migration_flushes_the_mirror_in_the_stop(self):
        job = model(disk_mib=256, disk_write=10.0)
        run(job, 30.0)
        self.assertEqual(mm.PHASE_COMPLETED, job.phase)
        flush = 10 * MiB * mm.MIRROR_SLICE_S / (100 * MiB)
        self.assertGreaterEqual(job.downtime,
                                job.link.device_state_time + flush)
        self.assertEqual('switchover', job.blackout_cause)
        self.assertAlmostEqual(job.downtime + self.handover(job),
                               job.blackout_s, places=9)

    def test_postcopy_is_the_switch_plus_the_first_faults(self):
        job = model(dirty=150.0, copy_disk=False, postcopy_permitted=True)
        run(job, 12.0)
        self.assertIsNone(job.start_postcopy())
        stall = mm.ANSWER_PAGES * job.fault_cost()
        self.assertEqual('postcopy-switch', job.blackout_cause)
        self.assertAlmostEqual(
            job.link.device_state_time + self.handover(job) + stall,
            job.blackout_s, places=9)

    def test_pause_to_force_completion_is_the_whole_pause(self):
        job = model(dirty=150.0, copy_disk=False)
        run(job, 12.0)
        paused_at = job.elapsed
        job.pause_guest()
        run(job, 30.0)
        self.assertEqual(mm.PHASE_COMPLETED, job.phase)
        self.assertEqual('paused', job.blackout_cause)
        [(start, end, kind)] = job.stops
        self.assertEqual((paused_at, 'paused'), (start, kind))
        self.assertAlmostEqual(end - start, job.blackout_s, places=9)
        # Until the guest runs on the destination (the model's clock ends
        # the step in which the migration completed).
        self.assertAlmostEqual(job.elapsed + self.handover(job), end,
                               delta=0.051)

    def test_pause_undone_on_the_source(self):
        job = model(dirty=150.0, copy_disk=False)
        job.advance(2.0)
        job.pause_guest()
        job.advance(3.0)
        job.resume_guest()
        job.advance(1.0)
        [(start, end, kind)] = job.stops
        self.assertEqual('paused', kind)
        self.assertAlmostEqual(2.0, start)
        self.assertAlmostEqual(5.0, end)
        self.assertAlmostEqual(3.0, job.blackout_s)

    def test_auto_converge_throttle_sleeps(self):
        job = model(dirty=150.0, copy_disk=False, auto_converge=True)
        run(job, 200.0)
        self.assertEqual(mm.PHASE_COMPLETED, job.phase)
        share = job.max_throttle / 100.0
        sleep = mm.THROTTLE_TIMESLICE_S * share / (1 - share)
        self.assertGreater(job.max_throttle, 20)
        self.assertAlmostEqual(max(sleep, job.downtime + self.handover(job)),
                               job.blackout_s, places=9)

    def test_throttle_at_99_percent_sleeps_990_ms(self):
        job = model(copy_disk=False)
        job.max_throttle = 99
        self.assertAlmostEqual(0.99, job.blackout_s)
        self.assertEqual('throttle', job.blackout_cause)

    def test_stalled_postcopy_stream(self):
        job = model(dirty=150.0, copy_disk=False, postcopy_permitted=True)
        run(job, 12.0)
        job.start_postcopy()
        job.link.up = False
        job.advance(5.0)
        self.assertEqual('postcopy-stall', job.blackout_cause)
        self.assertAlmostEqual(5.0, job.blackout_s, places=6)

    def test_nothing_stopped_no_blackout(self):
        job = model(copy_disk=False)
        job.advance(1.0)
        self.assertEqual(0.0, job.blackout_s)
        self.assertIsNone(job.blackout_cause)


class FakeStoragePoolTestCase(testtools.TestCase):

    def test_pool_and_volumes(self):
        hv = fakelibvirt.Hypervisors()
        conn = hv.add_host('src')
        exc = self.assertRaises(fakelibvirt.libvirtError,
                                conn.storagePoolLookupByName, 'nova')
        self.assertEqual(C.VIR_ERR_NO_STORAGE_POOL, exc.get_error_code())
        pool = conn.storagePoolCreateXML(
            "<pool type='dir'><name>nova</name><target><path>/srv/i</path>"
            "</target></pool>", C.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
        self.assertIs(pool, conn.storagePoolLookupByName('nova'))
        vol = pool.createXML("<volume><name>d</name><capacity unit='bytes'>"
                             "1024</capacity></volume>")
        self.assertEqual('/srv/i/d', vol.path())
        self.assertEqual(1024, pool.storageVolLookupByName('d').info()[1])
        vol.delete(0)
        exc = self.assertRaises(fakelibvirt.libvirtError,
                                pool.storageVolLookupByName, 'd')
        self.assertEqual(C.VIR_ERR_NO_STORAGE_VOL, exc.get_error_code())
