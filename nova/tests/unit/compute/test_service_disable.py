"""A disabled compute service takes no new server and no live migration.

Through the REST API (PUT /os-services/{uuid}, what ``nova
service-disable`` sends) over the real compute API, two compute services
and the simulated libvirt.
"""

import json

import testtools
import webob

from nova.api.openstack import app as app_mod
from nova.api.openstack import policy
from nova import exception
from nova.tests.unit.compute import cloud


class ServiceDisableTestCase(testtools.TestCase):

    def setUp(self):
        super(ServiceDisableTestCase, self).setUp()
        self.cloud = self.useFixture(cloud.CloudFixture())
        self.cloud.conf.set_override('auth_strategy', 'noauth2',
                                     group='api')
        policy.reset()
        self.addCleanup(policy.reset)
        self.app = app_mod.build_app(self.cloud.conf, self.cloud.api)

    def rest(self, method, path, body=None):
        req = webob.Request.blank('/v2.1' + path, method=method)
        req.headers['X-Auth-Token'] = 'admin:admin'
        req.headers['OpenStack-API-Version'] = 'compute 2.53'
        if body is not None:
            req.body = json.dumps(body).encode('utf-8')
            req.content_type = 'application/json'
        resp = req.get_response(self.app)
        return resp.status_int, json.loads(resp.body)

    def test_disabled_host_is_skipped_until_enabled(self):
        status, body = self.rest('GET', '/os-services?host=lab-a')
        svc_id = body['services'][0]['id']
        status, body = self.rest('PUT', '/os-services/%s' % svc_id,
                                 {'status': 'disabled',
                                  'disabled_reason': 'maintenance'})
        self.assertEqual(200, status, body)
        self.assertEqual('disabled', body['service']['status'])
        for _i in range(3):
            self.assertEqual('lab-b', self.cloud.boot(host=None).host)
        on_b = self.cloud.boot(host='lab-b')
        exc = self.assertRaises(exception.MigrationPreCheckError,
                                self.cloud.api.live_migrate, self.cloud.ctx,
                                on_b.uuid, host='lab-a')
        self.assertIn('disabled', str(exc))
        self.assertRaises(exception.NoValidHost, self.cloud.api.live_migrate,
                          self.cloud.ctx, on_b.uuid)
        status, body = self.rest('PUT', '/os-services/%s' % svc_id,
                                 {'status': 'enabled'})
        self.assertEqual((200, None), (status,
                                       body['service']['disabled_reason']))
        self.assertEqual('lab-a', self.cloud.boot(host=None).host)
