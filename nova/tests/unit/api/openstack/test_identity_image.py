"""The identity v3 shim, the image API subset and the auth middleware."""

import json

import webob

from nova.api import auth
from nova.tests.unit.api import base


def password_auth(user='admin', project='admin', password='x'):
    return {'auth': {
        'identity': {'methods': ['password'],
                     'password': {'user': {'name': user,
                                           'domain': {'name': 'Default'},
                                           'password': password}}},
        'scope': {'project': {'name': project,
                              'domain': {'name': 'Default'}}}}}


class IdentityShimTestCase(base.APITestCase):

    def test_version_discovery(self):
        resp = self.request('GET', '/identity', token=None)
        self.assertEqual(300, resp.status_int)
        (v3,) = resp.json_body_or_none['versions']['values']
        self.assertEqual('stable', v3['status'])
        self.assertTrue(v3['id'].startswith('v3.'))
        self.assertEqual('http://localhost/identity/v3/',
                         v3['links'][0]['href'])
        resp = self.request('GET', '/identity/v3', token=None)
        self.assertEqual(200, resp.status_int)
        self.assertEqual(v3['id'],
                         resp.json_body_or_none['version']['id'])

    def test_issue_token_with_catalog(self):
        resp = self.request('POST', '/identity/v3/auth/tokens',
                            password_auth(), token=None)
        self.assertEqual(201, resp.status_int)
        self.assertEqual('admin:admin', resp.headers['X-Subject-Token'])
        token = resp.json_body_or_none['token']
        self.assertEqual('admin', token['project']['id'])
        self.assertIn('admin', [r['name'] for r in token['roles']])
        urls = {s['type']: s['endpoints'][0]['url']
                for s in token['catalog']}
        self.assertEqual('http://localhost/v2.1', urls['compute'])
        self.assertEqual('http://localhost/image', urls['image'])
        self.assertEqual('http://localhost/identity', urls['identity'])
        interfaces = {e['interface'] for e in token['catalog'][0][
            'endpoints']}
        self.assertEqual({'public', 'internal', 'admin'}, interfaces)

    def test_non_admin_token(self):
        resp = self.request('POST', '/identity/v3/auth/tokens',
                            password_auth('demo', 'proj'), token=None)
        self.assertEqual('demo:proj', resp.headers['X-Subject-Token'])
        roles = [r['name'] for r in resp.json_body_or_none['token']['roles']]
        self.assertNotIn('admin', roles)
        # The token works on the compute API, as a non-admin.
        resp = self.request('GET', '/v2.1/os-migrations', token='demo:proj')
        self.assertFault(resp, 403, 'forbidden')

    def test_token_method_rescope(self):
        body = {'auth': {'identity': {'methods': ['token'],
                                      'token': {'id': 'demo:proj'}},
                         'scope': {'project': {'id': 'other'}}}}
        resp = self.request('POST', '/identity/v3/auth/tokens', body,
                            token=None)
        self.assertEqual('demo:other', resp.headers['X-Subject-Token'])

    def test_validate(self):
        resp = self.request('GET', '/identity/v3/auth/tokens',
                            headers={'X-Subject-Token': 'demo:proj'})
        self.assertEqual(200, resp.status_int)
        self.assertEqual('proj', resp.json_body_or_none['token'][
            'project']['id'])

    def test_bad_request(self):
        resp = self.request('POST', '/identity/v3/auth/tokens', {'x': 1},
                            token=None)
        self.assertEqual(400, resp.status_int)

    def test_not_served_with_keystone(self):
        self.conf.config(group='api', auth_strategy='keystone')
        from nova.api.openstack import app as app_mod
        app = app_mod.build_app(base.CONF, self.compute)
        resp = webob.Request.blank('/identity/v3').get_response(app)
        self.assertEqual(404, resp.status_int)


class ImageAPITestCase(base.APITestCase):

    def test_versions(self):
        resp = self.request('GET', '/image/')
        self.assertEqual(300, resp.status_int)
        self.assertEqual('http://localhost/image/v2/',
                         resp.json_body_or_none['versions'][0]['links'][0][
                             'href'])

    def test_list_and_filter(self):
        body = self.request('GET', '/image/v2/images').json_body_or_none
        self.assertEqual(['img-1'], [i['id'] for i in body['images']])
        self.assertEqual('active', body['images'][0]['status'])
        body = self.request('GET', '/image/v2/images?name=busybox'
                            ).json_body_or_none
        self.assertEqual(1, len(body['images']))
        body = self.request('GET', '/image/v2/images?name=other'
                            ).json_body_or_none
        self.assertEqual([], body['images'])

    def test_show(self):
        resp = self.request('GET', '/image/v2/images/img-1')
        self.assertEqual('busybox', resp.json_body_or_none['name'])
        self.assertEqual('/boot/vmlinuz', resp.json_body_or_none['kernel'])
        resp = self.request('GET', '/image/v2/images/nope')
        self.assertEqual(404, resp.status_int)

    def test_needs_token(self):
        resp = self.request('GET', '/image/v2/images', token=None)
        self.assertEqual(401, resp.status_int)


class KeystoneContextTestCase(base.APITestCase):

    def _call(self, headers):
        seen = {}

        @webob.dec.wsgify
        def app(req):
            seen['ctx'] = req.environ['nova.context']
            return webob.Response(body=b'{}')
        req = webob.Request.blank('/')
        for name, value in headers.items():
            req.headers[name] = value
        resp = req.get_response(auth.KeystoneContext(app))
        return resp, seen.get('ctx')

    def test_context_from_headers(self):
        resp, ctx = self._call({'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                                'X-Roles': 'member,admin'})
        self.assertEqual(200, resp.status_int)
        self.assertEqual('u1', ctx.user_id)
        self.assertEqual('p1', ctx.project_id)
        self.assertTrue(ctx.is_admin)
        self.assertIn('member', ctx.roles)

    def test_rejects_invalid_identity(self):
        resp, ctx = self._call({'X-Identity-Status': 'Invalid'})
        self.assertEqual(401, resp.status_int)
        self.assertIsNone(ctx)
        self.assertIn('unauthorized', json.loads(resp.body))

    def test_keystone_pipeline_uses_auth_token(self):
        from keystonemiddleware import auth_token
        self.conf.config(group='api', auth_strategy='keystone')
        wrapped = auth.pipeline(lambda e, s: None, base.CONF)
        self.assertIsInstance(wrapped, auth_token.AuthProtocol)
