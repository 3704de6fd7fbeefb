"""The compute service's heartbeat: only while the message bus carries its
messages, never silently dead, and no start with a bad report_interval.
"""

import os
import time

import fixtures
import testtools

from nova.compute import service as compute_service
from nova.db import api as db_api
from nova import exception
from nova.tests.unit.compute import cloud


class HeartbeatTestCase(testtools.TestCase):

    def setUp(self):
        super(HeartbeatTestCase, self).setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(level='INFO'))
        self.cloud = self.useFixture(cloud.CloudFixture(hosts=('lab-a',)))
        self.svc = self.cloud.services['lab-a']
        self.service_id = self.svc.manager.service_id

    def count(self):
        return db_api.service_get(self.cloud.db,
                                  self.service_id)['report_count']

    def test_beats_while_the_bus_answers(self):
        before = self.count()
        self.assertTrue(self.svc.report_state())
        self.assertEqual(before + 1, self.count())
        self.assertTrue(self.svc.bus_reachable)

    def test_no_beat_when_its_messages_go_nowhere(self):
        """The service stops consuming from the bus (as when its broker
        connection is gone): before, the heartbeat went on writing the
        database and the service stayed "up".
        """
        self.svc.rpc_server.stop()
        self.svc.rpc_server.wait()
        self.addCleanup(setattr, self.svc, 'rpc_server', None)
        self.svc.conf.set_override('report_interval', 1)
        before = self.count()
        start = time.monotonic()
        self.assertFalse(self.svc.report_state())
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(before, self.count())
        self.assertFalse(self.svc.bus_reachable)
        self.assertIn('cannot reach the message bus', self.logger.output)
        # Said once, not at every report.
        self.assertFalse(self.svc.report_state())
        self.assertEqual(1, self.logger.output.count(
            'cannot reach the message bus'))

    def test_periodic_thread_survives_a_failing_round(self):
        calls = []

        def boom():
            calls.append(time.monotonic())
            raise RuntimeError('database gone for a moment')
        self.svc.report_state = boom
        self.cloud.wait_for(lambda: len(calls) >= 2, timeout=10)
        self.assertIn('Heartbeat of lab-a failed', self.logger.output)
        self.assertFalse(self.svc._periodic.ready())

    def test_thread_restarts_when_the_loop_itself_breaks(self):
        rounds = []
        original = self.svc._periodic_loop

        def flaky():
            rounds.append(1)
            if len(rounds) == 1:
                raise RuntimeError('broken loop')
            return original()
        self.svc._stop.set()
        self.svc._periodic.wait(timeout=5)
        self.svc._stop.clear()
        self.svc._periodic_loop = flaky
        from nova import utils
        self.svc._periodic = utils.spawn(self.svc._run_periodic_tasks)
        before = self.count()
        self.cloud.wait_for(lambda: self.count() > before, timeout=10)
        self.assertEqual(2, len(rounds))
        self.assertIn('Heartbeat thread of lab-a failed; restarting it',
                      self.logger.output)


class BadIntervalTestCase(testtools.TestCase):

    def test_report_interval_refused_at_start(self):
        """report_interval = -5 used to start cleanly and kill the
        heartbeat thread without a log line; the service showed "down".
        """
        self.useFixture(fixtures.FakeLogger(level='INFO'))
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'bad.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nreport_interval = -5\n')
        world = self.useFixture(cloud.CloudFixture(hosts=('lab-a',),
                                                   start=False))
        overrides = world.service_overrides('lab-a')
        overrides.pop('report_interval')
        conf = compute_service.build_conf(config_files=[path],
                                          overrides=overrides,
                                          base=world.conf)
        svc = compute_service.ComputeService(
            conf=conf, driver=world.make_driver('lab-a', conf), db=world.db,
            transport=world.transport)
        exc = self.assertRaises(exception.InvalidConfiguration, svc.start)
        self.assertIn('[DEFAULT] report_interval = -5', str(exc))
        self.assertEqual([], db_api.service_get_all(world.db))
