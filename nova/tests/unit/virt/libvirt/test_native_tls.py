"""live_migration_with_native_tls: the flag, the start-up checks, the
simulated hosts' refusal without certificates, and the lab's wire check.
"""

import importlib.util
import os

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from nova.bench import scenario
import nova.conf
from nova.conf import validation
from nova.simulator import libvirt as fakelibvirt
from nova.tests.unit.conf import test_validation
from nova.tests.unit.virt.libvirt import test_migration_flags
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration_flags

C = fakelibvirt.C
BASE = test_migration_flags.BASE
plan = test_migration_flags.plan
TLSWIRE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                       '..', 'tools', 'lab', 'tlswire.py')


class FlagsTestCase(testtools.TestCase):

    def test_off_by_default(self):
        self.assertEqual(BASE, plan().flags)
        self.assertFalse(plan().flags & C.VIR_MIGRATE_TLS)

    def test_adds_tls(self):
        self.assertEqual(BASE | C.VIR_MIGRATE_TLS,
                         plan(native_tls=True).flags)

    def test_keeps_postcopy_parallel_and_block(self):
        p = plan(native_tls=True, permit_postcopy=True, block_migration=True,
                 parallel_connections=4,
                 parallel_with_postcopy_supported=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_TLS | C.VIR_MIGRATE_POSTCOPY |
                         C.VIR_MIGRATE_NON_SHARED_INC |
                         C.VIR_MIGRATE_PARALLEL, p.flags)
        self.assertEqual(4, p.parallel_connections)
        # Only the caveat every block migration with post-copy gets.
        self.assertEqual([migration_flags.postcopy_with_block_migration_note(
            True, True)], p.notes)


class ControlLinkWarningTestCase(testtools.TestCase):

    def test_plain_tcp_named(self):
        for scheme in (None, '', 'tcp', 'TCP'):
            warning = migration_flags.control_link_warning(True, scheme)
            self.assertIn('set live_migration_scheme = tls', warning)
        self.assertIn('is unset (tcp)',
                      migration_flags.control_link_warning(True, None))

    def test_encrypted_or_explicit_control_links_not_named(self):
        for scheme in ('tls', 'ssh', 'libssh'):
            self.assertIsNone(migration_flags.control_link_warning(
                True, scheme))
        self.assertIsNone(migration_flags.control_link_warning(
            True, None, uri_template='qemu+tcp://%s/system'))

    def test_nothing_without_native_tls(self):
        self.assertIsNone(migration_flags.control_link_warning(False, 'tcp'))


class StartupCheckTestCase(testtools.TestCase):

    def test_tunnelled_and_native_tls_refused(self):
        conf, _path = test_validation._conf(
            self, '[libvirt]\nlive_migration_with_native_tls = true\n'
                  'live_migration_tunnelled = true\n')
        [problem] = validation.errors(conf)
        self.assertIn('[libvirt] live_migration_with_native_tls and '
                      'live_migration_tunnelled are both true', problem)

    def test_each_alone_accepted(self):
        for option in ('live_migration_with_native_tls',
                       'live_migration_tunnelled'):
            conf, _path = test_validation._conf(
                self, '[libvirt]\n%s = true\n' % option)
            self.assertEqual([], validation.errors(conf))


class SimulatedMigrationTestCase(testtools.TestCase):
    """The real driver on the simulated hosts, with the option set."""

    def setUp(self):
        super(SimulatedMigrationTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.log = self.useFixture(fixtures.FakeLogger(
            level='INFO', format='%(levelname)s %(message)s'))
        self.conf.config(group='libvirt', live_migration_with_native_tls=True)

    def run_scenario(self, hook=None):
        return scenario.run(self.conf.conf, memory_mib=512, dirty_mib_s=0,
                            driver_hook=hook)

    def test_completes_with_the_tls_flag(self):
        out = self.run_scenario()
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(BASE | C.VIR_MIGRATE_TLS, out.flags)
        self.assertEqual(['dest'], out.host_of_guest())

    def test_destination_without_certificates_refuses(self):
        def no_certs(ctx):
            ctx['hv'].hosts['dest'].tls_ready = False
        out = self.run_scenario(no_certs)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'failed')], out.callbacks)
        self.assertEqual('failed', out.migration.status)
        self.assertEqual(['src'], out.host_of_guest())
        self.assertEqual(C.VIR_DOMAIN_RUNNING,
                         out.domain('src').state_value[0])
        self.assertIn('Unable to access credentials', self.log.output)
        self.assertIn('dest server', self.log.output)

    def test_startup_warns_about_a_plain_control_link(self):
        def init(ctx):
            ctx['driver'].init_host('src')
        self.run_scenario(init)
        self.assertIn('WARNING Live migration: live_migration_with_native_tls '
                      'encrypts the migration data, but '
                      'live_migration_scheme is unset (tcp)', self.log.output)

    def test_no_warning_with_tls_scheme(self):
        self.conf.config(group='libvirt', live_migration_scheme='tls')

        def init(ctx):
            ctx['driver'].init_host('src')
        self.run_scenario(init)
        self.assertNotIn('live_migration_scheme is', self.log.output)


