"""Migration flags and URIs from configuration and host capabilities."""

import testtools

from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt.libvirt import migration_flags

C = fakelibvirt.C
BASE = (C.VIR_MIGRATE_LIVE | C.VIR_MIGRATE_PEER2PEER |
        C.VIR_MIGRATE_PERSIST_DEST | C.VIR_MIGRATE_UNDEFINE_SOURCE)


def plan(**kw):
    args = dict(tunnelled=False, block_migration=False, permit_postcopy=False,
                permit_auto_converge=False, postcopy_supported=True,
                auto_converge_supported=True)
    args.update(kw)
    return migration_flags.build_migration_flags(C, **args)


class FlagsTestCase(testtools.TestCase):

    def test_defaults(self):
        p = plan()
        self.assertEqual(BASE, p.flags)
        self.assertEqual([], p.notes)

    def test_block_and_tunnelled(self):
        p = plan(block_migration=True, tunnelled=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_NON_SHARED_INC |
                         C.VIR_MIGRATE_TUNNELLED, p.flags)

    def test_postcopy(self):
        p = plan(permit_postcopy=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        self.assertTrue(p.postcopy)

    def test_auto_converge(self):
        p = plan(permit_auto_converge=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_AUTO_CONVERGE, p.flags)
        self.assertTrue(p.auto_converge)

    def test_both_postcopy_wins(self):
        p = plan(permit_postcopy=True, permit_auto_converge=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        self.assertFalse(p.auto_converge)
        self.assertEqual(['auto-converge not requested: post-copy is '
                          'permitted and available, and wins'], p.notes)

    def test_both_postcopy_unsupported_falls_back(self):
        p = plan(permit_postcopy=True, permit_auto_converge=True,
                 postcopy_supported=False)
        self.assertEqual(BASE | C.VIR_MIGRATE_AUTO_CONVERGE, p.flags)
        self.assertIn('post-copy not used: it needs libvirt >= 1.3.3 and '
                      'QEMU >= 2.5.0', p.notes)

    def test_tunnelled_postcopy(self):
        p = plan(permit_postcopy=True, tunnelled=True)
        self.assertFalse(p.flags & C.VIR_MIGRATE_POSTCOPY)
        self.assertIn('tunnelled', p.notes[0])

    def test_auto_converge_unsupported(self):
        p = plan(permit_auto_converge=True, auto_converge_supported=False)
        self.assertEqual(BASE, p.flags)
        self.assertIn('libvirt >= 1.2.3 and QEMU >= 1.6.0', p.notes[0])


class UriTestCase(testtools.TestCase):

    def test_default_scheme(self):
        self.assertEqual('qemu+tcp://host-b/system',
                         migration_flags.destination_uri('host-b'))

    def test_scheme_and_inbound_addr(self):
        self.assertEqual('qemu+ssh://10.0.0.2/system',
                         migration_flags.destination_uri(
                             'host-b', scheme='ssh',
                             target_connect_addr='10.0.0.2'))

    def test_uri_template_wins(self):
        self.assertEqual('qemu+tcp://host-b/system',
                         migration_flags.destination_uri(
                             'host-b', scheme='ssh',
                             uri_template='qemu+tcp://%s/system',
                             target_connect_addr='10.0.0.2'))

    def test_params(self):
        self.assertEqual({'migrate_uri': 'tcp://10.0.0.2', 'bandwidth': 64},
                         migration_flags.migrate_params(C, '10.0.0.2',
                                                        False, 64))
        self.assertEqual({}, migration_flags.migrate_params(C, '10.0.0.2',
                                                            True, 0))
