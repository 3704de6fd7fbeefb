"""nova-all's settings: --compute, the lab env file, fake hypervisors."""

import os

import fixtures
from oslo_config import cfg
import testtools

from nova.cmd import all as all_cmd


class ComputeSpecTestCase(testtools.TestCase):

    def test_parse_compute(self):
        spec = all_cmd.parse_compute(
            'lab-a=qemu+tcp://198.18.0.1/system,198.18.0.1')
        self.assertEqual('lab-a', spec.name)
        self.assertEqual('qemu+tcp://198.18.0.1/system', spec.uri)
        self.assertEqual('198.18.0.1', spec.addr)
        self.assertEqual(
            {'host': 'lab-a',
             'libvirt': {'connection_uri': 'qemu+tcp://198.18.0.1/system',
                         'live_migration_inbound_addr': '198.18.0.1'}},
            spec.overrides())
        spec = all_cmd.parse_compute('b=qemu:///system')
        self.assertIsNone(spec.addr)
        self.assertRaises(ValueError, all_cmd.parse_compute, 'no-uri')

    def test_lab_env(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'lab.env')
        with open(path, 'w') as handle:
            handle.write('# lab\n'
                         'NOVA_LAB_VIRT_TYPE=qemu\n'
                         'NOVA_LAB_KERNEL=/k\n'
                         'export NOVA_LAB_INITRD="/i"\n'
                         'NOVA_LAB_SHARED_DIR=%s\n'
                         'NOVA_LAB_A_HOSTNAME=lab-a\n'
                         'NOVA_LAB_A_URI=qemu+unix:///system?socket=/a\n'
                         'NOVA_LAB_A_ADDR=198.18.0.1\n'
                         'NOVA_LAB_B_HOSTNAME=lab-b\n'
                         'NOVA_LAB_B_URI=qemu+unix:///system?socket=/b\n'
                         'NOVA_LAB_B_ADDR=198.18.0.2\n' % tmp)
        env = all_cmd.read_env_file(path)
        self.assertEqual('/i', env['NOVA_LAB_INITRD'])
        specs = all_cmd.lab_computes(env)
        self.assertEqual(['lab-a', 'lab-b'], [s.name for s in specs])
        b = specs[1].overrides()
        self.assertEqual('qemu+unix:///system?socket=/b',
                         b['libvirt']['connection_uri'])
        self.assertEqual('198.18.0.2',
                         b['libvirt']['live_migration_inbound_addr'])
        self.assertEqual('qemu', b['libvirt']['virt_type'])
        self.assertEqual(os.path.join(tmp, 'console'),
                         b['libvirt']['guest_console_dir'])
        self.assertTrue(os.path.isdir(os.path.join(tmp, 'console')))

    def test_lab_env_without_hosts(self):
        self.assertRaises(ValueError, all_cmd.lab_computes, {})

    def _conf(self, args):
        conf = cfg.ConfigOpts()
        conf.register_cli_opts(all_cmd.cli_opts)
        conf(args, project='nova', default_config_files=[])
        return conf

    def test_from_conf(self):
        specs, _env = all_cmd.computes_from_conf(self._conf(
            ['--compute', 'x=fake://x', '--compute', 'y=fake://y,y']))
        self.assertEqual(['x', 'y'], [s.name for s in specs])
        self.useFixture(fixtures.MonkeyPatch(
            'nova.cmd.all.DEFAULT_LAB_ENV', '/nonexistent/lab.env'))
        specs, _env = all_cmd.computes_from_conf(self._conf(
            ['--fake-hypervisors']))
        self.assertEqual(['lab-a', 'lab-b'], [s.name for s in specs])
        self.assertRaises(ValueError, all_cmd.computes_from_conf,
                          self._conf([]))
