"""How nova-api and nova-all serve the API: server choice and defaults."""

from oslo_config import cfg
import testtools

import nova.conf
from nova.cmd import all as all_cmd
from nova.cmd import api as api_cmd
from nova.wsgi import reference
from nova.wsgi import server as wsgi_server


def _conf():
    conf = cfg.ConfigOpts()
    nova.conf.register_all(conf)
    return conf


def _app(environ, start_response):
    start_response('200 OK', [('Content-Length', '0')])
    return [b'']


class ServeTestCase(testtools.TestCase):

    def serve(self, **kwargs):
        conf = _conf()
        conf([], default_config_files=[])
        conf.set_override('osapi_compute_listen', '127.0.0.1')
        conf.set_override('osapi_compute_listen_port', 0)
        server = api_cmd.serve(_app, conf, **kwargs)
        self.addCleanup(server.stop)
        return server

    def test_waitress_by_default(self):
        server = self.serve()
        self.assertIsInstance(server, wsgi_server.Server)
        self.assertEqual(8, server.settings['threads'])

    def test_wsgiref_only_when_asked(self):
        self.assertIsInstance(self.serve(server='wsgiref'),
                              reference.Server)


class AllInOneDefaultsTestCase(testtools.TestCase):

    def test_one_api_worker_beside_the_compute_services(self):
        conf = _conf()
        all_cmd._set_all_in_one_defaults(conf)
        conf([], default_config_files=[])
        self.assertEqual(1, conf.wsgi.threads)
        self.assertEqual(1, wsgi_server.server_settings(conf)['threads'])

    def test_api_server_option(self):
        conf = cfg.ConfigOpts()
        conf.register_cli_opts(all_cmd.cli_opts)
        conf(['--api-server', 'wsgiref'], default_config_files=[])
        self.assertEqual('wsgiref', conf.api_server)
        self.assertRaises(SystemExit, conf, ['--api-server', 'other'],
                          default_config_files=[])
