"""At start, compute reconciles the database with its hypervisor (issue 14
item 10): a server whose guest is gone goes to ERROR with a fault instead
of staying ACTIVE for every later migration to fail on.
"""

import os
import time

import fixtures
from oslo_config import cfg
import testtools

import nova.conf
from nova.cmd import all as all_cmd
from nova.compute import api as compute_api
from nova.compute import manager as compute_manager
from nova.compute import states
from nova.db import api as db_api
from nova.tests.unit.compute import cloud


class GuestMissingTestCase(testtools.TestCase):

    def test_decision(self):
        missing = compute_manager.guest_missing
        for vm_state in ('active', 'paused', 'suspended', 'stopped'):
            self.assertTrue(missing(vm_state, None, False, False), vm_state)
        # Present, busy, migrating, building (settled elsewhere) or
        # already in error: left alone.
        self.assertFalse(missing('active', None, True, False))
        self.assertFalse(missing('active', 'migrating', False, False))
        self.assertFalse(missing('active', None, False, True))
        self.assertFalse(missing('building', None, False, False))
        self.assertFalse(missing('error', None, False, False))


class ReconcileTestCase(testtools.TestCase):

    def setUp(self):
        super(ReconcileTestCase, self).setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(level='INFO'))
        self.cloud = self.useFixture(cloud.CloudFixture())
        self.api = self.cloud.api
        self.ctx = self.cloud.ctx

    def restart(self, host='lab-a'):
        self.cloud.stop_service(host)
        return self.cloud.start_service(host)

    def test_lost_guest_is_error_with_a_fault(self):
        lost = self.cloud.boot(name='lost')
        kept = self.cloud.boot(name='kept')
        del self.cloud.hv.hosts['lab-a'].domains[lost.uuid]
        self.restart()
        server = self.api.get_server(self.ctx, lost.uuid)
        self.assertEqual(('error', None, states.NOSTATE),
                         (server.vm_state, server.task_state,
                          server.power_state))
        self.assertIn('The hypervisor of lab-a has no guest for this server',
                      server.fault_message)
        self.assertIn('(active) The hypervisor of lab-a has no guest',
                      self.logger.output)
        self.assertEqual('active',
                         self.api.get_server(self.ctx, kept.uuid).vm_state)
        # The lost server can be deleted.
        self.api.delete_server(self.ctx, lost.uuid)
        self.cloud.wait_for(lambda: not [
            s for s in self.api.list_servers(self.ctx) if s.uuid == lost.uuid])

    def test_other_hosts_and_busy_servers_untouched(self):
        on_b = self.cloud.boot(name='b', host='lab-b')
        busy = self.cloud.boot(name='busy')
        del self.cloud.hv.hosts['lab-b'].domains[on_b.uuid]
        del self.cloud.hv.hosts['lab-a'].domains[busy.uuid]
        db_api.instance_update(self.cloud.db, busy.uuid,
                               {'task_state': 'pausing'})
        self.restart('lab-a')
        self.assertEqual('active',
                         self.api.get_server(self.ctx, on_b.uuid).vm_state)
        self.assertEqual('active',
                         self.api.get_server(self.ctx, busy.uuid).vm_state)

    def test_unknown_guest_logged_and_left(self):
        inst = self.cloud.boot(name='orphan')
        db_api.instance_destroy(self.cloud.db, inst.uuid)
        self.restart()
        self.assertIn('Guest %s runs on lab-a but no server of this host has '
                      'that uuid; left alone' % inst.uuid, self.logger.output)
        self.assertIn(inst.uuid, self.cloud.hv.hosts['lab-a'].domains)


class AllInOneRestartTestCase(testtools.TestCase):
    """``nova-all --fake-hypervisors`` restarted on the same state: the
    simulated guests are gone. Before, the servers stayed ACTIVE and every
    later migration ended in 'error' (domain not found).
    """

    def start(self, state):
        conf = cfg.ConfigOpts()
        nova.conf.register_all(conf)
        conf(args=[], project='nova', default_config_files=[])
        conf.set_override('connection', 'sqlite:///%s' % os.path.join(
            state, 'nova.sqlite'), group='database')
        conf.set_override('osapi_compute_listen', '127.0.0.1')
        conf.set_override('osapi_compute_listen_port', 0)
        conf.set_override('auth_strategy', 'noauth2', group='api')
        conf.set_override('transport_url', 'fake:///%s' % os.path.basename(
            state) + str(len(self.started)))
        specs = [all_cmd.ComputeSpec(n, None, n) for n in all_cmd.FAKE_HOSTS]
        aio = all_cmd.AllInOne(conf, specs, fake=True, fake_speed=50.0)
        self.started.append(aio)
        aio.start()
        self.addCleanup(aio.stop)
        return aio

    def test_restart_marks_lost_guests(self):
        self.useFixture(fixtures.FakeLogger(level='INFO'))
        state = self.useFixture(fixtures.TempDir()).path
        self.started = []
        first = self.start(state)
        api = compute_api.API(db=first.db, conf=first.conf,
                              transport=first.transport)
        ctx = self.useFixture(cloud.CloudFixture(start=False)).ctx
        (image,) = db_api.image_get_by_name(first.db, 'busybox')
        inst = api.create_server(ctx, 'vm', '1', image['id'], host='lab-a')
        # A guest pre-copy cannot move: its migration is in flight at stop.
        busy = api.create_server(ctx, 'busy', '1', image['id'],
                                 host='lab-a', metadata={
                                     'dirty_rate': '400', 'dirty_mib': '96'})
        self.wait(lambda: api.get_server(ctx, inst.uuid).vm_state ==
                  api.get_server(ctx, busy.uuid).vm_state == 'active')
        mig = api.live_migrate(ctx, busy.uuid, host='lab-b')
        self.wait(lambda: db_api.migration_get(first.db, mig.id)['status']
                  == 'running')
        first.stop()
        second = self.start(state)
        api = compute_api.API(db=second.db, conf=second.conf,
                              transport=second.transport)
        server = api.get_server(ctx, inst.uuid)
        self.assertEqual(('error', 'lab-a'), (server.vm_state, server.host))
        self.assertIn('has no guest for this server', server.fault_message)
        # The migration: on neither host, so 'error'; its server too.
        self.assertEqual('error', db_api.migration_get(second.db,
                                                       mig.id)['status'])
        server = api.get_server(ctx, busy.uuid)
        self.assertEqual(('error', None, 'lab-a'),
                         (server.vm_state, server.task_state, server.host))

    def wait(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, 'timed out')
            time.sleep(0.05)
