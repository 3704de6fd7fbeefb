"""Block migrations through the real driver on the fake hypervisor.

The guest has a 1 GiB local disk that libvirt copies (NBD mirror) before
memory; the link carries 1 Gbit/s. The monitor must not switch, abort or
step the allowed downtime on the disk copy, and acts as its options say
once the memory copy runs.
"""

from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.tests.unit.virt.libvirt import test_driver_migration as base
from nova.virt.libvirt import guest as libvirt_guest

C = fakelibvirt.C
MiB = migration_model.MiB
GBIT_MIB_S = 1e9 / 8 / MiB          # 1 Gbit/s in MiB/s (119.2)
# A busy guest (150 MiB/s into a 256 MiB working set: pre-copy alone
# never finishes at 1 Gbit/s) writing 5 MiB/s to its 1 GiB disk.
BUSY_BLOCK = dict(memory_mib=1024, dirty_mib_s=150.0, working_set_mib=256,
                  link_mib_s=GBIT_MIB_S, disk_mib=1024, disk_write_mib_s=5.0,
                  block_migration=True)
IDLE_BLOCK = dict(BUSY_BLOCK, dirty_mib_s=0.0, disk_write_mib_s=0.0)


class BlockMigrationScenarioTestCase(base.ScenarioBase):

    def disk_phase_end(self, out):
        """Monitor seconds at which the memory copy began."""
        return out.job.disk_ready_at

    def assertNothingOnTheDiskPhase(self, out):
        ready = self.disk_phase_end(out)
        self.assertGreater(ready, 8.0)   # 1 GiB + rewrites at 119 MiB/s
        for when, name, _reason in out.state.actions:
            self.assertGreater(when, ready, name)
        # QEMU's allowed downtime untouched while the disk is copied.
        during = [s for s in out.job.samples if s.t <= ready]
        self.assertGreater(len(during), 10)
        self.assertEqual({migration_model.DEFAULT_DOWNTIME_MS},
                         {s.downtime_limit_ms for s in during})
        self.assertEqual({migration_model.PHASE_DISK},
                         {s.phase for s in during})
        self.assertNotIn('failed', self.log.output.replace(
            'post-copy failed', ''))

    def test_busy_guest_switches_to_postcopy_after_the_disk_phase(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(**BUSY_BLOCK)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(base.BASE_FLAGS | C.VIR_MIGRATE_NON_SHARED_INC |
                         C.VIR_MIGRATE_POSTCOPY, out.flags)
        self.assertOnDestination(out)
        self.assertNothingOnTheDiskPhase(out)
        [(when, _name, _reason)] = out.actions('postcopy')
        # Pass 2 of memory shows pre-copy cannot win: about 9 s of disk,
        # 9 s of memory pass 1.
        self.assertGreater(when, self.disk_phase_end(out) + 8.0)
        self.assertEqual([], out.actions('abort'))
        # What libvirt reported while the disk was copied.
        disk = [i for _t, i in out.state.samples if i.memory_total == 0 and
                i.disk_total > 0 and i.disk_remaining > 0]
        self.assertGreater(len(disk), 10)
        remaining = [i.disk_remaining for i in disk]
        self.assertEqual(sorted(remaining, reverse=True), remaining)
        self.assertEqual({0}, {i.memory_iteration for i in disk})
        # The disk's rewritten blocks made it grow; data totals include it.
        self.assertGreater(out.migration.disk_total, 1024 * MiB)
        self.assertEqual(1024 * MiB, out.migration.memory_total)
        self.assertGreater(out.job.sent, 2048 * MiB)
        self.assertEqual('postcopy-switch', out.job.blackout_cause)

    def test_busy_guest_nothing_permitted_times_out_on_ram_and_disk(self):
        # 1 GiB of RAM counts as 2, the disk adds 1: 3 x 10 s.
        self.flags(live_migration_completion_timeout=10)
        out = self.run_scenario(**BUSY_BLOCK)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertOnSourceRunning(out)
        [(when, _name, reason)] = out.actions('abort')
        self.assertEqual('completion timeout reached', reason)
        self.assertGreaterEqual(when, 30.0)
        self.assertLessEqual(when, 30.6)

    def test_auto_converge_throttles_only_the_memory_copy(self):
        self.flags(live_migration_permit_auto_converge=True)
        out = self.run_scenario(**BUSY_BLOCK)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertOnDestination(out)
        self.assertNothingOnTheDiskPhase(out)
        ready = self.disk_phase_end(out)
        self.assertEqual({0}, {s.throttle for s in out.job.samples
                               if s.t <= ready})
        self.assertGreater(self.max_throttle(out), 0)

    def test_idle_guest_completes_with_disk_and_memory_copied(self):
        out = self.run_scenario(**IDLE_BLOCK)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertOnDestination(out)
        self.assertEqual(1024 * MiB, out.migration.disk_total)
        self.assertEqual(0, out.migration.disk_remaining)
        self.assertEqual(1024 * MiB, out.migration.memory_total)
        self.assertEqual(100, out.instance.progress)
        # 1 GiB of disk, 0.2 s of QEMU set-up, 1 GiB of RAM.
        self.assertAlmostEqual(2 * 1024 / GBIT_MIB_S + 0.2, out.job.elapsed,
                               delta=0.1)
        self.assertEqual('switchover', out.job.blackout_cause)

    def test_memory_start_is_not_a_stall(self):
        # The disk's last bytes are the low of data remaining; then it
        # jumps to all of RAM (4 GiB, 41 s at 100 MiB/s). Never stalled.
        self.flags(live_migration_progress_timeout=5,
                   live_migration_completion_timeout=0)
        out = self.run_scenario(memory_mib=4096, dirty_mib_s=0,
                                link_mib_s=100, disk_mib=1024,
                                block_migration=True)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([], out.actions('abort'))

    def test_operator_force_complete_on_the_disk_phase_waits(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(at=[(3.0, base.force_complete_at)],
                                **BUSY_BLOCK)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        [(when, _name, reason)] = out.actions('postcopy')
        self.assertEqual('requested by operator', reason)
        # At the first poll of the memory copy, not refused on the disks.
        ready = self.disk_phase_end(out)
        self.assertGreater(when, ready)
        self.assertLess(when, ready + 1.0)
        self.assertNotIn('failed', self.log.output)
        self.assertEqual(1, self.log.output.count('force complete waits'))

    def test_downtime_ladder_starts_with_the_memory_copy(self):
        self.flags(live_migration_downtime=400,
                   live_migration_downtime_steps=4,
                   live_migration_downtime_delay=3,
                   live_migration_completion_timeout=20)
        out = self.run_scenario(**BUSY_BLOCK)
        history = out.domain('src').history
        [started] = [t for t, w in history
                     if w.startswith('migration started')]
        steps = [(t - started, w) for t, w in history
                 if w.startswith('max down')]
        ready = self.disk_phase_end(out)
        # 3 GiB of data (RAM counts as 2): a rung every 9 s of memory
        # copy, counted from its first sample (QEMU's 0.2 s set-up and a
        # poll interval after the disk), each set within a poll interval.
        self.assertEqual('max downtime 100 ms', steps[0][1])
        self.assertEqual(5, len(steps))
        for rung, (when, _what) in enumerate(steps):
            self.assertGreaterEqual(when, ready + 9.0 * rung + 0.2 - 0.01)
            self.assertLessEqual(when, ready + 9.0 * rung + 1.2)

    def test_shared_storage_copies_no_disk(self):
        out = self.run_scenario(**dict(IDLE_BLOCK, block_migration=False))
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(base.BASE_FLAGS, out.flags)
        self.assertFalse(out.job.copy_disk)
        self.assertEqual(0, out.migration.disk_total)
        self.assertAlmostEqual(1024 / GBIT_MIB_S + 0.2, out.job.elapsed,
                               delta=0.1)
