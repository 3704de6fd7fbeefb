"""Fault drills: break the lab in the middle of a live migration and check
that no guest is lost and that the records tell the truth.

Each drill boots a guest on lab-a through ``nova-all``, live-migrates it
to lab-b over a capped link (the guest dirties faster than the cap, so
pre-copy cannot finish on its own), injects one fault while the memory is
being copied, and then asserts where the guest runs (libvirt on both
hosts), that it still runs (its console counter rises), and that the
Migration and the server records agree. Times are measured from the
moment the fault is injected:

* detect: until the Migration is recorded as ended (the services noticed);
* recover: until the guest runs on one host, counting on, and the server
  record names that host with no task (an operator can act on it again).

The lab is restored after every drill (``faults.restore``), pass or fail.
"""

import threading
import time

from nova.objects import migration as migration_obj
from nova.tests.functional.drills import base
from nova.tests.functional.drills import faults
from nova.tests.functional.drills import processes


class PreCopyFaultDrills(base.DrillTestCase):
    """Faults of the hypervisors and the link while pre-copy runs.

    The drills assert invariants, not one stack's outcome (libvirt 11.3
    survives some link faults that end the migration on 9.0): where the
    guest ended up is recorded, with the stack, in the figures.
    """

    def _start_busy_migration(self, name):
        uuid = self.boot(name, base.BUSY)
        self.wait_booted(uuid)
        self.live_migrate(uuid)
        self.wait_copying(uuid)
        return uuid

    def _fault_until_detected(self, uuid, watch, inject, undo, timeout):
        """Inject, wait until the migration is recorded as ended (at most
        ``timeout``), undo; returns (detect_s or None, fault_s).
        """
        inject()
        try:
            try:
                detect = self.wait_final(uuid, watch, timeout)
            except AssertionError:
                detect = None       # the migration outlived the fault
        finally:
            undo()
        return detect, watch.read()

    def test_destination_libvirtd_killed(self):
        uuid = self._start_busy_migration('drill-dest-libvirtd')
        watch = base.Stopwatch()
        watch.start()
        faults.kill_libvirtd('lab-b')
        detect = self.wait_final(uuid, watch, 60)
        outcome, recover = self.wait_settled(uuid, watch)
        # A host whose hypervisor is gone takes no new work meanwhile.
        self.wait_for(lambda: self.service('lab-b')['disabled'], 15,
                      what='lab-b disabled while its libvirtd is down')
        self.assertTrue(self.service('lab-b')['disabled_reason'].startswith(
            'AUTO: Connection to libvirt lost'))
        # The destination comes back, its compute service reconnects to it
        # and takes work again.
        faults.start_libvirtd('lab-b')
        self.wait_for(lambda: not self.service('lab-b')['disabled'], 15,
                      what='lab-b enabled again')
        self.assertInvariants(uuid, outcome)
        self.record('destination libvirtd killed during pre-copy', uuid,
                    outcome, detect, recover)

    def _link_drill(self, name, drill, inject, undo):
        uuid = self._start_busy_migration(name)
        watch = base.Stopwatch()
        watch.start()
        detect, fault_s = self._fault_until_detected(uuid, watch, inject,
                                                     undo, 120)
        outcome, recover = self.wait_settled(uuid, watch)
        self.assertInvariants(uuid, outcome)
        self.record(drill, uuid, outcome, detect, recover, fault_s=fault_s)

    def test_link_cut_then_restored(self):
        """Carrier loss: sends fail at once on both hosts."""
        self._link_drill(
            'drill-link-cut',
            'link cut (carrier loss) during pre-copy, restored after '
            'detection', faults.link_down, faults.link_up)

    def test_partition_then_healed(self):
        """Silent drop: the link stays up, every packet vanishes."""
        self._link_drill(
            'drill-partition',
            'partition (silent drop) during pre-copy, healed after '
            'detection', lambda: faults.partition('all'), faults.heal)

    def test_source_libvirtd_restarted(self):
        uuid = self._start_busy_migration('drill-source-libvirtd')
        watch = base.Stopwatch()
        watch.start()
        faults.restart_libvirtd('lab-a', down_s=2)
        daemon_back = watch.read()      # the new libvirtd answers
        detect = self.wait_final(uuid, watch, 90)
        outcome, recover = self.wait_settled(uuid, watch)
        self.assertInvariants(uuid, outcome)
        self.record('source libvirtd restarted during pre-copy', uuid,
                    outcome, detect, recover, daemon_back_s=daemon_back)


