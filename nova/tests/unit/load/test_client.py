"""The load tool's client and summary against real loopback servers."""

import testtools

from nova.load import cli
from nova.load import client
from nova.load import hostile
from nova.wsgi import reference
from nova.wsgi import server as wsgi_server


def _app(environ, start_response):
    status = '503 Service Unavailable' if 'fail' in environ.get(
        'QUERY_STRING', '') else '200 OK'
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', '2')])
    return [b'{}']


class RunLevelTestCase(testtools.TestCase):

    def serve(self, server_class, **kwargs):
        server = server_class(_app, '127.0.0.1', 0, **kwargs).start()
        self.addCleanup(server.stop)
        return server

    def test_keep_alive_server(self):
        server = self.serve(wsgi_server.Server, settings={'threads': 2})
        result = client.run_level('127.0.0.1', server.port, '/', (), 5, 0.5,
                                  max_requests=200)
        self.assertEqual(200, result.requests)
        self.assertEqual({200: 200}, result.statuses)
        self.assertEqual(0, result.resets)
        # One connection per client: HTTP/1.1 keep-alive.
        self.assertEqual(5, result.connects)
        row = result.as_dict()
        self.assertLessEqual(row['p50_ms'], row['p99_ms'])

    def test_http_1_0_server_reconnects(self):
        server = self.serve(reference.Server)
        result = client.run_level('127.0.0.1', server.port, '/', (), 3, 0.5,
                                  max_requests=30)
        self.assertEqual(30, result.requests)
        self.assertEqual(30, result.connects)

    def test_5xx_counted(self):
        server = self.serve(wsgi_server.Server)
        result = client.run_level('127.0.0.1', server.port, '/?fail', (), 2,
                                  0.5, max_requests=10)
        self.assertEqual(10, result.server_errors)

    def test_nothing_listening_counts_resets(self):
        server = self.serve(wsgi_server.Server)
        port = server.port
        server.stop()
        result = client.run_level('127.0.0.1', port, '/', (), 2, 0.3,
                                  max_requests=6)
        self.assertEqual(0, result.requests)
        self.assertEqual(6, result.resets)


class HostileTestCase(testtools.TestCase):

    def test_idle_sockets_closed_by_the_server(self):
        server = wsgi_server.Server(_app, '127.0.0.1', 0, settings={
            'channel_timeout': 1}).start()
        self.addCleanup(server.stop)
        self.patch(hostile, 'PROBE_PATH', '/')
        figures = hostile.idle_sockets('127.0.0.1', server.port, count=5,
                                       wait=5)
        self.assertEqual(20, figures['probe_ok'])
        self.assertEqual(5, figures['closed_by_server'])
        self.assertEqual(0, figures['still_open'])


class SummaryTestCase(testtools.TestCase):

    def test_ratios(self):
        def level(clients, rate, p99):
            return {'clients': clients, 'rate': rate, 'p50_ms': 1.0,
                    'p99_ms': p99, 'resets': 0, 'timeouts': 0, '5xx': 0}
        table = cli.summary([
            {'server': 'wsgiref', 'levels': [level(50, 100.0, 400.0)]},
            {'server': 'waitress', 'levels': [level(50, 150.0, 200.0)]}])
        self.assertIn('1.50, 0.50', table)
        self.assertIn('target met: p99 at 50 clients no worse than the '
                      'reference (200.0 vs 400.0 ms)', table)

    def test_verdicts(self):
        def level(clients, p99, resets=0):
            return {'clients': clients, 'rate': 1.0, 'p50_ms': 1.0,
                    'p99_ms': p99, 'resets': resets, 'timeouts': 0,
                    '5xx': 0}
        new = {'levels': [level(50, 300.0), level(200, 1200.0, resets=1)],
               'migrations': {'rate_ratio': 0.85}}
        ref = {'levels': [level(50, 250.0)]}
        found = cli.verdicts(ref, new)
        self.assertEqual([
            'target MISSED: 0 resets, 0 timeouts and 0 5xx at 200 clients',
            'target MISSED: p99 under 1 s at 200 clients (1200.0 ms)',
            'target MISSED: p99 at 50 clients no worse than the reference '
            '(300.0 vs 250.0 ms)',
            'target met: migrations under 50 clients at >= 0.8 of the '
            'quiet rate (0.85)'], found)
