"""QEMU's post-copy preempt channel: when the driver asks for it.

The flag rule (pure), the destination's answer carried to the source in
the migrate data, and whole migrations through the driver on the fake
hypervisor, whose hosts run different libvirt/QEMU versions and refuse the
flag as libvirt does.

No libvirt release is known to accept VIR_MIGRATE_POSTCOPY_PREEMPT yet
(11.3.0 refuses it), so the driver never asks for it today
(``TodayTestCase``); the rest models a future libvirt FUTURE that does,
on both the driver's side (MIN_LIBVIRT_POSTCOPY_PREEMPT) and the fake's.
"""

import types

import fixtures
from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova.conf import libvirt as libvirt_conf
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host
from nova.virt.libvirt import migration_flags

C = fakelibvirt.C
MiB = migration_model.MiB
PREEMPT = 1 << 21
BASE = (C.VIR_MIGRATE_LIVE | C.VIR_MIGRATE_PEER2PEER |
        C.VIR_MIGRATE_PERSIST_DEST | C.VIR_MIGRATE_UNDEFINE_SOURCE)
BOTH = migration_flags.PreemptSupport(source=True, destination=True)
# A libvirt release that would accept the flag (none is known to).
FUTURE = (12, 0, 0)
# (libvirt, QEMU) as getLibVersion()/getVersion() report them.
OLD = (9000000, 7002000)        # Debian 12
BACKPORTS = (11003000, 10000002)  # bookworm-backports: refuses the flag
NEW = (12000000, 10001000)      # FUTURE libvirt, QEMU 10.1
NEW_LIBVIRT_OLD_QEMU = (12000000, 7002000)


def plan(**kw):
    args = dict(tunnelled=False, block_migration=False, permit_postcopy=True,
                permit_auto_converge=False)
    args.update(kw)
    return migration_flags.build_migration_flags(C, **args)


def preempt_notes(p):
    return [n for n in p.notes if n.startswith('post-copy preempt')]


class FutureLibvirt(fixtures.Fixture):
    """Both the driver and the fake take FUTURE as the first libvirt that
    accepts the flag.
    """

    def _setUp(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.migration_flags.MIN_LIBVIRT_POSTCOPY_PREEMPT',
            FUTURE))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.simulator.libvirt.PREEMPT_MIN_LIB_VERSION',
            FUTURE[0] * 1000000 + FUTURE[1] * 1000 + FUTURE[2]))


