"""Pure decisions of the compute layer: scheduling and restart settling."""

import testtools

from nova.compute import manager
from nova.compute import scheduler
from nova.compute import states

HS = scheduler.HostState
RUN = states.RUNNING
NO = states.NOSTATE
PAUSED = states.PAUSED_POWER


class SchedulerTestCase(testtools.TestCase):

    def hosts(self):
        return [HS('a', 'a', True, False, 4096, 4, instances=2,
                   memory_mb_used=1024),
                HS('b', 'b', True, False, 4096, 4, instances=1,
                   memory_mb_used=512),
                HS('c', 'c', True, False, 8192, 4, instances=1,
                   memory_mb_used=512)]

    def test_least_loaded_then_most_free_ram(self):
        self.assertEqual('c', scheduler.pick_host(self.hosts(), 512).host)
        self.assertEqual('b', scheduler.pick_host(self.hosts(), 512,
                                                  exclude=('c',)).host)

    def test_unsuitable_reasons(self):
        down = HS('d', 'd', False, False, 4096, 4)
        off = HS('e', 'e', True, True, 4096, 4)
        new = HS('f', None, True, False, 0, 0)
        full = HS('g', 'g', True, False, 1024, 4, memory_mb_used=1000)
        self.assertIsNone(scheduler.pick_host([down, off, new, full], 256))
        reason = scheduler.no_host_reason([down, off, new, full], 256)
        for part in ('d is down', 'e is disabled', 'f has not reported',
                     '24 MiB of RAM free, 256 MiB needed'):
            self.assertIn(part, reason)
        self.assertEqual('There are not enough hosts available.',
                         scheduler.no_host_reason([], 256))


class SettleDecisionTestCase(testtools.TestCase):

    def decide(self, status, source, dest, job=False):
        return manager.settle_decision(status, source, dest, job)

    def test_queued_never_started(self):
        self.assertEqual(('cancelled', 'source'),
                         self.decide('queued', None, None))

    def test_guest_runs_on_destination(self):
        for status in ('preparing', 'running', 'running (post-copy)',
                       'post-migrating'):
            self.assertEqual(('completed', 'dest'),
                             self.decide(status, NO, RUN))
        # Post-copy left a paused shell on the source: the destination runs.
        self.assertEqual(('completed', 'dest'),
                         self.decide('running (post-copy)', PAUSED, RUN))

    def test_guest_still_on_source(self):
        self.assertEqual(('failed', 'source'),
                         self.decide('running', RUN, NO))
        self.assertEqual(('failed', 'source'),
                         self.decide('running', PAUSED, None))

    def test_cannot_tell_yet(self):
        self.assertIsNone(self.decide('running', NO, None))
        self.assertIsNone(self.decide('running', None, NO))
        self.assertIsNone(self.decide('running', RUN, NO, job=True))

    def test_paused_on_destination_only(self):
        self.assertEqual(('completed', 'dest'),
                         self.decide('running', NO, PAUSED))

    def test_nowhere_is_an_error(self):
        self.assertEqual(('error', 'source'),
                         self.decide('running', NO, NO))

    def test_domain_name(self):
        self.assertEqual('instance-12345678',
                         manager.domain_name('12345678-aaaa'))
