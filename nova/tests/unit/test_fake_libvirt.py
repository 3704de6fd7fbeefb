"""The fake libvirt agrees with the real libvirt-python it stands in for."""

import dataclasses

from oslo_utils import importutils
import testtools

from nova.simulator import libvirt as fakelibvirt
from nova.virt.libvirt import guest as libvirt_guest

# libvirt-python is in requirements.txt: every tox environment has it.
real = importutils.try_import('libvirt')


@testtools.skipIf(real is None, 'libvirt-python is not installed; every '
                  'tox environment installs it, so CI runs this check')
class FakeMatchesRealTestCase(testtools.TestCase):

    def test_constants_have_the_real_values(self):
        for name, value in fakelibvirt.CONSTANTS.items():
            self.assertTrue(hasattr(real, name), name)
            self.assertEqual(getattr(real, name), value, name)

    def test_job_types_match(self):
        for ours, theirs in ((libvirt_guest.JOB_NONE, 'NONE'),
                             (libvirt_guest.JOB_BOUNDED, 'BOUNDED'),
                             (libvirt_guest.JOB_UNBOUNDED, 'UNBOUNDED'),
                             (libvirt_guest.JOB_COMPLETED, 'COMPLETED'),
                             (libvirt_guest.JOB_FAILED, 'FAILED'),
                             (libvirt_guest.JOB_CANCELLED, 'CANCELLED')):
            self.assertEqual(getattr(real, 'VIR_DOMAIN_JOB_' + theirs), ours)

    def test_jobinfo_fields_are_libvirt_job_stats_keys(self):
        keys = {value for name, value in vars(real).items()
                if name.startswith('VIR_DOMAIN_JOB_') and
                isinstance(value, str)}
        for field in dataclasses.fields(libvirt_guest.JobInfo):
            if field.name != 'type':
                self.assertIn(field.name, keys)

    def test_model_reports_only_real_keys(self):
        keys = {value for name, value in vars(real).items()
                if name.startswith('VIR_DOMAIN_JOB_') and
                isinstance(value, str)} | {'type'}
        hv = fakelibvirt.Hypervisors()
        hv.add_host('a')
        hv.add_host('b')
        dom = hv.define_guest('a', 'vm', 64)
        from nova.simulator import migration_model
        job = migration_model.MigrationModel(dom.workload,
                                             hv.default_link)
        self.assertEqual(set(), set(job.job_stats()) - keys)
        self.assertEqual(set(), set(job.completed_stats()) - keys)

    def test_error_class_surface(self):
        err = fakelibvirt.libvirtError('x', error_code=42)
        self.assertEqual(42, err.get_error_code())
        for method in ('get_error_code', 'get_error_domain',
                       'get_error_message'):
            self.assertTrue(hasattr(real.libvirtError, method))


class RealTimeClockTestCase(testtools.TestCase):
    """Services on the fake: migrations advance in (sped-up) real time."""

    def test_migration_completes_with_the_real_clock_driver(self):
        from nova.objects import instance as instance_obj
        from nova.simulator import migration_model
        from nova.virt.libvirt import driver as libvirt_driver
        from nova.virt.libvirt import host as libvirt_host

        clock = fakelibvirt.RealTimeClock(speed=20)
        self.addCleanup(clock.stop)
        hv = fakelibvirt.Hypervisors(clock=clock,
                                     bandwidth=100 * migration_model.MiB)
        hv.add_host('a')
        hv.add_host('b')
        dom = hv.define_guest('a', 'vm', 256)
        host = libvirt_host.Host(hv.uri('a'), libvirt_module=hv.module,
                                 event_loop=False)
        driver = libvirt_driver.LibvirtDriver(host=host, clock=clock)
        done = []
        result = driver.live_migration(
            None, instance_obj.Instance(uuid=dom.UUIDString(),
                                        memory_mb=256),
            'b', lambda *a: done.append('post'),
            lambda *a, **k: done.append('recover'))
        self.assertTrue(result.completed)
        self.assertEqual(['post'], done)
        self.assertIn(dom.UUIDString(), hv.hosts['b'].domains)