def _tlswire():
    spec = importlib.util.spec_from_file_location('tlswire', TLSWIRE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frame(src, sport, dst, dport, seq, flags, payload=b''):
    """An Ethernet + IPv4 + TCP frame (checksums left zero)."""
    import socket
    import struct
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, flags,
                      65535, 0, 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return b'\0' * 12 + b'\x08\x00' + ip + tcp


class TlsWireTestCase(testtools.TestCase):
    """tools/lab/tlswire.py, which the lab test uses as its proof."""

    def setUp(self):
        super(TlsWireTestCase, self).setUp()
        self.wire = _tlswire()

    def test_classify(self):
        classify = self.wire.classify
        self.assertEqual('tls-client-hello',
                         classify(bytes.fromhex('160301020001')))
        self.assertEqual('tls-server-hello',
                         classify(bytes.fromhex('160303007a02')))
        self.assertEqual('qemu-plain', classify(b'QEVM\0\0\0\3'))
        self.assertEqual('other', classify(b'\x17\x03\x03\x00\x10\x00'))
        self.assertEqual('none', classify(b''))

    def test_ports(self):
        self.assertEqual({16514, 49152, 49153, 49154},
                         self.wire.parse_ports('16514, 49152-49154'))

    def _connection(self, tracker, client_bytes, server_bytes, port=49184):
        a, b = '198.18.0.1', '198.18.0.2'
        for frame in (
                _frame(a, 50000, b, port, 1000, 0x02),           # SYN
                _frame(b, port, a, 50000, 7000, 0x12),           # SYN-ACK
                _frame(a, 50000, b, port, 1001, 0x18, client_bytes),
                _frame(b, port, a, 50000, 7001, 0x18, server_bytes),
                _frame(a, 50000, b, port, 1001 + len(client_bytes), 0x18,
                       b'\x17\x03\x03later')):
            tracker.feed(self.wire.tcp_segment(frame))

    def test_tracks_first_bytes_by_sequence(self):
        tracker = self.wire.Tracker({49184})
        self._connection(tracker, bytes.fromhex('16030100f801'),
                         bytes.fromhex('160303007a02'))
        [conn] = tracker.report()
        self.assertEqual('198.18.0.2:49184', conn['server'])
        self.assertEqual('tls-client-hello', conn['client_kind'])
        self.assertEqual('tls-server-hello', conn['server_kind'])
        self.assertEqual(1, tracker.complete({49184}))

    def test_plain_stream_seen_as_plain(self):
        tracker = self.wire.Tracker({49184})
        self._connection(tracker, b'QEVM\0\0\0\3', b'')
        [conn] = tracker.report()
        self.assertEqual('qemu-plain', conn['client_kind'])
        self.assertEqual(0, tracker.complete({49184}))

    def test_missed_first_segment_is_not_classed_by_later_bytes(self):
        tracker = self.wire.Tracker({49184})
        a, b = '198.18.0.1', '198.18.0.2'
        tracker.feed(self.wire.tcp_segment(
            _frame(a, 50000, b, 49184, 1000, 0x02)))
        tracker.feed(self.wire.tcp_segment(
            _frame(a, 50000, b, 49184, 5001, 0x18, b'QEVM')))
        [conn] = tracker.report()
        self.assertEqual('none', conn['client_kind'])

    def test_connections_begun_before_the_capture_ignored(self):
        tracker = self.wire.Tracker({49184})
        tracker.feed(self.wire.tcp_segment(_frame(
            '198.18.0.1', 50000, '198.18.0.2', 49184, 1001, 0x18, b'QEVM')))
        self.assertEqual([], tracker.report())
