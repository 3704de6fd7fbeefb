"""Guest and Host wrappers against the fake libvirt module."""

import testtools

from nova.compute import power_state
from nova.simulator import libvirt as fakelibvirt
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host

C = fakelibvirt.C


class GuestHostTestCase(testtools.TestCase):

    def setUp(self):
        super(GuestHostTestCase, self).setUp()
        self.hv = fakelibvirt.Hypervisors(lib_version=9000000,
                                          hv_version=7002000)
        self.hv.add_host('a')
        self.host = libvirt_host.Host(self.hv.uri('a'),
                                      libvirt_module=self.hv.module,
                                      event_loop=False)
        self.dom = self.hv.define_guest('a', 'vm', 256)
        self.guest = self.host.get_guest(self.dom.UUIDString())

    def test_versions(self):
        self.assertEqual((9, 0, 0), self.host.get_libvirt_version())
        self.assertEqual((7, 2, 0), self.host.get_hypervisor_version())
        self.assertTrue(self.host.has_min_version((1, 3, 3), (2, 5, 0)))
        self.assertTrue(self.host.has_min_version((9, 0, 0), (7, 2, 0)))
        self.assertFalse(self.host.has_min_version((9, 0, 1)))
        self.assertFalse(self.host.has_min_version(hv_ver=(8, 0, 0)))

    def test_version_int_round_trip(self):
        self.assertEqual(1003003, libvirt_host.version_to_int((1, 3, 3)))
        self.assertEqual((2, 5, 0), libvirt_host.int_to_version(2005000))
        self.assertEqual(2000000, libvirt_host.version_to_int((2,)))

    def test_find_guest_missing(self):
        self.assertIsNone(self.host.find_guest('nope'))
        self.assertEqual('vm', self.host.find_guest(
            self.dom.UUIDString()).name)

    def test_create_guest_from_xml(self):
        xml = ('<domain type="qemu"><name>x</name><uuid>u-2</uuid>'
               '<memory unit="MiB">128</memory></domain>')
        guest = self.host.create_guest(xml)
        self.assertTrue(guest.is_active())
        self.assertEqual(2, len(self.host.list_guests()))

    def test_power_states(self):
        self.assertEqual(power_state.RUNNING, self.guest.get_power_state())
        self.guest.pause()
        self.assertEqual(power_state.PAUSED, self.guest.get_power_state())
        self.guest.resume()
        self.assertEqual(power_state.RUNNING, self.guest.get_power_state())
        self.guest.destroy()
        self.assertEqual(power_state.SHUTDOWN,
                         self.guest.get_power_state())
        self.assertEqual((True, False), self.guest.exists_active())

    def test_exists_active_when_gone(self):
        self.hv.hosts['a'].domains.clear()
        self.assertEqual((False, False), self.guest.exists_active())

    def test_job_info_no_job(self):
        info = self.guest.get_job_info()
        self.assertEqual(libvirt_guest.JOB_NONE, info.type)

    def test_job_info_domain_vanished_is_completed(self):
        self.hv.hosts['a'].domains.clear()
        self.assertEqual(libvirt_guest.JOB_COMPLETED,
                         self.guest.get_job_info().type)

    def test_job_info_domain_not_running_is_completed(self):
        self.guest.destroy()
        self.assertEqual(libvirt_guest.JOB_COMPLETED,
                         self.guest.get_job_info().type)

    def test_job_info_without_job_stats_uses_job_info(self):
        self.hv.no_job_stats = True
        info = self.guest.get_job_info()
        self.assertEqual(libvirt_guest.JOB_NONE, info.type)

    def test_job_info_other_errors_raise(self):
        def broken(flags=0):
            raise fakelibvirt.libvirtError('boom')
        self.dom.jobStats = broken
        self.assertRaises(fakelibvirt.libvirtError, self.guest.get_job_info)

    def test_jobinfo_from_stats_keeps_every_field_ignores_unknown(self):
        info = libvirt_guest.JobInfo.from_stats({
            'type': 2, 'memory_total': 10, 'auto_converge_throttle': 30,
            'memory_dirty_rate': 5, 'memory_page_size': 8192,
            'some_future_key': 1, 'errmsg': 'text'})
        self.assertEqual(2, info.type)
        self.assertEqual(30, info.auto_converge_throttle)
        self.assertEqual(5 * 8192, info.memory_dirty_bps)

    def test_jobinfo_from_legacy(self):
        info = libvirt_guest.JobInfo.from_legacy(list(range(2, 14)))
        self.assertEqual(2, info.type)
        self.assertEqual(13, info.disk_remaining)
        self.assertEqual(10, info.memory_remaining)

    def test_lifecycle_events_reach_handlers(self):
        seen = []
        self.host.register_lifecycle_handler(
            lambda uuid, event, detail: seen.append((uuid, event, detail)))

        def broken(*args):
            raise RuntimeError('handler bug')
        self.host.register_lifecycle_handler(broken)
        self.guest.pause()
        self.assertEqual([(self.dom.UUIDString(), C.VIR_DOMAIN_EVENT_SUSPENDED,
                           C.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)], seen)

    def test_reconnects_when_connection_dies(self):
        first = self.host.get_connection()
        self.host.get_connection()
        self.assertEqual(1, self.hv.opens)
        first.alive = False
        self.assertTrue(self.host.get_connection().isAlive())
        self.assertEqual(2, self.hv.opens)

    def test_event_loop_thread_started_once(self):
        host = libvirt_host.Host(self.hv.uri('a'),
                                 libvirt_module=self.hv.module,
                                 event_loop=True)
        host.get_connection()
        thread = host._event_thread
        self.assertTrue(thread.is_alive())
        host.get_connection().alive = False
        host.get_connection()
        self.assertIs(thread, host._event_thread)
