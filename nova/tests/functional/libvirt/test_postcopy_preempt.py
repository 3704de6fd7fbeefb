"""QEMU's post-copy preempt channel on the real lab, through the driver.

Each host's driver answers ``check_can_live_migrate_destination`` for
itself; the answer travels to the source as the compute services carry it
(``destination_facts`` and back), and the source decides. No libvirt
release is known to accept ``VIR_MIGRATE_POSTCOPY_PREEMPT`` (proposed for
libvirt 10.0.0; libvirt 11.3.0 refuses it), so today every host answers
no and the test checks, on every stack:

* that the source's libvirt still refuses the flag (a migrateToURI3 with
  it and a parameter no libvirt knows: the flag check comes first, so the
  answer is "unsupported flags" and nothing starts). When a lab libvirt
  accepts it, this fails: set ``MIN_LIBVIRT_POSTCOPY_PREEMPT`` to that
  release;
* that a busy guest that only post-copy finishes migrates without the flag
  and completes. On ``mixed`` it goes from the newer host to the older
  (lab-b to lab-a), the direction a wrong decision would break.

Once a release is set and both lab hosts have it, the same test asks for
the flag and checks that the migration completes with it and that the
destination's QEMU had a second connection (the channel) while it ran.

About 25 s of lab time.
"""

import subprocess
import time

from nova.objects import migrate_data as migrate_data_obj
from nova import utils
from nova.tests.functional.libvirt import lab
from nova.tests.functional.libvirt import test_live_migration
from nova.virt.libvirt import migration_flags

BUSY = test_live_migration.BUSY
# A destination daemon nobody listens at: a libvirt that took the flag
# would fail to connect, so the canary never moves a guest (the flag check
# comes first: libvirt refuses unknown flags before it connects).
NOBODY_URI = 'qemu+tcp://127.0.0.1:1/system'
# QEMU's incoming migration ports on each lab host (lab.env
# NOVA_LAB_*_MIGRATION_PORTS), the same for the main stream and the
# preempt channel.
PORTS_KEY = 'migration_ports'


