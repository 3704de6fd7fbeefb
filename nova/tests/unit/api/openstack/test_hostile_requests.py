"""Requests a hostile or careless client sends, answered as Nova faults.

Each test failed before: a 5,000-digit microversion was a 500 with a
plain-text body, a text/plain body was read as JSON, any body size was
read, and a 400 repeated the whole offending value.
"""

import io
import json

import webob

from nova.api.openstack import app as app_mod
from nova.tests.unit.api import base

SERVER = {'name': 'vm1', 'imageRef': 'img-1', 'flavorRef': '1',
          'networks': 'none'}


class MicroversionHeaderTestCase(base.APITestCase):

    def test_five_thousand_digits(self):
        long_version = '2.' + '1' * 5000
        for header in ('OpenStack-API-Version', 'X-OpenStack-Nova-API-Version'):
            value = long_version
            if header == 'OpenStack-API-Version':
                value = 'compute ' + long_version
            resp = self.request('GET', '/v2.1/servers',
                                headers={header: value})
            self.assertFault(resp, 400, 'badRequest', 'invalid format')
            # The message names the value without repeating all of it.
            self.assertIn('(5002 characters)', resp.text)
            self.assertLess(len(resp.body), 400)

    def test_large_but_convertible_number(self):
        resp = self.request('GET', '/v2.1/servers',
                            headers={'OpenStack-API-Version':
                                     'compute 2.' + '9' * 40})
        self.assertFault(resp, 400, 'badRequest', 'invalid format')

    def test_literals_parsed_once(self):
        from nova.api.openstack import api_version
        from nova import exception
        self.assertIs(api_version.as_version('2.16'),
                      api_version.as_version('2.16'))
        for _i in range(2):
            self.assertRaises(exception.InvalidAPIVersionString,
                              api_version.as_version, '2.x')

    def test_out_of_range_is_406(self):
        resp = self.request('GET', '/v2.1/servers',
                            headers={'OpenStack-API-Version':
                                     'compute 2.99999'})
        self.assertEqual(406, resp.status_int)


class ContentTypeTestCase(base.APITestCase):

    def post(self, content_type, body=None, path='/v2.1/servers'):
        # Built here: base.request always sets application/json.
        req = webob.Request.blank(path, method='POST')
        req.headers['X-Auth-Token'] = base.ADMIN
        req.headers['OpenStack-API-Version'] = 'compute 2.79'
        req.body = json.dumps(body or {'server': SERVER}).encode()
        if content_type:
            req.headers['Content-Type'] = content_type
        else:
            req.environ.pop('CONTENT_TYPE', None)
        resp = req.get_response(self.app)
        resp.json_body_or_none = json.loads(resp.body)
        return resp

    def test_text_plain_is_415(self):
        resp = self.post('text/plain')
        self.assertFault(resp, 415, 'badMediaType', 'text/plain')
        self.assertEqual([], self.compute.calls)

    def test_form_encoded_is_415(self):
        # What curl -d sends by default.
        resp = self.post('application/x-www-form-urlencoded')
        self.assertFault(resp, 415, 'badMediaType')

    def test_action_text_plain_is_415(self):
        resp = self.post('text/plain', {'os-migrateLive': {'host': None}},
                         path='/v2.1/servers/x/action')
        self.assertFault(resp, 415, 'badMediaType')

    def test_json_types_are_read(self):
        for content_type in ('application/json',
                             'application/json; charset=UTF-8',
                             'application/vnd.openstack.compute+json'):
            resp = self.post(content_type)
            self.assertEqual(202, resp.status_int, resp.body)

    def test_without_content_type_is_json(self):
        self.assertEqual(202, self.post(None).status_int)


class BodyLimitTestCase(base.APITestCase):

    def test_default_is_novas(self):
        self.assertEqual(114688,
                         base.CONF.oslo_middleware.max_request_body_size)

    def test_declared_length_over_the_limit(self):
        self.conf.config(group='oslo_middleware', max_request_body_size=100)
        server = dict(SERVER, metadata={'k': 'v' * 200})
        resp = self.request('POST', '/v2.1/servers', {'server': server},
                            version='2.79')
        self.assertFault(resp, 413, 'overLimit', 'max_request_body_size')
        self.assertEqual([], self.compute.calls)

    def test_at_the_limit_goes_on(self):
        body = json.dumps({'server': SERVER}).encode()
        self.conf.config(group='oslo_middleware',
                         max_request_body_size=len(body))
        resp = self.request('POST', '/v2.1/servers', raw=body,
                            version='2.79')
        self.assertEqual(202, resp.status_int, resp.body)

    def _unknown_length(self, body):
        # What a server hands on for a chunked body it does not decode
        # into a Content-Length: the stream and wsgi.input_terminated.
        req = webob.Request.blank('/v2.1/servers', method='POST')
        req.headers['X-Auth-Token'] = base.ADMIN
        req.headers['OpenStack-API-Version'] = 'compute 2.79'
        req.headers['Content-Type'] = 'application/json'
        req.environ.pop('CONTENT_LENGTH', None)
        req.environ['wsgi.input'] = io.BytesIO(body)
        req.environ['wsgi.input_terminated'] = True
        return req.get_response(self.app)

    def test_unknown_length_is_read(self):
        resp = self._unknown_length(json.dumps({'server': SERVER}).encode())
        self.assertEqual(202, resp.status_int, resp.body)

    def test_unknown_length_over_the_limit(self):
        self.conf.config(group='oslo_middleware', max_request_body_size=50)
        resp = self._unknown_length(json.dumps({'server': SERVER}).encode())
        self.assertEqual(413, resp.status_int)
        self.assertEqual([], self.compute.calls)

    def test_limit_body_reads_no_more_than_the_limit(self):
        stream = io.BytesIO(b'x' * 10000)
        environ = {'wsgi.input': stream, 'wsgi.input_terminated': True}
        self.assertEqual(413, app_mod.limit_body(environ, 100).status_int)
        self.assertEqual(101, stream.tell())


class EchoTestCase(base.APITestCase):

    def test_long_value_not_echoed_whole(self):
        server = dict(SERVER, name='n' * 100000)
        resp = self.request('POST', '/v2.1/servers', {'server': server},
                            version='2.79')
        self.assertFault(resp, 400, 'badRequest', 'field/attribute name')
        self.assertLess(len(resp.body), 2048)
        self.assertIn('characters left out', resp.text)

    def test_long_action_name_not_echoed_whole(self):
        resp = self.request('POST', '/v2.1/servers/x/action',
                            {'a' * 50000: None})
        self.assertEqual(400, resp.status_int)
        self.assertLess(len(resp.body), 2048)


class DisconnectTestCase(base.APITestCase):

    def test_body_cut_short_is_a_400(self):
        # Under a server that streams the body to the application (the
        # standard library's), a client leaving mid-body was a 500.
        req = webob.Request.blank('/v2.1/servers', method='POST')
        req.headers['X-Auth-Token'] = base.ADMIN
        req.headers['Content-Type'] = 'application/json'
        req.environ['CONTENT_LENGTH'] = '1000'
        req.environ['wsgi.input'] = io.BytesIO(b'{"server": ')
        resp = req.get_response(self.app)
        self.assertEqual(400, resp.status_int, resp.body)
        self.assertIn('disconnected', resp.text)