class FlagRuleTestCase(testtools.TestCase):

    def setUp(self):
        super(FlagRuleTestCase, self).setUp()
        self.useFixture(FutureLibvirt())

    def test_value_is_libvirts(self):
        self.assertEqual(PREEMPT, migration_flags.VIR_MIGRATE_POSTCOPY_PREEMPT)
        self.assertEqual(PREEMPT, fakelibvirt.POSTCOPY_PREEMPT)
        # The fake, like the libvirt-python 9.0 binding, lacks the name.
        self.assertFalse(hasattr(C, 'VIR_MIGRATE_POSTCOPY_PREEMPT'))

    def test_both_hosts_support_it(self):
        p = plan(postcopy_preempt_supported=BOTH)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT, p.flags)
        self.assertTrue(p.postcopy_preempt)
        self.assertEqual(['post-copy preempt channel requested: both hosts '
                          'have libvirt >= 12.0.0 and QEMU >= 8.0.0, so '
                          'pages the destination asks for in post-copy skip '
                          'the queue'], preempt_notes(p))

    def test_this_host_too_old(self):
        p = plan(postcopy_preempt_supported=migration_flags.PreemptSupport(
            source=False, destination=True))
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        self.assertFalse(p.postcopy_preempt)
        self.assertEqual(['post-copy preempt channel not used: this host '
                          'needs libvirt >= 12.0.0 and QEMU >= 8.0.0'],
                         preempt_notes(p))

    def test_destination_too_old_or_silent(self):
        p = plan(postcopy_preempt_supported=migration_flags.PreemptSupport(
            source=True, destination=False))
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        [note] = preempt_notes(p)
        self.assertTrue(note.startswith(
            'post-copy preempt channel not used: the destination did not '
            'report libvirt >= 12.0.0 and QEMU >= 8.0.0'), note)
        self.assertIn('libvirt would fail the migration', note)

    def test_neither(self):
        p = plan(postcopy_preempt_supported=migration_flags.PreemptSupport())
        self.assertFalse(p.flags & PREEMPT)
        self.assertIn('this host needs', preempt_notes(p)[0])

    def test_no_destination_yet_is_the_startup_summary(self):
        p = plan(postcopy_preempt_supported=migration_flags.PreemptSupport(
            source=True, destination=None))
        self.assertFalse(p.flags & PREEMPT)
        self.assertEqual(['post-copy preempt channel: this host has it; '
                          'each migration uses it when its destination has '
                          'it too (libvirt >= 12.0.0 and QEMU >= 8.0.0)'],
                         preempt_notes(p))

    def test_operator_switch(self):
        p = plan(postcopy_preempt_supported=BOTH,
                 permit_postcopy_preempt=False)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        self.assertEqual(['post-copy preempt channel not used: '
                          'live_migration_permit_post_copy_preempt is false'],
                         preempt_notes(p))

    def test_never_without_postcopy(self):
        p = plan(permit_postcopy=False, postcopy_preempt_supported=BOTH)
        self.assertEqual(BASE, p.flags)
        self.assertEqual([], p.notes)
        p = plan(permit_postcopy=False, permit_auto_converge=True,
                 postcopy_preempt_supported=BOTH)
        self.assertEqual(BASE | C.VIR_MIGRATE_AUTO_CONVERGE, p.flags)

    def test_never_tunnelled(self):
        p = plan(tunnelled=True, postcopy_preempt_supported=BOTH)
        self.assertEqual(BASE | C.VIR_MIGRATE_TUNNELLED, p.flags)
        self.assertFalse(p.postcopy_preempt)
        # The post-copy note says why; nothing more about the channel.
        self.assertEqual([], preempt_notes(p))
        self.assertIn('live_migration_tunnelled', p.notes[0])

    def test_callers_that_do_not_ask_get_nothing(self):
        p = plan()
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, p.flags)
        self.assertEqual([], p.notes)

    def test_with_parallel_connections_on_qemu_10_1(self):
        p = plan(postcopy_preempt_supported=BOTH, parallel_connections=4,
                 parallel_with_postcopy_supported=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY |
                         C.VIR_MIGRATE_PARALLEL | PREEMPT, p.flags)
        self.assertEqual(4, p.parallel_connections)

    def test_parallel_connections_still_give_way_before_qemu_10_1(self):
        p = plan(postcopy_preempt_supported=BOTH, parallel_connections=4,
                 parallel_with_postcopy_supported=False)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT, p.flags)
        self.assertEqual(1, p.parallel_connections)

    def test_with_native_tls_and_block_migration(self):
        p = plan(postcopy_preempt_supported=BOTH, native_tls=True,
                 block_migration=True)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY | C.VIR_MIGRATE_TLS |
                         C.VIR_MIGRATE_NON_SHARED_INC | PREEMPT, p.flags)
        self.assertTrue(p.postcopy_after_disk_copy)

    def test_never_compressed(self):
        # QEMU refuses postcopy-preempt with the old compress capability.
        p = plan(postcopy_preempt_supported=BOTH, native_tls=True,
                 parallel_connections=2, parallel_with_postcopy_supported=True,
                 block_migration=True, permit_auto_converge=True)
        self.assertFalse(p.flags & C.VIR_MIGRATE_COMPRESSED)

    def test_flag_from_a_binding_without_the_name(self):
        # libvirt-python built against libvirt 9.0 has no such constant.
        self.assertEqual(PREEMPT, migration_flags.postcopy_preempt_flag(C))

    def test_flag_from_a_binding_with_the_name(self):
        binding = types.SimpleNamespace(
            VIR_MIGRATE_POSTCOPY_PREEMPT=PREEMPT, **fakelibvirt.CONSTANTS)
        self.assertEqual(PREEMPT,
                         migration_flags.postcopy_preempt_flag(binding))
        p = migration_flags.build_migration_flags(
            binding, tunnelled=False, block_migration=False,
            permit_postcopy=True, permit_auto_converge=False,
            postcopy_preempt_supported=BOTH)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT, p.flags)

    def test_support(self):
        self.assertTrue(BOTH.both)
        self.assertFalse(migration_flags.PreemptSupport(True, None).both)
        self.assertFalse(migration_flags.PreemptSupport(True, False).both)
        self.assertFalse(migration_flags.PreemptSupport(False, True).both)


