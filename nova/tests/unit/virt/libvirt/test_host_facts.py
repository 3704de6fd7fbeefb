"""cpu_info from libvirt capabilities, and the uptime line."""

import datetime
import json

import fixtures
import testtools

from nova.virt.libvirt import host_facts

CAPS = """<capabilities>
  <host>
    <uuid>4c4c4544-0033-5210-8057-b4c04f4e4432</uuid>
    <cpu>
      <arch>aarch64</arch>
      <model>neoverse-n1</model>
      <vendor>ARM</vendor>
      <topology sockets='2' dies='1' cores='8' threads='1'/>
      <feature name='sve'/>
      <feature name='aes'/>
      <feature name='aes'/>
    </cpu>
  </host>
  <guest><arch name='x86_64'/></guest>
</capabilities>"""


class CPUInfoTestCase(testtools.TestCase):

    def test_from_capabilities(self):
        self.assertEqual(
            {'arch': 'aarch64', 'model': 'neoverse-n1', 'vendor': 'ARM',
             'topology': {'sockets': 2, 'cores': 8, 'threads': 1},
             'features': ['aes', 'sve']},
            host_facts.cpu_info(CAPS, fallback_arch='x86_64'))

    def test_partial_and_broken_xml(self):
        self.assertEqual({'arch': 'x86_64', 'features': []},
                         host_facts.cpu_info(
                             '<capabilities><host><cpu/></host>'
                             '</capabilities>', fallback_arch='x86_64'))
        self.assertEqual({'arch': 'x86_64'},
                         host_facts.cpu_info('<not xml', 'x86_64'))
        self.assertEqual({}, host_facts.cpu_info(''))

    def test_json_for_the_record(self):
        self.assertEqual('ARM', json.loads(
            host_facts.cpu_info_json(CAPS))['vendor'])


class UptimeTestCase(testtools.TestCase):

    NOW = datetime.datetime(2026, 12, 2, 8, 32, 11)

    def test_days_hours(self):
        seconds = 93 * 86400 + 18 * 3600 + 25 * 60 + 7
        self.assertEqual(
            ' 08:32:11 up 93 days, 18:25,  0 users,  load average: 0.20, '
            '0.12, 0.14',
            host_facts.uptime_line(self.NOW, seconds, [0.2, 0.12, 0.14]))

    def test_minutes_one_day_one_user(self):
        self.assertEqual(
            ' 08:32:11 up 1 day, 7 min,  1 user,  load average: 1.00, '
            '0.50, 0.25',
            host_facts.uptime_line(self.NOW, 86400 + 7 * 60 + 59,
                                   [1, 0.5, 0.25], users=1))

    def test_reads_proc(self):
        proc = self.useFixture(fixtures.TempDir()).path
        with open(proc + '/uptime', 'w') as f:
            f.write('3725.5 100.0\n')
        with open(proc + '/loadavg', 'w') as f:
            f.write('0.50 0.40 0.30 1/200 999\n')
        line = host_facts.read_uptime_line(proc)
        self.assertIn(' up  1:02,  0 users,  load average: 0.50, 0.40, '
                      '0.30', line)
