"""Block migration's disk phase in the monitor's decisions.

libvirt copies the disks (NBD mirror) before QEMU's memory migration
starts; its job statistics then carry disk figures and zero memory ones.
Each rule: no post-copy switch, no downtime step and no progress judged
against memory on the disk phase; the first memory pass starts after it.
"""

import testtools

from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration

A = migration.Action
MiB = migration.MiB
GiB = migration.GiB
LADDER = ((0, 50), (30, 100), (60, 150))


def disk_info(total, remaining):
    """A disk-phase sample as libvirt reports it (memory keys are 0)."""
    return libvirt_guest.JobInfo(
        type=libvirt_guest.JOB_UNBOUNDED, data_total=total,
        data_processed=total - remaining, data_remaining=remaining,
        disk_total=total, disk_processed=total - remaining,
        disk_remaining=remaining)


def memory_info(disk, ram, remaining, iteration=1, processed=0,
                dirty_bps=0):
    """A memory-phase sample: the disk figures frozen at 'ready'."""
    return libvirt_guest.JobInfo(
        type=libvirt_guest.JOB_UNBOUNDED, data_total=disk + ram,
        data_processed=disk + processed, data_remaining=remaining,
        memory_total=ram, memory_processed=processed,
        memory_remaining=remaining, memory_iteration=iteration,
        memory_bps=100 * MiB, memory_dirty_rate=dirty_bps // 4096,
        memory_page_size=4096, disk_total=disk, disk_processed=disk)


def feed(tracker, now, info):
    tracker.observe(now, info.memory_iteration, info.data_remaining,
                    info.memory_dirty_bps, info.memory_bps,
                    processed=info.data_processed,
                    disk_phase=migration.copying_disks(info))


def tracker_after_disk(disk=2 * GiB, until=20.0):
    """The disk copied at 100 MiB/s from t=0 until ``until``."""
    t = migration.ProgressTracker(started_at=0.0)
    now = 0.0
    while now < until:
        left = max(int(disk * (1 - now / until)), 0)
        feed(t, now, disk_info(disk, left))
        now += 1.0
    return t


def policy(**kw):
    kw.setdefault('ladder', LADDER)
    kw.setdefault('postcopy_enabled', True)
    return migration.Policy(**kw)


def decide(now, info, progress, pol=None, requests=None, taken=None):
    return migration.decide(
        now, now, info, pol or policy(), requests or migration.Requests(),
        progress, migration.PostcopyState(),
        taken or migration.ActionsTaken())


def actions(decisions):
    return [d.action for d in decisions if d.action != A.SAVE_STATS]