class ServiceRestartDrill(base.DrillTestCase):
    """The process running the compute services dies mid-migration."""

    def test_compute_service_restarted(self):
        uuid = self.boot('drill-compute-restart', base.BUSY)
        self.wait_booted(uuid)
        self.live_migrate(uuid)
        self.wait_copying(uuid)
        watch = base.Stopwatch()
        watch.start()
        self.cloud.crash()            # SIGKILL: no clean stop, no rollback
        # Nobody watches the libvirt job now: the record is stale.
        self.assertEqual(migration_obj.RUNNING,
                         self.migration(uuid)['status'])
        self.cloud.start()
        detect = self.wait_final(uuid, watch, 90)
        # Settled by asking libvirt: the unwatched pre-copy job is
        # cancelled (guest on the source), unless it finished meanwhile.
        outcome, recover = self.wait_settled(uuid, watch)
        self.assertInvariants(uuid, outcome)
        self.record('compute services restarted (SIGKILL) mid-migration',
                    uuid, outcome, detect, recover)


class ConcurrencyDrill(base.DrillTestCase):
    """A burst of requests against max_concurrent_live_migrations = 1."""

    config = {'DEFAULT': {'max_concurrent_live_migrations': 1},
              'libvirt': {'live_migration_bandwidth': 64}}
    burst = 3

    def test_burst_respects_max_concurrent(self):
        uuids = [self.boot('drill-burst-%d' % i,
                           {'dirty_mib': '16', 'dirty_rate': '0'})
                 for i in range(self.burst)]
        for uuid in uuids:
            self.wait_booted(uuid)
        started = time.monotonic()
        threads = [threading.Thread(target=self.live_migrate, args=(u,))
                   for u in uuids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        active_max = jobs_max = queued_max = 0
        stuck_at = started + 240
        while True:
            rows = [self.migration(u) for u in uuids]
            active = [r for r in rows if r['status'] in (
                migration_obj.PREPARING, migration_obj.RUNNING,
                migration_obj.POSTCOPY, migration_obj.POST_MIGRATING)]
            jobs = sum(1 for u in uuids
                       if base.libvirt_state(self.uri['lab-b'], u) ==
                       'paused')     # an incoming guest waits paused
            active_max = max(active_max, len(active))
            queued_max = max(queued_max, sum(
                1 for r in rows if r['status'] == migration_obj.QUEUED))
            jobs_max = max(jobs_max, jobs)
            self.assertLessEqual(len(active), 1, rows)
            self.assertLessEqual(jobs, 1, 'incoming guests on lab-b')
            if all(r['status'] in base.FINAL for r in rows):
                break
            self.assertLess(time.monotonic(), stuck_at,
                            'migrations stuck: %s' % [r['status']
                                                      for r in rows])
            time.sleep(0.2)
        wall = round(time.monotonic() - started, 1)
        self.assertEqual(1, active_max)
        # The burst did contend: requests waited for the slot.
        self.assertGreaterEqual(queued_max, 1)
        for uuid in uuids:
            self.assertInvariants(uuid, 'on-destination')
        figures = base.stack_figures(self.env)
        figures.update({
            'drill': 'burst of %d live migrations, '
                     'max_concurrent_live_migrations = 1' % self.burst,
            'outcome': 'all completed, at most 1 at a time',
            'detect_s': None, 'recover_s': None, 'wall_s': wall,
            'max_active': active_max, 'max_queued': queued_max,
            'guest_on': 'lab-b', 'migration_status': 'completed',
            'instance_host': 'lab-b', 'task_state': None,
            'virt_type': self.env['NOVA_LAB_VIRT_TYPE']})
        self.write_figures(figures)


class SourceComputeRestartDrill(processes.ComputeProcessesDrillTestCase):
    """Only the source's nova-compute dies; the migration goes on without
    it, and the restarted service has to find out how it ended.
    """

    def test_source_compute_killed_migration_finishes_unwatched(self):
        # A guest that converges: pre-copy finishes on its own.
        uuid = self.boot('drill-source-compute',
                         {'dirty_mib': '16', 'dirty_rate': '2'})
        self.wait_booted(uuid)
        self.live_migrate(uuid)
        self.wait_copying(uuid, mib=4)
        down = base.Stopwatch()
        down.start()
        self.kill_compute('lab-a')
        # libvirt finishes the job with nobody watching; the records lag.
        self.wait_for(lambda: self.running_on(uuid) == 'lab-b', 120,
                      what='the unwatched migration to land on lab-b')
        self.assertEqual(migration_obj.RUNNING,
                         self.migration(uuid)['status'])
        self.assertEqual('lab-a', self.instance(uuid)['host'])
        down_s = down.read()
        watch = base.Stopwatch()
        watch.start()
        self.start_compute('lab-a')
        detect = self.wait_final(uuid, watch, 60)
        outcome, recover = self.wait_settled(uuid, watch)
        # The guest is on lab-b (seen above): the records must say so.
        self.assertEqual('on-destination', outcome)
        self.assertInvariants(uuid, outcome)
        self.record('source nova-compute killed mid-migration, restarted '
                    'after the job ended', uuid, outcome,
                    detect, recover, down_s=down_s,
                    note='times from the restart')
