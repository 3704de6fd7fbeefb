"""pause, unpause, suspend and resume on real libvirt + QEMU (the lab).

Through ``LibvirtDriver`` and its ``Guest`` wrapper, as the compute manager
calls them: the guest program's per-second console reports show whether
the guest runs; libvirt's own state shows how (paused; shut off with a
managed-save image). Also the host facts os-hypervisors shows, read from
the real daemons (cpu_info from the capabilities, the uptime line).
"""

import json
import time

from nova.compute import power_state
from nova.tests.functional.libvirt import lab
from nova.tests.functional.libvirt import test_live_migration


class PowerActionsLabTestCase(test_live_migration.LabTestCase):

    def reports(self):
        return len(lab.console_reports(self.console))

    def assert_still(self, seconds=3):
        before = self.reports()
        time.sleep(seconds)
        self.assertEqual(before, self.reports(),
                         'the guest kept reporting')

    def assert_runs(self, timeout=60):
        before = self.reports()
        lab.wait_for(lambda: self.reports() >= before + 2, timeout,
                     what='the guest to report again')

    def test_pause_and_unpause(self):
        instance = self.boot()
        self.driver_a.pause(None, instance)
        self.assertEqual(power_state.PAUSED,
                         self.driver_a.get_power_state(instance))
        self.assert_still()
        self.driver_a.unpause(None, instance)
        self.assertEqual(power_state.RUNNING,
                         self.driver_a.get_power_state(instance))
        self.assert_runs()

    def test_suspend_is_a_managed_save_and_resume_restores(self):
        instance = self.boot()
        self.driver_a.suspend(None, instance)
        guest = self.driver_a.host.find_guest(instance.uuid)
        self.assertTrue(guest.has_managed_save())
        self.assertFalse(guest.is_active())
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver_a.get_power_state(instance))
        self.assert_still()
        reports = lab.console_reports(self.console)
        self.driver_a.resume(None, instance)
        self.assertFalse(guest.has_managed_save())
        self.assertEqual(power_state.RUNNING,
                         self.driver_a.get_power_state(instance))
        self.assert_runs()
        # Restored, not rebooted: the guest program's clock goes on from
        # where it stopped instead of starting again from zero.
        after = lab.console_reports(self.console)[len(reports):]
        self.assertGreaterEqual(after[0]['t'], reports[-1]['t'])
        self.assertEqual([], lab.console_problems(self.console))

    def test_destroy_a_suspended_guest(self):
        instance = self.boot()
        self.driver_a.suspend(None, instance)
        self.assertTrue(self.driver_a.destroy(None, instance))
        self.assertIsNone(self.driver_a.host.find_guest(instance.uuid))

    def test_host_facts(self):
        facts = self.driver_a.get_available_resource()
        cpu = json.loads(facts['cpu_info'])
        self.assertEqual('x86_64', cpu['arch'])
        self.assertTrue(cpu.get('model'))
        self.assertTrue(cpu.get('features'))
        self.assertEqual({'sockets', 'cores', 'threads'},
                         set(cpu['topology']))
        self.assertIn(' up ', self.driver_a.get_host_uptime())