class CopyingDisksTestCase(testtools.TestCase):

    def test_disk_phase_sample(self):
        self.assertTrue(migration.copying_disks(disk_info(GiB, GiB // 2)))

    def test_memory_sample_after_the_disks(self):
        self.assertFalse(migration.copying_disks(
            memory_info(GiB, GiB, GiB)))

    def test_memory_only_setup_sample(self):
        self.assertFalse(migration.copying_disks(libvirt_guest.JobInfo(
            type=libvirt_guest.JOB_UNBOUNDED)))
        self.assertFalse(migration.copying_disks(None))


class DiskPhaseProgressTestCase(testtools.TestCase):

    def test_disk_copy_is_progress(self):
        t = tracker_after_disk(until=20.0)
        self.assertTrue(t.copying_disks)
        self.assertEqual(0.0, t.stalled_for(19.0))
        # Passes are memory passes: none yet.
        self.assertEqual(0, t.iteration)

    def test_stalled_disk_copy_is_no_progress(self):
        # A guest rewriting its disk as fast as the mirror copies it.
        t = migration.ProgressTracker(started_at=0.0)
        for now in range(30):
            feed(t, float(now), disk_info(GiB + now * 100 * MiB, GiB))
        self.assertEqual(29.0, t.stalled_for(29.0))

    def test_memory_copy_is_not_judged_against_the_disk_phase(self):
        # The disk's last bytes were the low; then data remaining jumps to
        # all of RAM. The memory copy is a fresh start, not a stall.
        t = tracker_after_disk(until=20.0)
        feed(t, 20.0, disk_info(2 * GiB, 0))      # QEMU setting up
        ram = 4 * GiB
        for k in range(30):
            feed(t, 21.0 + k, memory_info(2 * GiB, ram,
                                          ram - k * 100 * MiB,
                                          processed=k * 100 * MiB))
        self.assertFalse(t.copying_disks)
        self.assertEqual(21.0, t.memory_started_at)
        self.assertLess(t.stalled_for(50.0), 2.0)

    def test_first_memory_pass_starts_after_the_disk_phase(self):
        # A 4 GiB disk, then 1 GiB of RAM: pass 2 set out to send about
        # 890 MiB, a 13% shrink against pass 1 (1 GiB), not a 78% one
        # against the disk.
        t = tracker_after_disk(disk=4 * GiB, until=40.0)
        ram = GiB
        feed(t, 40.0, memory_info(4 * GiB, ram, ram, processed=0))
        feed(t, 45.0, memory_info(4 * GiB, ram, ram // 2,
                                  processed=ram // 2))
        new_pass = t.observe(51.0, 2, 900 * MiB - 100 * MiB,
                             dirty_bps=90 * MiB, bps=100 * MiB,
                             processed=5 * GiB + 100 * MiB)
        self.assertTrue(new_pass)
        self.assertEqual(2, t.iteration)
        self.assertAlmostEqual(0.13, t.pass_shrink(), delta=0.01)

    def test_ladder_clock_starts_with_the_memory_copy(self):
        t = tracker_after_disk(until=20.0)
        feed(t, 25.0, memory_info(2 * GiB, GiB, GiB))
        self.assertEqual(10.0, t.memory_elapsed(35.0))

    def test_memory_only_ladder_clock_is_the_monitor_s(self):
        t = migration.ProgressTracker(started_at=3.0)
        feed(t, 3.0, memory_info(0, GiB, GiB))
        self.assertEqual(12.5, t.memory_elapsed(12.5))


class DiskPhaseDecisionsTestCase(testtools.TestCase):

    def test_no_downtime_step_while_the_disks_are_copied(self):
        t = tracker_after_disk(until=100.0)
        now = 99.0
        self.assertEqual([], actions(decide(
            now, disk_info(2 * GiB, 10 * MiB), t)))

    def test_ladder_counts_from_the_memory_copy(self):
        t = tracker_after_disk(until=100.0)
        feed(t, 100.0, memory_info(2 * GiB, GiB, GiB))
        # Memory for 10 s (monitor: 110 s): rung 0 only, not rung 2.
        [step] = [d for d in decide(110.0, memory_info(2 * GiB, GiB, GiB),
                                    t)
                  if d.action == A.STEP_DOWNTIME]
        self.assertEqual(0, step.step)
        taken = migration.ActionsTaken(downtime_step=0)
        [step] = [d for d in decide(130.0, memory_info(2 * GiB, GiB, GiB),
                                    t, taken=taken)
                  if d.action == A.STEP_DOWNTIME]
        self.assertEqual(1, step.step)

    def test_operator_force_complete_waits_for_the_memory_copy(self):
        t = tracker_after_disk(until=20.0)
        decisions = decide(10.0, disk_info(2 * GiB, GiB), t,
                           requests=migration.Requests(force_complete=True))
        self.assertEqual([A.HOLD], actions(decisions))
        self.assertEqual(migration.ORIGIN_OPERATOR, decisions[0].origin)
        # Once memory moves, the same request switches.
        feed(t, 21.0, memory_info(2 * GiB, GiB, GiB))
        self.assertEqual([A.SWITCH_TO_POSTCOPY], actions(decide(
            21.0, memory_info(2 * GiB, GiB, GiB), t,
            requests=migration.Requests(force_complete=True))))

    def test_force_complete_without_postcopy_pauses_at_once(self):
        # Pausing works in the disk phase: the guest stops writing.
        t = tracker_after_disk(until=20.0)
        self.assertEqual([A.PAUSE], actions(decide(
            10.0, disk_info(2 * GiB, GiB), t,
            pol=policy(postcopy_enabled=False),
            requests=migration.Requests(force_complete=True))))

    def test_abort_still_wins_in_the_disk_phase(self):
        t = tracker_after_disk(until=20.0)
        self.assertEqual([A.ABORT], actions(decide(
            10.0, disk_info(2 * GiB, GiB), t,
            requests=migration.Requests(abort=True, force_complete=True))))

    def test_timeout_switch_waits_for_the_memory_copy(self):
        t = tracker_after_disk(until=20.0)
        pol = policy(completion_timeout=5,
                     timeout_action=migration.TIMEOUT_ACTION_FORCE_COMPLETE)
        self.assertEqual([], actions(decide(
            10.0, disk_info(2 * GiB, GiB), t, pol=pol)))
        feed(t, 21.0, memory_info(2 * GiB, GiB, GiB))
        [switch] = [d for d in decide(21.0, memory_info(2 * GiB, GiB, GiB),
                                      t, pol=pol)
                    if d.action == A.SWITCH_TO_POSTCOPY]
        self.assertEqual('completion', switch.timeout)

    def test_timeout_abort_is_not_delayed(self):
        t = tracker_after_disk(until=20.0)
        pol = policy(completion_timeout=5)
        self.assertEqual([A.ABORT], actions(decide(
            10.0, disk_info(2 * GiB, GiB), t, pol=pol)))

    def test_no_automatic_switch_on_the_disk_phase(self):
        # Evidence that would switch in a memory pass does not count.
        t = tracker_after_disk(until=20.0)
        t.iteration, t.stuck_passes, t.hot_polls = 5, 3, 3
        t.moving = True
        self.assertEqual([], actions(decide(
            10.0, disk_info(2 * GiB, GiB), t,
            pol=policy(ladder=()))))
