"""The options exist with their documented defaults, bounds and help."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova.conf import opts

CONF = nova.conf.CONF


class OptionsTestCase(testtools.TestCase):

    def setUp(self):
        super(OptionsTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))

    def test_defaults(self):
        lv = CONF.libvirt
        self.assertFalse(lv.live_migration_permit_auto_converge)
        self.assertFalse(lv.live_migration_permit_post_copy)
        self.assertEqual(800, lv.live_migration_completion_timeout)
        self.assertEqual('abort', lv.live_migration_timeout_action)
        self.assertEqual(0, lv.live_migration_progress_timeout)
        self.assertEqual(500, lv.live_migration_downtime)
        self.assertEqual(10, lv.live_migration_downtime_steps)
        self.assertEqual(75, lv.live_migration_downtime_delay)
        self.assertEqual(0, lv.live_migration_bandwidth)
        self.assertFalse(lv.live_migration_tunnelled)
        self.assertEqual(1, CONF.max_concurrent_live_migrations)

    def test_minimums_enforced(self):
        for name, bad in (('live_migration_downtime', 99),
                          ('live_migration_downtime_steps', 0),
                          ('live_migration_downtime_delay', 2),
                          ('live_migration_completion_timeout', -1),
                          ('live_migration_progress_timeout', -1),
                          ('live_migration_bandwidth', -1)):
            self.assertRaises(ValueError, self.conf.config, group='libvirt',
                              **{name: bad})
        self.assertRaises(ValueError, self.conf.config,
                          max_concurrent_live_migrations=-1)

    def test_downtime_schedule_choices(self):
        self.assertEqual('time',
                         CONF.libvirt.live_migration_downtime_schedule)
        self.conf.config(group='libvirt',
                         live_migration_downtime_schedule='stalled-passes')
        self.assertRaises(ValueError, self.conf.config, group='libvirt',
                          live_migration_downtime_schedule='weekly')

    def test_timeout_action_choices(self):
        self.conf.config(group='libvirt',
                         live_migration_timeout_action='force_complete')
        self.assertRaises(ValueError, self.conf.config, group='libvirt',
                          live_migration_timeout_action='reboot')

    def test_every_option_listed_for_the_generator(self):
        listed = {(str(group), opt.dest) for group, group_opts in
                  opts.list_opts() for opt in group_opts}
        for name in ('live_migration_permit_auto_converge',
                     'live_migration_permit_post_copy',
                     'live_migration_completion_timeout',
                     'live_migration_timeout_action',
                     'live_migration_progress_timeout',
                     'live_migration_downtime',
                     'live_migration_downtime_steps',
                     'live_migration_downtime_delay',
                     'live_migration_bandwidth', 'live_migration_uri',
                     'live_migration_scheme', 'live_migration_inbound_addr',
                     'live_migration_tunnelled', 'connection_uri'):
            self.assertIn(('libvirt', name), listed)
        self.assertIn(('DEFAULT', 'max_concurrent_live_migrations'), listed)

    def test_help_texts_say_what_operators_need(self):
        helps = {opt.dest: opt.help for _g, group_opts in opts.list_opts()
                 for opt in group_opts}
        post = helps['live_migration_permit_post_copy']
        for fact in ('libvirt 8.0', 'QEMU 6.2', 'tunnelled', 'auto-converge',
                     'network', 'lost', 'live_migration_post_copy_start',
                     'bandwidth.postcopy'):
            self.assertIn(fact, post)
        auto = helps['live_migration_permit_auto_converge']
        for fact in ('libvirt 8.0', 'QEMU 6.2', '20%', '99%', 'post-copy'):
            self.assertIn(fact, auto)
        start = helps['live_migration_post_copy_start']
        for fact in ('timeout_action = abort', 'force_complete',
                     'never aborted'):
            self.assertIn(fact, start)
        self.assertIn('per GiB', helps['live_migration_completion_timeout'])
        self.assertIn('MiB/s', helps['live_migration_bandwidth'])
        self.assertIn('milliseconds', helps['live_migration_downtime'])

    def test_separate_configurations_do_not_share_overrides(self):
        first, second = cfg.ConfigOpts(), cfg.ConfigOpts()
        for conf in (first, second):
            nova.conf.libvirt.register_opts(conf)
            conf([], project='nova')
        first.set_override('live_migration_permit_post_copy', True,
                           'libvirt')
        self.assertTrue(first.libvirt.live_migration_permit_post_copy)
        self.assertFalse(second.libvirt.live_migration_permit_post_copy)

    def test_all_options_are_oslo_opts_with_help(self):
        for _group, group_opts in opts.list_opts():
            for opt in group_opts:
                self.assertIsInstance(opt, cfg.Opt)
                self.assertTrue(opt.help and opt.help.strip(), opt.dest)
