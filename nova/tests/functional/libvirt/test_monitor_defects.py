"""Monitor v2's defects, provoked on real libvirt + QEMU where they can be.

* Progress is judged from the first real data: an idle guest copying at a
  capped rate for its whole first pass is not "stalled" however short the
  progress timeout (libvirt reports zeros while QEMU sets the job up).
* An operator's abort and force-complete that reach the monitor together:
  the abort wins, the guest stays on the source, the job never switches to
  post-copy and never goes down the post-copy recovery path.
* The monitor polling libvirt as fast as it can across the job's edges
  (where libvirt answers "no RAM info was set" or a job-lock timeout) still
  ends with the migration completed.
"""

import fixtures

from nova.tests.functional.libvirt import test_live_migration as base
from nova.virt.libvirt import guest as libvirt_guest


class MonitorDefectsLabTestCase(base.LabTestCase):

    def test_first_pass_at_a_capped_rate_is_progress(self):
        # 256 MiB (about half of it zero pages) at 16 MiB/s: a first pass
        # of about 8 s, twice the progress timeout of 4 s.
        self.flags(live_migration_bandwidth=16,
                   live_migration_progress_timeout=4,
                   live_migration_completion_timeout=0)
        instance = self.boot(metadata={'dirty_mib': '64', 'dirty_rate': '0'})
        result = self.migrate(instance)
        self.record('first pass progress', result, instance)
        self.assertTrue(result.completed, result.error)
        self.assertEqual([], result.state.actions)
        self.assertGreater(result.state.samples[-1][0], 2 * 4.0 - 1.0)
        self.assertEqual((False, True), self.where(instance))
        self.assertGuestKeepsRunning()

    def test_abort_and_force_complete_together_abort_wins(self):
        # Post-copy only on request: an automatic switch (the busy guest
        # stalls in 6 to 8 s) must not race the two requests; CI once saw
        # the requests arrive just after it.
        self.flags(live_migration_permit_post_copy=True,
                   live_migration_post_copy_start='operator')
        instance = self.boot(metadata=base.BUSY)

        def both(inst):
            self.wait_running_job(inst, 2.0)
            self.driver_a.live_migration_force_complete(inst)
            self.driver_a.live_migration_abort(inst)

        result = self.migrate(instance, during=both)
        self.record('abort with force-complete', result, instance)
        self.assertEqual(libvirt_guest.JOB_CANCELLED, result.job_type)
        self.assertEqual([('recover', 'cancelled')], result.calls)
        self.assertEqual(['abort'], [a[1] for a in result.state.actions])
        self.assertFalse(result.state.postcopy_active)
        self.assertEqual((True, False), self.where(instance))
        self.assertGuestKeepsRunning()

    def test_fast_polls_across_the_job_edges_complete(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.monitor.POLL_INTERVAL', 0.01))
        self.flags(live_migration_bandwidth=100)
        instance = self.boot(metadata={'dirty_mib': '64', 'dirty_rate': '0'})
        result = self.migrate(instance)
        self.assertTrue(result.completed, result.error)
        self.assertEqual(['post'], result.calls)
        self.assertEqual((False, True), self.where(instance))
        self.assertNotIn('Live migration monitor failed', self.log.output)
        self.assertGuestKeepsRunning()
