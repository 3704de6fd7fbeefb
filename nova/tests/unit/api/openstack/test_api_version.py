"""Microversion parsing, the supported range and the response headers."""

import testtools

from nova.api.openstack import api_version
from nova import exception
from nova.tests.unit.api import base


class APIVersionTestCase(testtools.TestCase):

    def test_parse_and_order(self):
        self.assertLess(api_version.APIVersion('2.9'),
                        api_version.APIVersion('2.10'))
        self.assertEqual(api_version.APIVersion('2.25'), '2.25')
        self.assertEqual('2.25', str(api_version.APIVersion('2.25')))
        self.assertTrue(api_version.APIVersion('2.30').matches('2.30',
                                                               '2.67'))
        self.assertFalse(api_version.APIVersion('2.68').matches('2.30',
                                                                '2.67'))
        self.assertTrue(api_version.APIVersion('2.1').matches(None, None))

    def test_invalid_strings(self):
        for bad in ('2', '2.x', 'two', '2.01', '2.1.1', '', '02.1'):
            self.assertRaises(exception.InvalidAPIVersionString,
                              api_version.APIVersion, bad)

    def test_no_header_is_minimum(self):
        self.assertEqual('2.1', api_version.version_for_request({}))

    def test_new_header(self):
        self.assertEqual('2.25', api_version.version_for_request(
            {'OpenStack-API-Version': 'compute 2.25'}))

    def test_new_header_among_services(self):
        self.assertEqual('2.30', api_version.version_for_request(
            {'OpenStack-API-Version': 'volume 3.5, compute 2.30'}))

    def test_legacy_header(self):
        self.assertEqual('2.22', api_version.version_for_request(
            {'X-OpenStack-Nova-API-Version': '2.22'}))

    def test_new_header_wins(self):
        self.assertEqual('2.24', api_version.version_for_request(
            {'OpenStack-API-Version': 'compute 2.24',
             'X-OpenStack-Nova-API-Version': '2.22'}))

    def test_latest(self):
        self.assertEqual(api_version.MAX_VERSION,
                         api_version.version_for_request(
                             {'OpenStack-API-Version': 'compute latest'}))

    def test_out_of_range(self):
        exc = self.assertRaises(
            exception.InvalidGlobalAPIVersion,
            api_version.version_for_request,
            {'OpenStack-API-Version': 'compute 2.999'})
        self.assertEqual(406, exc.code)
        self.assertRaises(exception.InvalidGlobalAPIVersion,
                          api_version.version_for_request,
                          {'X-OpenStack-Nova-API-Version': '3.0'})

    def test_maximum_claimed(self):
        # Documented in api_version's docstring and doc/source/admin/api.
        self.assertEqual('2.96', api_version.MAX_VERSION_STRING)


class MicroversionHTTPTestCase(base.APITestCase):

    def test_headers_echoed(self):
        resp = self.request('GET', '/v2.1/flavors', version='2.25')
        self.assertEqual(200, resp.status_int)
        self.assertEqual('compute 2.25',
                         resp.headers['OpenStack-API-Version'])
        self.assertEqual('2.25', resp.headers['X-OpenStack-Nova-API-Version'])
        self.assertIn('OpenStack-API-Version', resp.headers['Vary'])
        self.assertIn('X-OpenStack-Nova-API-Version', resp.headers['Vary'])

    def test_default_version_echoed(self):
        resp = self.request('GET', '/v2.1/flavors')
        self.assertEqual('compute 2.1', resp.headers['OpenStack-API-Version'])

    def test_latest_echoes_maximum(self):
        resp = self.request('GET', '/v2.1/flavors', version='latest')
        self.assertEqual('compute %s' % api_version.MAX_VERSION_STRING,
                         resp.headers['OpenStack-API-Version'])

    def test_unsupported_version_406(self):
        resp = self.request('GET', '/v2.1/flavors', version='2.999')
        self.assertFault(resp, 406, 'computeFault',
                         'Version 2.999 is not supported by the API. '
                         'Minimum is 2.1 and maximum is 2.96.')

    def test_malformed_version_400(self):
        resp = self.request('GET', '/v2.1/flavors', version='2.x')
        self.assertFault(resp, 400, 'badRequest',
                         'API Version String 2.x is of invalid format.')

    def test_request_id(self):
        resp = self.request('GET', '/v2.1/flavors')
        self.assertTrue(resp.headers['x-openstack-request-id']
                        .startswith('req-'))


class VersionsTestCase(base.APITestCase):

    def test_root(self):
        resp = self.request('GET', '/', token=None)
        self.assertEqual(200, resp.status_int)
        v20, version = resp.json_body_or_none['versions']
        self.assertEqual('v2.0', v20['id'])
        self.assertEqual('SUPPORTED', v20['status'])
        self.assertEqual('http://localhost/v2/', v20['links'][0]['href'])
        self.assertEqual('v2.1', version['id'])
        self.assertEqual('CURRENT', version['status'])
        self.assertEqual('2.96', version['version'])
        self.assertEqual('2.1', version['min_version'])
        self.assertEqual('http://localhost/v2.1/',
                         version['links'][0]['href'])

    def test_v21_document_without_auth(self):
        for path in ('/v2.1', '/v2.1/'):
            resp = self.request('GET', path, token=None)
            self.assertEqual(200, resp.status_int)
            doc = resp.json_body_or_none['version']
            self.assertEqual('2.96', doc['version'])
            self.assertEqual('2.1', doc['min_version'])
            self.assertIn('media-types', doc)

    def test_public_endpoint_in_links(self):
        self.conf.config(group='api',
                         public_endpoint='http://api.example.org:8774/')
        resp = self.request('GET', '/', token=None)
        self.assertEqual(
            'http://api.example.org:8774/v2.1/',
            resp.json_body_or_none['versions'][1]['links'][0]['href'])

    def test_unknown_path_404(self):
        resp = self.request('GET', '/nope')
        self.assertFault(resp, 404, 'itemNotFound')
        resp = self.request('GET', '/v2.1/nope')
        self.assertFault(resp, 404, 'itemNotFound')

    def test_wrong_method_405(self):
        resp = self.request('PUT', '/v2.1/os-migrations', body={})
        self.assertFault(resp, 405, 'badMethod')
