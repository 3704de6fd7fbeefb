"""Migration flags and URIs from configuration and host capabilities."""

import testtools

from nova.simulator import libvirt as fakelibvirt
from nova.virt.libvirt import migration_flags

C = fakelibvirt.C
BASE = (C.VIR_MIGRATE_LIVE | C.VIR_MIGRATE_PEER2PEER |
        C.VIR_MIGRATE_PERSIST_DEST | C.VIR_MIGRATE_UNDEFINE_SOURCE)


def plan(**kw):
    args = dict(tunnelled=False, block_migration=False, permit_postcopy=False,
                permit_auto_converge=False)
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

    def test_postcopy_with_block_migration_waits_for_the_disks(self):
        p = plan(permit_postcopy=True, block_migration=True)
        # Still permitted: libvirt takes both flags, QEMU switches once the
        # memory copy runs.
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY |
                         C.VIR_MIGRATE_NON_SHARED_INC, p.flags)
        self.assertTrue(p.postcopy)
        self.assertTrue(p.postcopy_after_disk_copy)
        self.assertEqual(1, len(p.notes))
        self.assertIn('only the memory can be post-copied', p.notes[0])

    def test_no_disk_caveat_without_block_migration_or_postcopy(self):
        self.assertFalse(plan(permit_postcopy=True).postcopy_after_disk_copy)
        self.assertFalse(plan(block_migration=True).postcopy_after_disk_copy)
        self.assertEqual([], plan(block_migration=True).notes)
        self.assertIsNone(migration_flags.postcopy_with_block_migration_note(
            True, False))
        # Tunnelled: no post-copy at all, so no caveat about it either.
        p = plan(permit_postcopy=True, block_migration=True, tunnelled=True)
        self.assertFalse(p.postcopy_after_disk_copy)

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

    def test_tunnelled_postcopy(self):
        p = plan(permit_postcopy=True, tunnelled=True)
        self.assertFalse(p.flags & C.VIR_MIGRATE_POSTCOPY)
        self.assertIn('tunnelled', p.notes[0])

    def test_tunnelled_auto_converge_when_postcopy_cannot(self):
        p = plan(permit_postcopy=True, permit_auto_converge=True,
                 tunnelled=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_TUNNELLED |
                         C.VIR_MIGRATE_AUTO_CONVERGE, p.flags)


class ParallelConnectionsTestCase(testtools.TestCase):

    def test_one_connection_is_the_classic_stream(self):
        p = plan(parallel_connections=1)
        self.assertEqual(BASE, p.flags)
        self.assertEqual(1, p.parallel_connections)
        self.assertEqual([], p.notes)

    def test_parallel(self):
        p = plan(parallel_connections=4)
        self.assertEqual(BASE | C.VIR_MIGRATE_PARALLEL, p.flags)
        self.assertEqual(4, p.parallel_connections)

    def test_tunnelled(self):
        p = plan(parallel_connections=4, tunnelled=True)
        self.assertFalse(p.flags & C.VIR_MIGRATE_PARALLEL)
        self.assertIn('cannot tunnel parallel connections', p.notes[0])

    def test_postcopy_wins_on_older_qemu(self):
        p = plan(parallel_connections=4, permit_postcopy=True,
                 parallel_with_postcopy_supported=False)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        self.assertEqual(1, p.parallel_connections)
        self.assertIn('QEMU < 10.1.0 cannot combine', p.notes[0])

    def test_postcopy_and_parallel_on_new_qemu(self):
        p = plan(parallel_connections=4, permit_postcopy=True,
                 parallel_with_postcopy_supported=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY |
                         C.VIR_MIGRATE_PARALLEL, p.flags)
        self.assertEqual(4, p.parallel_connections)

    def test_params(self):
        self.assertEqual({'parallel.connections': 4},
                         migration_flags.migrate_params(C, None, False, 0, 4))
        self.assertEqual({}, migration_flags.migrate_params(C, None, False,
                                                            0, 1))


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

    def test_hosts_that_would_change_the_uri_are_refused(self):
        for bad in ('root@evil', 'host/other', 'b:1234', 'a b', '', 'x?y'):
            self.assertRaises(ValueError, migration_flags.destination_uri,
                              bad)
        self.assertRaises(ValueError, migration_flags.destination_uri,
                          'host-b', target_connect_addr='10.0.0.2/x')
        self.assertRaises(ValueError, migration_flags.migrate_params, C,
                          'a@b', False, 0)

    def test_ipv6_inbound_address_is_bracketed(self):
        self.assertEqual('qemu+tcp://[fd00::2]/system',
                         migration_flags.destination_uri(
                             'host-b', target_connect_addr='fd00::2'))
        self.assertEqual({'migrate_uri': 'tcp://[fd00::2]'},
                         migration_flags.migrate_params(C, 'fd00::2', False,
                                                        0))

    def test_params(self):
        self.assertEqual({'migrate_uri': 'tcp://10.0.0.2', 'bandwidth': 64},
                         migration_flags.migrate_params(C, '10.0.0.2',
                                                        False, 64))
        self.assertEqual({}, migration_flags.migrate_params(C, '10.0.0.2',
                                                            True, 0))

    def test_bandwidth_also_caps_postcopy(self):
        self.assertEqual({'bandwidth': 64, 'bandwidth.postcopy': 64},
                         migration_flags.migrate_params(C, None, False, 64,
                                                        postcopy=True))
        self.assertEqual({}, migration_flags.migrate_params(C, None, False, 0,
                                                            postcopy=True))


class MinimumVersionTestCase(testtools.TestCase):

    def test_minimum(self):
        self.assertIsNone(migration_flags.version_problem((8, 0, 0),
                                                          (6, 2, 0)))
        self.assertIsNone(migration_flags.version_problem((11, 3, 0),
                                                          (10, 0, 2)))

    def test_too_old(self):
        self.assertEqual('libvirt 7.10.0 is older than the minimum 8.0.0',
                         migration_flags.version_problem((7, 10, 0),
                                                         (6, 2, 0)))
        self.assertEqual('QEMU 6.1.0 is older than the minimum 6.2.0',
                         migration_flags.version_problem((9, 0, 0),
                                                         (6, 1, 0)))
