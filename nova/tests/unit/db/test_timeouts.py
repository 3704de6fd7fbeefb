"""Database connect and read timeouts: a server that accepts TCP but never
answers must fail a service's start within the configured bound, with a
one-line error, for PostgreSQL and MySQL/MariaDB URLs.
"""

import socket
import threading
import time

import testtools

from nova.db import api as db_api
from nova import exception


class BlackHole(object):
    """A TCP server that accepts connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def _bounded(func, limit):
    """(outcome, seconds) of ``func()`` run in a thread; outcome is
    'hung' when it did not return within ``limit`` seconds.
    """
    result = {}

    def run():
        try:
            result['value'] = func()
        except Exception as exc:
            result['error'] = exc

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - start
    if thread.is_alive():
        return 'hung', elapsed
    return result.get('error', result.get('value')), elapsed


class DriverTimeoutsTestCase(testtools.TestCase):

    def test_mysql(self):
        self.assertEqual(
            {'connect_timeout': 5, 'read_timeout': 20, 'write_timeout': 20},
            db_api.driver_timeouts('mysql+pymysql://u:p@h/db', 5, 20))
        self.assertEqual(
            {'connect_timeout': 5, 'read_timeout': 20, 'write_timeout': 20},
            db_api.driver_timeouts('mariadb+mysqldb://u:p@h/db', 5, 20))

    def test_postgresql(self):
        args = db_api.driver_timeouts('postgresql+psycopg2://u:p@h/db', 5,
                                      30)
        self.assertEqual(5, args['connect_timeout'])
        self.assertEqual('-c statement_timeout=30000', args['options'])
        self.assertEqual(30000, args['tcp_user_timeout'])
        self.assertEqual((1, 10, 3, 3),
                         (args['keepalives'], args['keepalives_idle'],
                          args['keepalives_interval'],
                          args['keepalives_count']))
        self.assertEqual({'timeout': 30}, db_api.driver_timeouts(
            'postgresql+pg8000://u:p@h/db', 5, 30))

    def test_url_parameters_win(self):
        args = db_api.driver_timeouts(
            'mysql+pymysql://u:p@h/db?read_timeout=300', 5, 20)
        self.assertNotIn('read_timeout', args)
        self.assertEqual(20, args['write_timeout'])

    def test_sqlite_untouched(self):
        self.assertEqual({}, db_api.driver_timeouts('sqlite:///x.db'))
        db = db_api.Database('sqlite://')
        self.addCleanup(db.dispose)
        db.check_connection()


class BlackHoleTestCase(testtools.TestCase):
    """Before the bounds, both connects below hung until the test's
    10-second limit (libpq and PyMySQL wait forever by default).
    """

    def setUp(self):
        super(BlackHoleTestCase, self).setUp()
        self.hole = BlackHole()
        self.addCleanup(self.hole.close)

    def check(self, scheme, limit):
        url = '%s://nova:secret@127.0.0.1:%d/nova' % (scheme, self.hole.port)
        db = db_api.Database(url, connect_timeout=1, read_timeout=2)
        self.addCleanup(db.dispose)
        outcome, elapsed = _bounded(db.check_connection, 10)
        self.assertNotEqual('hung', outcome,
                            '%s connect still waiting after 10 s' % scheme)
        self.assertIsInstance(outcome, exception.DatabaseUnavailable)
        self.assertLess(elapsed, limit)
        message = str(outcome)
        self.assertIn('127.0.0.1:%d/nova does not answer' % self.hole.port,
                      message)
        self.assertNotIn('secret', message)
        self.assertNotIn('\n', message)
        self.assertEqual(503, outcome.code)
        self.assertTrue(self.hole.held, 'the driver never connected')

    def test_postgresql(self):
        # libpq's connect_timeout bounds the whole start-up exchange.
        self.check('postgresql+psycopg2', 5)

    def test_mysql(self):
        # PyMySQL reads the server's greeting under read_timeout.
        self.check('mysql+pymysql', 6)

    def test_engine_connect_bounded_too(self):
        """Not only the start-up check: every new pooled connection."""
        url = 'postgresql+psycopg2://nova:x@127.0.0.1:%d/nova' % (
            self.hole.port)
        db = db_api.Database(url, connect_timeout=1, read_timeout=2)
        self.addCleanup(db.dispose)
        outcome, _elapsed = _bounded(lambda: db.engine.connect().close(), 10)
        self.assertNotEqual('hung', outcome)
        self.assertIn('timeout expired', str(outcome))
