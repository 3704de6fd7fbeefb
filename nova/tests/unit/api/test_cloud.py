"""The REST API over the real compute API, services, manager and driver.

The other side of the stub-based tests: the same requests, answered by
``nova.compute.api.API`` with two compute services on the simulated
hypervisors (``nova.tests.unit.compute.cloud.CloudFixture``).
"""

import json

from oslo_config import fixture as config_fixture
import testtools
import webob

import nova.conf
from nova.api.openstack import app as app_mod
from nova.api.openstack import policy
from nova.tests.unit.compute import cloud as cloud_fixture

CONF = nova.conf.CONF


class RealComputeTestCase(testtools.TestCase):

    def setUp(self):
        super(RealComputeTestCase, self).setUp()
        self.useFixture(config_fixture.Config(CONF)).config(
            group='api', auth_strategy='noauth2')
        policy.reset()
        self.addCleanup(policy.reset)
        self.cloud = self.useFixture(cloud_fixture.CloudFixture(speed=50.0))
        self.app = app_mod.build_app(CONF, self.cloud.api)

    def call(self, method, path, body=None, token='admin:admin-project',
             version='2.79'):
        req = webob.Request.blank('/v2.1' + path, method=method)
        req.headers['X-Auth-Token'] = token
        req.headers['OpenStack-API-Version'] = 'compute %s' % version
        if body is not None:
            req.body = json.dumps(body).encode('utf-8')
            req.content_type = 'application/json'
        resp = req.get_response(self.app)
        data = json.loads(resp.body) if resp.body else None
        return resp.status_int, data

    def boot(self, host='lab-a'):
        status, body = self.call('POST', '/servers', {'server': {
            'name': 'vm', 'imageRef': self.cloud.database.image['id'],
            'flavorRef': '2', 'networks': 'none',
            'availability_zone': 'nova:%s' % host}})
        self.assertEqual(202, status, body)
        uuid = body['server']['id']
        self.cloud.wait_for(lambda: self.call('GET', '/servers/%s' % uuid)[
            1]['server']['status'] == 'ACTIVE')
        return uuid

    def test_live_migration_lifecycle(self):
        uuid = self.boot()
        self.cloud.make_busy(uuid)
        status, _ = self.call('POST', '/servers/%s/action' % uuid, {
            'os-migrateLive': {'host': 'lab-b', 'block_migration': 'auto'}})
        self.assertEqual(202, status)
        (mig,) = self.cloud.api.list_server_migrations(self.cloud.ctx, uuid)
        self.cloud.wait_for_status(mig.id, 'running')
        # The monitor's first poll fills in the byte counters.
        self.cloud.wait_for(
            lambda: self.cloud.migration(mig.id)['memory_total'])

        status, body = self.call('GET', '/servers/%s/migrations' % uuid)
        self.assertEqual(200, status)
        (listed,) = body['migrations']
        self.assertEqual('running', listed['status'])
        self.assertEqual('lab-b', listed['dest_compute'])
        self.assertGreater(listed['memory_total_bytes'], 0)
        status, body = self.call('GET', '/servers/%s' % uuid)
        self.assertEqual('MIGRATING', body['server']['status'])
        self.assertEqual('migrating', body['server']['OS-EXT-STS:task_state'])

        # A second live migration: 409.
        status, body = self.call('POST', '/servers/%s/action' % uuid, {
            'os-migrateLive': {'host': None, 'block_migration': 'auto'}})
        self.assertEqual(409, status)
        self.assertIn("Cannot 'os-migrateLive' instance %s while it is in "
                      "task_state migrating" % uuid,
                      body['conflictingRequest']['message'])

        status, _ = self.call('POST', '/servers/%s/migrations/%s/action'
                              % (uuid, mig.id), {'force_complete': None})
        self.assertEqual(202, status)
        self.cloud.wait_until_settled(mig.id)
        status, body = self.call('GET', '/servers/%s' % uuid)
        self.assertEqual('lab-b', body['server']['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ACTIVE', body['server']['status'])

        status, body = self.call('POST', '/servers/%s/migrations/%s/action'
                                 % (uuid, mig.id), {'force_complete': None})
        self.assertEqual(409, status, body)
        status, body = self.call('GET', '/os-migrations?instance_uuid=%s'
                                 % uuid)
        self.assertEqual(['completed'],
                         [m['status'] for m in body['migrations']])
        self.assertNotIn('links', body['migrations'][0])

    def test_abort(self):
        uuid = self.boot()
        self.cloud.make_busy(uuid)
        self.call('POST', '/servers/%s/action' % uuid, {
            'os-migrateLive': {'host': None, 'block_migration': 'auto'}})
        (mig,) = self.cloud.api.list_server_migrations(self.cloud.ctx, uuid)
        self.cloud.wait_for_status(mig.id, 'running')
        status, _ = self.call('DELETE', '/servers/%s/migrations/%s'
                              % (uuid, mig.id), version='2.24')
        self.assertEqual(202, status)
        self.assertEqual('cancelled',
                         self.cloud.wait_until_settled(mig.id)['status'])
        status, body = self.call('GET', '/servers/%s' % uuid)
        self.assertEqual('lab-a', body['server']['OS-EXT-SRV-ATTR:host'])

    def test_errors(self):
        uuid = self.boot()
        status, body = self.call('POST', '/servers/%s/action' % uuid, {
            'os-migrateLive': {'host': 'lab-z', 'block_migration': 'auto'}})
        self.assertEqual(400, status)
        self.assertEqual('Compute host lab-z could not be found.',
                         body['badRequest']['message'])
        status, body = self.call('GET', '/servers/%s/migrations/42' % uuid)
        self.assertEqual(404, status)
        status, body = self.call('GET', '/servers/nope')
        self.assertEqual(404, status)
        status, body = self.call('POST', '/servers', {'server': {
            'name': 'vm', 'imageRef': self.cloud.database.image['id'],
            'flavorRef': '99', 'networks': 'none'}})
        self.assertEqual(400, status)
        self.assertIn('Flavor 99', body['badRequest']['message'])

    def test_resources(self):
        status, body = self.call('GET', '/os-services')
        self.assertEqual(['lab-a', 'lab-b'],
                         sorted(s['host'] for s in body['services']))
        self.assertEqual({'up'}, {s['state'] for s in body['services']})
        status, body = self.call('GET', '/os-hypervisors/detail')
        self.assertEqual(200, status)
        self.assertEqual(2, len(body['hypervisors']))
        status, body = self.call('GET', '/flavors/detail')
        self.assertIn('lab.medium', [f['name'] for f in body['flavors']])