class MigrateDataTestCase(testtools.TestCase):

    def test_default_is_no(self):
        self.assertFalse(migrate_data_obj.LibvirtLiveMigrateData()
                         .dst_supports_postcopy_preempt)

    def test_round_trip(self):
        for value in (True, False):
            sent = migrate_data_obj.LibvirtLiveMigrateData(
                dst_supports_postcopy_preempt=value)
            wire = migrate_data_obj.destination_facts(sent)
            self.assertEqual({'dst_supports_postcopy_preempt': value}, wire)
            got = migrate_data_obj.with_destination_facts(
                migrate_data_obj.LibvirtLiveMigrateData(), wire)
            self.assertIs(value, got.dst_supports_postcopy_preempt)

    def test_older_destination_says_nothing(self):
        got = migrate_data_obj.with_destination_facts(
            migrate_data_obj.LibvirtLiveMigrateData(),
            {'target_connect_addr': '198.18.0.2'})
        self.assertFalse(got.dst_supports_postcopy_preempt)
        got = migrate_data_obj.with_destination_facts(
            migrate_data_obj.LibvirtLiveMigrateData(), None)
        self.assertFalse(got.dst_supports_postcopy_preempt)

    def test_newer_destination_facts_ignored(self):
        got = migrate_data_obj.with_destination_facts(
            migrate_data_obj.LibvirtLiveMigrateData(),
            {'dst_supports_postcopy_preempt': 1, 'dst_has_teleport': True})
        self.assertIs(True, got.dst_supports_postcopy_preempt)
        self.assertFalse(hasattr(got, 'dst_has_teleport'))


class ConfTestCase(testtools.TestCase):

    def test_option(self):
        [opt] = [o for o in libvirt_conf.ALL_OPTS
                 if o.name == 'live_migration_permit_post_copy_preempt']
        self.assertIs(True, opt.default)
        self.assertIn('live_migration_permit_post_copy', opt.help)


class FakeLibvirtTestCase(testtools.TestCase):
    """The fake refuses the flag where real libvirt does (or would)."""

    def setUp(self):
        super(FakeLibvirtTestCase, self).setUp()
        self.hv = fakelibvirt.Hypervisors()
        self.src = self.hv.add_host('src')
        self.dest = self.hv.add_host('dest')
        self.dom = self.hv.define_guest('src', 'g', 64)

    def versions(self, src, dest):
        self.src.lib_version, self.src.hv_version = src
        self.dest.lib_version, self.dest.hv_version = dest

    def migrate(self, flags):
        return self.assertRaises(
            fakelibvirt.libvirtError, self.dom.migrateToURI3,
            self.hv.uri('dest'), {}, flags)

    def test_today_every_libvirt_refuses(self):
        # As libvirt 11.3.0 does on the lab: the source's own first step.
        for versions in (BACKPORTS, NEW):
            self.versions(versions, versions)
            exc = self.migrate(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT)
            self.assertEqual(C.VIR_ERR_INVALID_ARG, exc.get_error_code())
            self.assertIn('unsupported flags (0x200000) in function '
                          'qemuDomainMigratePerform3Params', str(exc))

    def test_older_source_libvirt_refuses(self):
        self.useFixture(FutureLibvirt())
        self.versions(OLD, NEW)
        exc = self.migrate(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT)
        self.assertEqual(C.VIR_ERR_INVALID_ARG, exc.get_error_code())
        self.assertIn('unsupported flags (0x200000)', str(exc))
        self.assertIn('(src)', str(exc))

    def test_older_destination_libvirt_refuses(self):
        self.useFixture(FutureLibvirt())
        self.versions(NEW, OLD)
        exc = self.migrate(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT)
        self.assertEqual(C.VIR_ERR_INVALID_ARG, exc.get_error_code())
        self.assertIn('(dest)', str(exc))

    def test_older_qemu_refuses(self):
        self.useFixture(FutureLibvirt())
        self.versions(NEW, NEW_LIBVIRT_OLD_QEMU)
        exc = self.migrate(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT)
        self.assertEqual(C.VIR_ERR_ARGUMENT_UNSUPPORTED, exc.get_error_code())
        self.assertIn("'postcopy-preempt'", str(exc))

    def test_without_postcopy_refuses(self):
        self.useFixture(FutureLibvirt())
        self.versions(NEW, NEW)
        exc = self.migrate(BASE | PREEMPT)
        self.assertIn('Postcopy preempt requires postcopy-ram', str(exc))

    def test_refusal_leaves_the_guest(self):
        self.useFixture(FutureLibvirt())
        self.versions(NEW, OLD)
        self.migrate(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT)
        self.assertEqual([], self.hv.migrations)
        self.assertEqual(C.VIR_DOMAIN_RUNNING, self.dom.state_value[0])