class PostcopyPreemptTestCase(test_live_migration.LabTestCase):

    def setUp(self):
        super(PostcopyPreemptTestCase, self).setUp()
        self.flags(live_migration_permit_post_copy=True)
        self.has = {
            'lab-a': self.destination_answer(self.driver_a),
            'lab-b': self.destination_answer(self.driver_b),
        }
        newer_b = (self.versions(self.driver_b) > self.versions(self.driver_a))
        if (self.has['lab-b'] and not self.has['lab-a']) or (
                newer_b and self.has['lab-b'] == self.has['lab-a']):
            # A rolling upgrade (mixed): out of the newer host.
            self.a, self.b = self.b, self.a
            self.driver_a, self.driver_b = self.driver_b, self.driver_a
            self.dest_name = 'lab-a'
        self.source_name = 'lab-b' if self.dest_name == 'lab-a' else 'lab-a'

    @staticmethod
    def destination_answer(driver):
        return driver.check_can_live_migrate_destination(
            None, None).dst_supports_postcopy_preempt

    def versions(self, driver):
        conn = driver.host.get_connection()
        return conn.getLibVersion(), conn.getVersion()

    def connections_into_destination(self):
        """Established TCP connections into the destination's migration
        ports (its QEMU's incoming side), from its own namespace.
        """
        low, high = self.b[PORTS_KEY].split('-')
        out = subprocess.run(
            ['ip', 'netns', 'exec', self.b['netns'], 'ss', '-Htn', 'state',
             'established', '( sport >= :%s and sport <= :%s )' % (low,
                                                                   high)],
            stdout=subprocess.PIPE, universal_newlines=True,
            timeout=10).stdout
        return len([line for line in out.splitlines() if line.strip()])

    def migrate_with_answer(self, instance):
        """Migrate with the destination's answer in the migrate data,
        watching the connections into the destination meanwhile.
        """
        answer = self.driver_b.check_can_live_migrate_destination(
            None, instance)
        data = migrate_data_obj.with_destination_facts(
            lab.migrate_data(self.b['addr']),
            migrate_data_obj.destination_facts(answer))
        data = self.driver_a.check_can_live_migrate_source(None, instance,
                                                           data)
        calls = []

        def post(context, inst, dest, block, migrate_data):
            calls.append('post')
            self.driver_b.post_live_migration_at_destination(
                context, inst, migrate_data)

        def recover(context, inst, dest, migrate_data, migration_status):
            calls.append(('recover', migration_status))

        most = [0]
        handle = utils.spawn(self.driver_a.live_migration, None, instance,
                             self.dest_name, post, recover,
                             migrate_data=data)
        while not handle.ready():
            most[0] = max(most[0], self.connections_into_destination())
            time.sleep(0.2)
        result = handle.wait(timeout=300)
        result.calls = calls
        result.most_connections = most[0]
        return result, answer

    def assertLibvirtRefusesTheFlag(self, instance):
        """The source's libvirt refuses VIR_MIGRATE_POSTCOPY_PREEMPT."""
        lv = self.driver_a.host.libvirt
        guest = self.driver_a.host.get_guest(instance.uuid)
        flags = (lv.VIR_MIGRATE_LIVE | lv.VIR_MIGRATE_PEER2PEER |
                 lv.VIR_MIGRATE_POSTCOPY |
                 migration_flags.postcopy_preempt_flag(lv))
        try:
            guest._domain.migrateToURI3(NOBODY_URI, {}, flags)
        except lv.libvirtError as exc:
            message = str(exc)
        else:
            message = 'migrateToURI3 returned'
        self.assertIn('unsupported flags (%#x)'
                      % migration_flags.postcopy_preempt_flag(lv), message,
                      'the source libvirt (%d) took the post-copy preempt '
                      'flag: set MIN_LIBVIRT_POSTCOPY_PREEMPT to its '
                      'release once a migration with it works'
                      % self.versions(self.driver_a)[0])
        self.assertEqual((True, False), self.where(instance))

    def flags_used(self):
        [flags] = [int(line.rsplit('flags ', 1)[1], 16)
                   for line in self.log.output.splitlines()
                   if 'live migration to %s' % self.dest_name
                   in line.lower()]
        return flags

    def test_postcopy_preempt_when_both_hosts_have_it(self):
        source_has = self.has[self.source_name]
        dest_has = self.has[self.dest_name]
        both = source_has and dest_has
        instance = self.boot(metadata=BUSY)
        if migration_flags.MIN_LIBVIRT_POSTCOPY_PREEMPT is None:
            self.assertFalse(both)
            self.assertLibvirtRefusesTheFlag(instance)
        result, answer = self.migrate_with_answer(instance)

        lab.write_figures(self, 'NOVA_LAB_RESULTS', {
            'case': 'post-copy preempt',
            'source': '%s libvirt %d QEMU %d' % ((self.source_name,) +
                                                 self.versions(
                                                     self.driver_a)),
            'destination': '%s libvirt %d QEMU %d' % ((self.dest_name,) +
                                                      self.versions(
                                                          self.driver_b)),
            'preempt': both,
            'most_connections_into_destination': result.most_connections,
            'actions': result.state.actions,
        })
        self.assertIs(dest_has, answer.dst_supports_postcopy_preempt)
        self.assertTrue(result.completed, result.error)
        self.assertEqual(['post'], result.calls)
        self.assertEqual('postcopy', result.state.actions[0][1])
        lv = self.driver_a.host.libvirt
        flags = self.flags_used()
        self.assertTrue(flags & lv.VIR_MIGRATE_POSTCOPY)
        preempt = migration_flags.postcopy_preempt_flag(lv)
        if both:
            self.assertTrue(flags & preempt, hex(flags))
            self.assertIn('post-copy preempt channel requested',
                          self.log.output)
            # The main stream and the preempt channel.
            self.assertGreaterEqual(result.most_connections, 2)
        else:
            self.assertFalse(flags & preempt, hex(flags))
            self.assertIn('post-copy preempt channel not used: %s' % (
                'the destination did not report' if source_has
                else 'this host needs'), self.log.output)
            if migration_flags.MIN_LIBVIRT_POSTCOPY_PREEMPT is None:
                self.assertIn('no release known to this driver does',
                              self.log.output)
        self.assertEqual((False, True), self.where(instance))
        self.assertGuestKeepsRunning()
