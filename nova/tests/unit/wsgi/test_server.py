"""The API's HTTP server over real loopback sockets: limits and timeouts.

Each of these failed with the standard library server nova-api used
before (listen backlog 5, no timeouts, HTTP/1.0, a thread per
connection, no body limit, chunked bodies read as empty).
"""

import http.client
import json
import select
import socket
import threading
import time
from unittest import mock

import testtools

from nova.wsgi import server as wsgi_server

BODY_LIMIT = 1000


def echo_app(environ, start_response):
    """Answers with what it read: method, body length, body."""
    body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH')
                                          or 0))
    answer = json.dumps({'method': environ['REQUEST_METHOD'],
                         'length': len(body),
                         'body': body.decode('latin-1')}).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(answer)))])
    return [answer]


class ServerTestCase(testtools.TestCase):

    settings = {}

    def setUp(self):
        super(ServerTestCase, self).setUp()
        self.app = echo_app
        values = {'threads': 2, 'channel_timeout': 60,
                  'request_read_timeout': 30,
                  'max_request_body_size': BODY_LIMIT,
                  'max_request_header_size': 4096, 'backlog': 1024,
                  'connection_limit': 1000}
        values.update(self.settings)
        self.server = wsgi_server.Server(lambda e, s: self.app(e, s),
                                         '127.0.0.1', 0, name='test-api',
                                         settings=values)

    def start(self):
        self.server.start()
        self.addCleanup(self.server.stop)

    def connect(self):
        sock = socket.create_connection(('127.0.0.1', self.server.port),
                                        timeout=10)
        self.addCleanup(sock.close)
        return sock

    def request(self, method='GET', path='/', body=None, headers=None,
                chunked=False):
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        conn.request(method, path, body=body, headers=headers or {},
                     encode_chunked=chunked)
        resp = conn.getresponse()
        return resp, resp.read()

    def closed_within(self, sock, seconds):
        """True when the server closes ``sock`` within ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([sock], [], [], 0.2)
            if ready:
                try:
                    if sock.recv(65536) == b'':
                        return True
                except ConnectionResetError:
                    return True
        return False


class BacklogTestCase(ServerTestCase):

    def test_burst_waits_in_the_backlog(self):
        # Nothing accepts yet (the server thread is not started): every
        # connection of the burst must still complete its handshake into
        # the listen queue. With a backlog of 5 only about 6 do.
        socks = []
        for _i in range(100):
            sock = socket.socket()
            sock.setblocking(False)
            self.addCleanup(sock.close)
            sock.connect_ex(('127.0.0.1', self.server.port))
            socks.append(sock)
        deadline = time.monotonic() + 2
        pending = list(socks)
        while pending and time.monotonic() < deadline:
            _r, writable, _x = select.select([], pending, [], 0.1)
            pending = [s for s in pending if s not in writable]
        self.assertEqual([], pending)
        self.start()
        # And each is then served.
        for sock in socks[:10]:
            sock.setblocking(True)
            sock.settimeout(10)
            sock.sendall(b'GET / HTTP/1.0\r\n\r\n')
            self.assertIn(b'200 OK', sock.recv(65536))


class KeepAliveTestCase(ServerTestCase):

    def test_two_requests_on_one_connection(self):
        self.start()
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        for _i in range(2):
            conn.request('GET', '/')
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(200, resp.status)
            self.assertEqual(11, resp.version)
        self.assertIsNotNone(conn.sock)


class TimeoutTestCase(ServerTestCase):

    settings = {'channel_timeout': 1, 'request_read_timeout': 2}

    def test_idle_socket_is_closed(self):
        self.start()
        sock = self.connect()
        self.assertTrue(self.closed_within(sock, 5))

    def test_idle_keep_alive_is_closed(self):
        self.start()
        sock = self.connect()
        sock.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertIn(b'200 OK', sock.recv(65536))
        self.assertTrue(self.closed_within(sock, 5))

    def test_trickled_headers_are_cut_off(self):
        self.start()
        sock = self.connect()
        sock.sendall(b'GET / HTTP/1.1\r\n')
        started = time.monotonic()
        closed = False
        # One header byte every 0.3 s: never silent, never finished.
        while time.monotonic() - started < 8:
            try:
                sock.sendall(b'X')
            except OSError:
                closed = True
                break
            if self.closed_within(sock, 0.3):
                closed = True
                break
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - started, 6)

    def test_body_shorter_than_announced(self):
        self.start()
        sock = self.connect()
        sock.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100'
                     b'\r\n\r\n{"a"')
        self.assertTrue(self.closed_within(sock, 6))

    def test_http_0_9_request_line(self):
        self.start()
        sock = self.connect()
        sock.sendall(b'GET /\r\n')
        self.assertTrue(self.closed_within(sock, 6))


class WorkerPoolTestCase(ServerTestCase):

    settings = {'threads': 2}

    def test_half_sent_requests_hold_no_worker(self):
        self.start()
        for _i in range(20):
            self.connect().sendall(b'GET / HTTP/1.1\r\nHost: x\r\n')
        started = time.monotonic()
        resp, _body = self.request()
        self.assertEqual(200, resp.status)
        self.assertLess(time.monotonic() - started, 2)

    def test_pool_is_bounded(self):
        running = []
        most = []
        lock = threading.Lock()
        release = threading.Event()

        def slow_app(environ, start_response):
            with lock:
                running.append(1)
                most.append(len(running))
            release.wait(5)
            with lock:
                running.pop()
            start_response('200 OK', [('Content-Length', '0')])
            return [b'']

        self.app = slow_app
        self.start()
        threads = [threading.Thread(target=self.request) for _i in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        release.set()
        for thread in threads:
            thread.join(10)
        self.assertEqual(2, max(most))


class LimitTestCase(ServerTestCase):

    def test_announced_body_over_the_limit_is_refused_unread(self):
        self.start()
        sock = self.connect()
        sock.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: '
                     b'50000000\r\n\r\n')
        answer = b''
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        self.assertIn(b'413', answer.split(b'\r\n')[0])
        fault = json.loads(answer.split(b'\r\n\r\n', 1)[1])
        self.assertEqual(413, fault['overLimit']['code'])
        self.assertIn('max_request_body_size', fault['overLimit']['message'])

    def test_chunked_body_over_the_limit(self):
        self.start()
        chunks = iter([b'x' * 600, b'x' * 600])
        resp, body = self.request('POST', '/', body=chunks,
                                  headers={'Transfer-Encoding': 'chunked'},
                                  chunked=True)
        self.assertEqual(413, resp.status)

    def test_chunked_body_is_decoded(self):
        self.start()
        chunks = iter([b'{"server": ', b'{"name": "x"}}'])
        resp, body = self.request('POST', '/', body=chunks,
                                  headers={'Transfer-Encoding': 'chunked'},
                                  chunked=True)
        self.assertEqual(200, resp.status)
        self.assertEqual('{"server": {"name": "x"}}',
                         json.loads(body)['body'])

    def test_oversize_headers_431(self):
        self.start()
        resp, body = self.request(headers={'X-Big': 'b' * 8000})
        self.assertEqual(431, resp.status)
        self.assertEqual('application/json', resp.getheader('Content-Type'))
        self.assertIn('max_header_size', json.loads(body)['badRequest'][
            'message'])


class StopTestCase(ServerTestCase):

    def test_stop_is_prompt_and_frees_the_port(self):
        self.server.start()
        self.assertEqual(200, self.request()[0].status)
        started = time.monotonic()
        self.server.stop()
        self.assertLess(time.monotonic() - started, 3)
        self.assertRaises(OSError, socket.create_connection,
                          ('127.0.0.1', self.server.port), 1)


class ConfTestCase(testtools.TestCase):

    def test_settings_from_conf(self):
        from oslo_config import cfg

        import nova.conf
        conf = cfg.ConfigOpts()
        nova.conf.register_all(conf)
        conf([], default_config_files=[])
        conf.set_override('threads', 3, group='wsgi')
        conf.set_override('max_request_body_size', 999,
                          group='oslo_middleware')
        settings = wsgi_server.server_settings(conf)
        self.assertEqual(3, settings['threads'])
        self.assertEqual(999, settings['max_request_body_size'])
        self.assertEqual(1024, settings['backlog'])
        self.assertEqual(60, settings['channel_timeout'])
        self.assertEqual(30, settings['request_read_timeout'])


class QueueLogTestCase(testtools.TestCase):

    def test_one_line_per_interval_with_the_deepest_queue(self):
        now = [0.0]
        log = wsgi_server.QueueLog(4, interval=60, clock=lambda: now[0])
        with mock.patch.object(wsgi_server, 'LOG') as logger:
            for depth in (1, 5, 3):
                log.warning('Task queue depth is %d', depth)
                now[0] += 1
            self.assertEqual(1, logger.warning.call_count)
            now[0] = 61
            log.warning('Task queue depth is %d', 2)
        self.assertEqual(2, logger.warning.call_count)
        self.assertEqual(5, logger.warning.call_args[0][1])

    def test_server_uses_it(self):
        server = wsgi_server.Server(echo_app, '127.0.0.1', 0)
        self.addCleanup(server._server.close)
        self.assertIsInstance(server._server.task_dispatcher.queue_logger,
                              wsgi_server.QueueLog)