class DriverBase(testtools.TestCase):
    """The driver on fake hosts of given versions, end to end."""

    def setUp(self):
        super(DriverBase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt',
                         live_migration_permit_post_copy=True)
        self.log = self.useFixture(fixtures.FakeLogger(
            level='INFO', format='%(levelname)s %(message)s'))
        self.hv = fakelibvirt.Hypervisors(
            bandwidth=100 * MiB)
        self.hv.set_link(migration_model.Link(bandwidth=100 * MiB,
                                              setup_time=0.2))
        self.src = self.hv.add_host('src')
        self.dest = self.hv.add_host('dest')

    def versions(self, src, dest):
        self.src.lib_version, self.src.hv_version = src
        self.dest.lib_version, self.dest.hv_version = dest

    def driver(self, name):
        host = libvirt_host.Host(self.hv.uri(name),
                                 libvirt_module=self.hv.module,
                                 event_loop=False)
        return libvirt_driver.LibvirtDriver(host=host, conf=self.conf.conf,
                                            clock=self.hv.clock)

    def dest_check(self):
        """The destination's answer, through the wire dict."""
        answer = self.driver('dest').check_can_live_migrate_destination(
            None, None)
        return migrate_data_obj.with_destination_facts(
            migrate_data_obj.LibvirtLiveMigrateData(),
            migrate_data_obj.destination_facts(answer))

    def migrate(self, data):
        """A busy guest that only post-copy finishes, src -> dest."""
        dom = self.hv.define_guest('src', 'g', 512, dirty_rate=150 * MiB,
                                   working_set=256 * MiB)
        instance = instance_obj.Instance(uuid=dom.UUIDString(), name='g',
                                         memory_mb=512, host='src')
        calls = []
        result = self.driver('src').live_migration(
            None, instance, 'dest',
            lambda *a: calls.append('post'),
            lambda *a, **kw: calls.append(('recover',
                                           kw.get('migration_status'))),
            migrate_data=data)
        flags = self.hv.migrations[-1][3] if self.hv.migrations else None
        return result, flags, calls


