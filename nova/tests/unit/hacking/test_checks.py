"""The layering checks of nova/hacking, line by line."""

import testtools

from nova.hacking import checks


def hits(check, line, filename):
    return list(check(line, filename))


class LayeringChecksTestCase(testtools.TestCase):

    def test_libvirt_driver_only_from_virt_cmd_bench(self):
        line = 'from nova.virt.libvirt import driver as libvirt_driver'
        for allowed in ('nova/virt/libvirt/monitor.py', 'nova/cmd/all.py',
                        'nova/bench/simulated.py', 'tools/lab/x.py',
                        'nova/tests/unit/virt/libvirt/scenario.py'):
            self.assertEqual([], hits(checks.check_libvirt_driver_layering,
                                      line, allowed))
        for refused in ('nova/compute/manager.py', 'nova/compute/service.py',
                        'nova/objects/migration.py'):
            [(offset, msg)] = hits(checks.check_libvirt_driver_layering,
                                   line, refused)
            self.assertTrue(msg.startswith('N801'))
        self.assertEqual(1, len(hits(checks.check_libvirt_driver_layering,
                                     'import nova.virt.libvirt.guest',
                                     'nova/compute/api.py')))
        # The neutral virt modules are fine for compute.
        self.assertEqual([], hits(checks.check_libvirt_driver_layering,
                                  'from nova.virt import image',
                                  'nova/compute/manager.py'))

    def test_api_imports_no_virt(self):
        for line in ('from nova.virt import image',
                     'from nova.simulator import libvirt',
                     'import nova.virt.libvirt.driver'):
            self.assertEqual(1, len(hits(checks.check_api_does_not_import_virt,
                                         line, 'nova/api/openstack/app.py')))
        self.assertEqual([], hits(checks.check_api_does_not_import_virt,
                                  'from nova.compute import api',
                                  'nova/api/openstack/app.py'))

    def test_no_tests_in_production(self):
        line = 'from nova.tests.unit.compute import cloud'
        self.assertEqual(1, len(hits(checks.check_no_tests_in_production,
                                     line, 'nova/cmd/all.py')))
        self.assertEqual([], hits(checks.check_no_tests_in_production, line,
                                  'nova/tests/unit/api/test_x.py'))

    def test_libvirt_module_confined(self):
        for line in ('import libvirt', 'from libvirt import virDomain'):
            self.assertEqual(1, len(hits(
                checks.check_libvirt_module_confined, line,
                'nova/virt/libvirt/driver.py')))
        self.assertEqual([], hits(checks.check_libvirt_module_confined,
                                  'import libvirt',
                                  'nova/virt/libvirt/host.py'))

    def test_instance_logging(self):
        self.assertEqual(1, len(hits(
            checks.check_instance_logging,
            "        LOG.info('Instance %s: deleted', uuid)",  # noqa: N805
            'nova/compute/manager.py')))
        self.assertEqual([], hits(
            checks.check_instance_logging,
            "        LOG.info('Deleted', instance=instance)",
            'nova/compute/manager.py'))
