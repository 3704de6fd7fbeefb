"""Test base: the API application over the stub compute API."""

import json

from oslo_config import fixture as config_fixture
import testtools
import webob

import nova.conf
from nova.api.openstack import app as app_mod
from nova.api.openstack import policy
from nova.tests.unit.api import fakes

CONF = nova.conf.CONF

ADMIN = 'admin:admin'
DEMO = 'demo:proj'


class APITestCase(testtools.TestCase):

    auth_strategy = 'noauth2'

    def setUp(self):
        super(APITestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(group='api', auth_strategy=self.auth_strategy)
        policy.reset()
        self.addCleanup(policy.reset)
        self.compute = fakes.FakeComputeAPI()
        self.app = app_mod.build_app(CONF, self.compute)

    def request(self, method, path, body=None, token=ADMIN, version=None,
                headers=None, raw=None):
        req = webob.Request.blank(path, method=method)
        if token:
            req.headers['X-Auth-Token'] = token
        if version:
            req.headers['OpenStack-API-Version'] = 'compute %s' % version
        for name, value in (headers or {}).items():
            req.headers[name] = value
        if raw is not None:
            req.body = raw
            req.content_type = 'application/json'
        elif body is not None:
            req.body = json.dumps(body).encode('utf-8')
            req.content_type = 'application/json'
        resp = req.get_response(self.app)
        resp.json_body_or_none = (json.loads(resp.body)
                                  if resp.body and resp.content_type
                                  == 'application/json' else None)
        return resp

    def assertFault(self, resp, code, name, message_part=None):
        self.assertEqual(code, resp.status_int, resp.body)
        body = resp.json_body_or_none
        self.assertIn(name, body)
        self.assertEqual(code, body[name]['code'])
        if message_part is not None:
            self.assertIn(message_part, body[name]['message'])
        return body[name]['message']
