"""Post-copy recovery on the real lab: the link dies after the switch.

The drill of issue 6 that needs the driver itself: the network between
lab-a and lab-b is cut while a busy guest is in post-copy (its vCPUs on
lab-b, part of its memory still on lab-a), and restored 10 s later. The
monitor must notice the stalled stream, record ``running (post-copy
paused)``, pause the stream, try to resume it with
``VIR_MIGRATE_POSTCOPY_RESUME`` on its back-off, and end within
``live_migration_postcopy_recovery_timeout``: completed on lab-b, or, when
the resume cannot be made, ``error`` with both halves of the guest kept.

Measured on this lab (Debian 12: libvirt 9.0.0, QEMU 7.2; compute outside
the hosts' namespaces, so it cannot ask the destination): libvirt's
keepalive ends the first call about 30 s into the cut; resumes tried while
the link is down fail at once; the first ones after it is back are refused
("being actively monitored by another thread", "QEMU reports migration is
still running") until the destination's QEMU sees its stream fail (up to
19 s later, its TCP back-off) and are tried again every 2 s; then the
resume completes on lab-b, the guest counting on. A libvirt whose resume
cannot complete ends in ``error`` with both halves kept instead (the
backports stack's 11.3.0, tools/lab/README.rst).

The link is shaped to 80 Mbit/s here so that post-copy lasts long enough
to be cut (QEMU sends post-copy pages without the migration's bandwidth
cap). Figures go to $NOVA_DRILL_RESULTS like the other drills.
"""

import re
import subprocess
import time

from nova.tests.functional.drills import faults
from nova.tests.functional.libvirt import lab
from nova.tests.functional.libvirt import test_live_migration as base

SHAPED_RATE = '80mbit'
BUSY_WIDE = {'dirty_mib': '128', 'dirty_rate': '60'}
PAUSED = 'running (post-copy paused)'


def shape_link(rate):
    subprocess.run(['ip', 'netns', 'exec', 'lab-a', 'tc', 'qdisc', 'replace',
                    'dev', 'veth-lab-a', 'root', 'tbf', 'rate', rate,
                    'burst', '64kb', 'latency', '500ms'], check=True)


def unshape_link():
    subprocess.run(['ip', 'netns', 'exec', 'lab-a', 'tc', 'qdisc', 'del',
                    'dev', 'veth-lab-a', 'root'], stderr=subprocess.DEVNULL)


class PostcopyRecoveryTestCase(base.LabTestCase):

    def setUp(self):
        super(PostcopyRecoveryTestCase, self).setUp()
        self.addCleanup(faults.restore, self.env)
        self.addCleanup(unshape_link)
        shape_link(SHAPED_RATE)
        self.flags(live_migration_permit_post_copy=True,
                   live_migration_bandwidth=32,
                   live_migration_postcopy_stall_timeout=5,
                   live_migration_postcopy_resume_max_interval=4)
        self.statuses = []
        self.marks = {}

    def unwedge_source(self):
        """Free a domain that a never-returning resume call still holds.

        On libvirt 9.0 that call keeps the domain's job (undefine times out
        on its state change lock) until libvirtd restarts; a restart keeps
        the host's other guests running.
        """
        faults.restart_libvirtd('lab-a')
        # The driver's connection died with the old daemon.
        self.driver_a = base.libvirt_driver.LibvirtDriver(
            host=base.libvirt_host.Host(self.a['uri']))

    def migrate_with_statuses(self, instance, during):
        """``migrate``, recording every status the driver saves."""
        result = self.migrate(instance, during=during, saver=lambda m: (
            self.statuses.append((time.monotonic(), m.status))))
        self.marks['ended'] = time.monotonic()
        self.mig = result.migration
        self.data = result.migrate_data
        return result

    def cut_in_postcopy(self, instance):
        """Force post-copy, then cut the link one second into it."""
        self.wait_running_job(instance, 2.0)
        self.driver_a.live_migration_force_complete(instance)
        state = self.driver_a.active_migration(instance.uuid).state
        lab.wait_for(lambda: state.postcopy_active, 60, interval=0.1,
                     what='the switch to post-copy')
        time.sleep(1.0)
        faults.link_down()
        self.marks['cut'] = time.monotonic()
        lab.wait_for(lambda: state.postcopy_broken, 90, interval=0.1,
                     what='the monitor to see the stream broken')
        self.marks['detected'] = time.monotonic()
        return state

    def write_figures(self, figures):
        lab.write_figures(self, 'NOVA_DRILL_RESULTS', figures)

    def test_link_cut_in_postcopy_then_restored(self):
        timeout = 40
        self.flags(live_migration_postcopy_recovery_timeout=timeout)
        instance = self.boot(metadata=BUSY_WIDE)

        def fault(inst):
            self.cut_in_postcopy(inst)
            time.sleep(10.0)
            faults.link_up()
            self.marks['restored'] = time.monotonic()

        result = self.migrate_with_statuses(instance, fault)
        names = [a[1] for a in result.state.actions]
        for name in ('postcopy', 'postcopy-broken', 'postcopy-resume'):
            self.assertIn(name, names)
        self.assertIn(PAUSED, [s for _t, s in self.statuses])
        # Detected within the stall timeout (5 s) or libvirt's keepalive.
        detect = self.marks['detected'] - self.marks['cut']
        self.assertLess(detect, 35)
        # Bounded: the recovery time counts from when the stream was seen
        # broken; allow for one slow jobStats call past the deadline.
        self.assertLess(self.marks['ended'] - self.marks['detected'],
                        timeout + 15)
        if result.completed:
            outcome = 'resumed, completed on lab-b'
            self.assertEqual(['post'], result.calls)
            self.assertIn('postcopy-resumed', names)
            self.assertEqual((False, True), self.where(instance))
            # The busy vCPU waited for its pages from the cut until the
            # resume; its kernel's watchdog may say so (soft lockup).
            reports = self.assertGuestKeepsRunning(
                stall_s=self.marks['ended'] - self.marks['cut'] + 10)
            bad = reports[-1]['bad']
        else:
            outcome = ('resume did not complete: error, both halves kept '
                       '(paused on lab-a, active on lab-b)')
            self.assertEqual([('recover', 'error')], result.calls)
            self.assertTrue(self.data.postcopy_unrecovered)
            self.assertEqual('postcopy-recovery-failed', names[-1])
            guest_a = self.driver_a.host.find_guest(instance.uuid)
            guest_b = self.driver_b.host.find_guest(instance.uuid)
            self.assertTrue(guest_a.is_postcopy_failed_here())
            self.assertTrue(guest_b.is_active())
            [hint] = re.findall(r'resume it with: (virsh .*)$',
                                self.log.output, re.M)
            self.assertIn(self.a['uri'], hint)
            self.assertIn('--postcopy-resume', hint)
            bad = None
            self.unwedge_source()
        self.write_figures({
            'drill': 'link cut during post-copy, restored after 10 s',
            'outcome': outcome,
            'detect_s': round(detect, 1),
            'recover_s': round(self.marks['ended'] - self.marks['restored'],
                               1),
            'resume_attempts': result.state.resume_attempts,
            'migration_status': self.mig.status,
            'guest_bad_writes': bad,
            'virt_type': self.env['NOVA_LAB_VIRT_TYPE']})