class DriverTestCase(DriverBase):
    """With FUTURE libvirt, the rule at work."""

    def setUp(self):
        super(DriverTestCase, self).setUp()
        self.useFixture(FutureLibvirt())

    # -- the destination's check ------------------------------------------

    def test_destination_check_reports_its_own_versions(self):
        for versions, expected in ((NEW, True), (OLD, False),
                                   (BACKPORTS, False),
                                   (NEW_LIBVIRT_OLD_QEMU, False),
                                   ((12000000, 8000000), True)):
            self.versions(OLD, versions)
            self.assertIs(expected, self.dest_check()
                          .dst_supports_postcopy_preempt, versions)

    def test_source_check_passes_the_answer_on_and_says_why(self):
        self.versions(NEW, OLD)
        data = self.dest_check()
        self.assertIs(data, self.driver('src').check_can_live_migrate_source(
            None, None, data))
        self.assertIn('post-copy preempt channel not used: the destination '
                      'did not report', self.log.output)

    # -- whole migrations -------------------------------------------------

    def test_both_new_uses_it_and_completes(self):
        self.versions(NEW, NEW)
        result, flags, calls = self.migrate(self.dest_check())
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY | PREEMPT, flags)
        self.assertEqual(['post'], calls)
        self.assertTrue(result.state.actions)
        self.assertIn('post-copy preempt channel requested',
                      self.log.output)

    def test_new_to_old_does_not_ask(self):
        self.versions(NEW, OLD)
        result, flags, _calls = self.migrate(self.dest_check())
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, flags)
        self.assertIn('the destination did not report', self.log.output)

    def test_old_to_new_does_not_ask(self):
        self.versions(OLD, NEW)
        result, flags, _calls = self.migrate(self.dest_check())
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, flags)
        self.assertIn('this host needs libvirt >= 12.0.0', self.log.output)

    def test_older_compute_service_on_the_destination_means_no(self):
        # New hypervisors on both, but the destination's service did not
        # report anything (the migrate data's default).
        self.versions(NEW, NEW)
        result, flags, _calls = self.migrate(
            migrate_data_obj.LibvirtLiveMigrateData())
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertFalse(flags & PREEMPT)

    def test_without_migrate_data_means_no(self):
        self.versions(NEW, NEW)
        result, flags, _calls = self.migrate(None)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertFalse(flags & PREEMPT)

    def test_a_wrong_answer_fails_like_libvirt_and_the_guest_stays(self):
        # What asking an older destination anyway would do.
        self.versions(NEW, OLD)
        result, flags, calls = self.migrate(
            migrate_data_obj.LibvirtLiveMigrateData(
                dst_supports_postcopy_preempt=True))
        self.assertNotEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertIn('unsupported flags (0x200000)', str(result.error))
        self.assertEqual([('recover', 'failed')], calls)
        self.assertIsNone(flags)

    def test_operator_can_turn_it_off(self):
        self.conf.config(group='libvirt',
                         live_migration_permit_post_copy_preempt=False)
        self.versions(NEW, NEW)
        result, flags, _calls = self.migrate(self.dest_check())
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, flags)
        self.assertIn('live_migration_permit_post_copy_preempt is false',
                      self.log.output)

    def test_startup_summary(self):
        self.versions(NEW, OLD)
        self.driver('src').init_host('src')
        self.assertIn('post-copy preempt channel: this host has it',
                      self.log.output)
        self.log = self.useFixture(fixtures.FakeLogger(
            level='INFO', format='%(levelname)s %(message)s'))
        self.driver('dest').init_host('dest')
        self.assertIn('post-copy preempt channel not used: this host needs',
                      self.log.output)


class TodayTestCase(DriverBase):
    """With the libvirt releases known today: never asked for."""

    def test_constants(self):
        self.assertIsNone(migration_flags.MIN_LIBVIRT_POSTCOPY_PREEMPT)
        self.assertIsNone(fakelibvirt.PREEMPT_MIN_LIB_VERSION)
        self.assertIn('no release known to this driver does; libvirt '
                      '11.3.0 refuses it',
                      migration_flags.postcopy_preempt_requirement())

    def test_no_host_says_yes(self):
        for versions in (OLD, BACKPORTS, NEW):
            self.versions(OLD, versions)
            self.assertFalse(
                self.dest_check().dst_supports_postcopy_preempt)
        self.assertFalse(migration_flags.postcopy_preempt_host_ok(
            lambda lv, hv: True))

    def test_backports_pair_is_not_asked_and_completes(self):
        self.versions(BACKPORTS, BACKPORTS)
        result, flags, _calls = self.migrate(self.dest_check())
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertEqual(BASE | C.VIR_MIGRATE_POSTCOPY, flags)
        self.assertIn('post-copy preempt channel not used: this host needs '
                      'a libvirt that accepts VIR_MIGRATE_POSTCOPY_PREEMPT',
                      self.log.output)

    def test_a_destination_that_says_yes_is_not_enough(self):
        self.versions(BACKPORTS, BACKPORTS)
        result, flags, _calls = self.migrate(
            migrate_data_obj.LibvirtLiveMigrateData(
                dst_supports_postcopy_preempt=True))
        self.assertEqual(libvirt_guest.JOB_COMPLETED, result.job_type)
        self.assertFalse(flags & PREEMPT)
