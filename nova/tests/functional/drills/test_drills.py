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

ENDED_BADLY = (migration_obj.FAILED, migration_obj.ERROR)


class PreCopyFaultDrills(base.DrillTestCase):
    """Faults of the hypervisors and the link while pre-copy runs."""

    def _start_busy_migration(self, name):
        uuid = self.boot(name, base.BUSY)
        self.wait_booted(uuid)
        self.live_migrate(uuid)
        self.wait_copying(uuid)
        return uuid

    def test_destination_libvirtd_killed(self):
        uuid = self._start_busy_migration('drill-dest-libvirtd')
        watch = base.Stopwatch()
        watch.start()
        faults.kill_libvirtd('lab-b')
        detect = self.wait_final(uuid, watch, 60)
        self.assertIn(self.migration(uuid)['status'], ENDED_BADLY)
        recover = self.wait_recovered(uuid, 'lab-a', watch)
        # A host whose hypervisor is gone takes no new work meanwhile.
        self.wait_for(lambda: self.service('lab-b')['disabled'], 15,
                      what='lab-b disabled while its libvirtd is down')
        self.assertTrue(self.service('lab-b')['disabled_reason'].startswith(
            'AUTO: Connection to libvirt lost'))
        # The destination comes back with no trace of the guest, and its
        # compute service reconnects to it and takes work again.
        faults.start_libvirtd('lab-b')
        self.wait_for(lambda: self.where(uuid)['lab-b'] is None, 30,
                      what='no leftover of the guest on lab-b')
        self.wait_for(lambda: not self.service('lab-b')['disabled'], 15,
                      what='lab-b enabled again')
        self.assertGuestOn(uuid, 'lab-a', self.migration(uuid)['status'])
        self.record('destination libvirtd killed during pre-copy', uuid,
                    'failed back to the source', detect, recover)

    def test_link_cut_then_restored(self):
        uuid = self._start_busy_migration('drill-link-cut')
        watch = base.Stopwatch()
        watch.start()
        faults.link_down()
        try:
            detect = self.wait_final(uuid, watch, 120)
        finally:
            faults.link_up()
        restored = watch.read()
        self.assertIn(self.migration(uuid)['status'], ENDED_BADLY)
        recover = self.wait_recovered(uuid, 'lab-a', watch)
        self.wait_for(lambda: self.where(uuid)['lab-b'] is None, 30,
                      what='no leftover of the guest on lab-b')
        self.assertGuestOn(uuid, 'lab-a', self.migration(uuid)['status'])
        self.record('link cut during pre-copy, restored after detection',
                    uuid, 'failed back to the source', detect, recover,
                    link_down_s=restored)

    def test_source_libvirtd_restarted(self):
        uuid = self._start_busy_migration('drill-source-libvirtd')
        watch = base.Stopwatch()
        watch.start()
        faults.restart_libvirtd('lab-a', down_s=2)
        daemon_back = watch.read()      # the new libvirtd answers
        detect = self.wait_final(uuid, watch, 90)
        self.assertIn(self.migration(uuid)['status'], ENDED_BADLY)
        recover = self.wait_recovered(uuid, 'lab-a', watch)
        self.wait_for(lambda: self.where(uuid)['lab-b'] is None, 30,
                      what='no leftover of the guest on lab-b')
        self.assertGuestOn(uuid, 'lab-a', self.migration(uuid)['status'])
        self.record('source libvirtd restarted during pre-copy', uuid,
                    'failed back to the source', detect, recover,
                    daemon_back_s=daemon_back)


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
        status = self.migration(uuid)['status']
        # Settled by asking libvirt: the unwatched pre-copy job is
        # cancelled, so the guest is still on the source.
        self.assertEqual(migration_obj.FAILED, status)
        recover = self.wait_recovered(uuid, 'lab-a', watch)
        self.wait_for(lambda: self.where(uuid)['lab-b'] is None, 30,
                      what='no leftover of the guest on lab-b')
        self.assertGuestOn(uuid, 'lab-a', status)
        self.record('compute services restarted (SIGKILL) mid-migration',
                    uuid, 'settled: failed, guest on the source', detect,
                    recover)


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
            self.assertGuestOn(uuid, 'lab-b', migration_obj.COMPLETED)
        self.write_figures({
            'drill': 'burst of %d live migrations, '
                     'max_concurrent_live_migrations = 1' % self.burst,
            'outcome': 'all completed, at most 1 at a time',
            'detect_s': None, 'recover_s': None, 'wall_s': wall,
            'max_active': active_max, 'max_queued': queued_max,
            'guest_on': 'lab-b', 'migration_status': 'completed',
            'instance_host': 'lab-b', 'task_state': None,
            'virt_type': self.env['NOVA_LAB_VIRT_TYPE']})


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
        self.assertEqual(migration_obj.COMPLETED,
                         self.migration(uuid)['status'])
        recover = self.wait_recovered(uuid, 'lab-b', watch)
        self.assertGuestOn(uuid, 'lab-b', migration_obj.COMPLETED)
        self.record('source nova-compute killed mid-migration, restarted '
                    'after the job ended', uuid,
                    'settled: completed, guest on the destination',
                    detect, recover, down_s=down_s,
                    note='times from the restart')
