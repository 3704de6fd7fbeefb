"""The HTTP server of nova-api and nova-all: waitress, with the API's limits.

waitress reads requests on one event loop and runs the application in a
bounded pool of worker threads, so idle keep-alive connections and clients
still sending their request cost a socket, not a thread. On top of its own
limits (listen backlog, connection limit, idle timeout, header and body
size) this module adds:

* a deadline for receiving a whole request (``[wsgi]
  request_read_timeout``): waitress only closes connections that are
  *silent*, so a client trickling one header byte at a time, or announcing
  a longer body than it sends, would otherwise keep its connection forever;
* Nova's JSON fault body on the errors the server answers itself (431,
  413, 400) instead of waitress's plain text.
"""

import json
import logging
import threading
import time

from waitress import channel as waitress_channel
from waitress import parser as waitress_parser
from waitress import server as waitress_server
from waitress import task as waitress_task
from waitress import wasyncore

from nova import utils

LOG = logging.getLogger(__name__)

# How often the event loop looks for connections past a timeout, seconds.
CLEANUP_INTERVAL = 1
_FAULT_NAMES = {400: 'badRequest', 413: 'overLimit',
                431: 'badRequest', 500: 'computeFault'}


class _Parser(waitress_parser.HTTPRequestParser):
    """Remembers when the request's first byte arrived."""

    def __init__(self, adj):
        super(_Parser, self).__init__(adj)
        self.started = time.monotonic()


class _ErrorTask(waitress_task.ErrorTask):
    """A request the server refuses itself, answered as a Nova fault."""

    def execute(self):
        error = self.request.error
        adj = self.channel.server.adj
        if error.code == 413:
            message = ('Request is too large: the body is larger than '
                       'max_request_body_size (%d bytes).'
                       % adj.max_request_body_size)
        elif error.code == 431:
            message = ('Request header fields too large: the request line '
                       'and headers are larger than max_header_size (%d '
                       'bytes).' % adj.max_request_header_size)
        else:
            message = '%s: %s' % (error.reason, error.body)
        body = json.dumps({_FAULT_NAMES.get(error.code, 'badRequest'): {
            'code': error.code, 'message': message}}).encode()
        self.status = '%d %s' % (error.code, error.reason)
        self.response_headers.append(('Content-Type', 'application/json'))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(waitress_channel.HTTPChannel):
    parser_class = _Parser
    error_task_class = _ErrorTask


def listen_url(host, port):
    """The URL a client reaches a server listening on ``host:port`` at."""
    if host in ('0.0.0.0', '::'):
        host = '127.0.0.1'
    if ':' in host:
        host = '[%s]' % host
    return 'http://%s:%d' % (host, port)


def overdue(channel, now, read_timeout):
    """True when ``channel`` has been receiving one request for too long."""
    request = channel.request
    if request is None or request.completed or channel.requests:
        # Nothing half-received, or a response is still being made.
        return False
    return now - request.started > read_timeout


class QueueLog(object):
    """Stands in for waitress's queue logger: one line a minute at most.

    waitress warns each time a request is queued while every worker is
    busy, which under load is every request: the log fills and the
    logging costs the API time. This says it once per ``interval``, with
    the deepest queue seen since.
    """

    def __init__(self, threads, interval=60.0, clock=time.monotonic):
        self.threads = threads
        self.interval = interval
        self.clock = clock
        self.deepest = 0
        self.last = None

    def warning(self, _message, depth, *args):
        self.deepest = max(self.deepest, depth)
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return
        LOG.warning('Requests are waiting for a worker: %d queued at most '
                    'since the last report; all %d [wsgi] threads busy',
                    self.deepest, self.threads)
        self.last = now
        self.deepest = 0


class _WaitressServer(waitress_server.TcpWSGIServer):
    channel_class = _Channel
    request_read_timeout = 30

    def maintenance(self, now):
        # waitress closes silent connections; also close the slow ones.
        super(_WaitressServer, self).maintenance(now)
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if overdue(channel, mono, self.request_read_timeout):
                LOG.info('Closing a connection from %s: its request took '
                         'over %ss to arrive', channel.addr,
                         self.request_read_timeout)
                channel.request = None
                channel.will_close = True


def server_settings(conf):
    """waitress settings from ``[wsgi]`` and the body limit."""
    return {
        'threads': conf.wsgi.threads,
        'connection_limit': conf.wsgi.connection_limit,
        'backlog': conf.wsgi.listen_backlog,
        'channel_timeout': conf.wsgi.client_socket_timeout,
        'max_request_header_size': conf.wsgi.max_header_size,
        'max_request_body_size':
            conf.oslo_middleware.max_request_body_size,
        'request_read_timeout': conf.wsgi.request_read_timeout,
    }


_FIXED = {
    'cleanup_interval': CLEANUP_INTERVAL,
    'ident': 'nova-api',
    'expose_tracebacks': False,
    # A client that goes away is no error of ours.
    'log_socket_errors': False,
}


def _allow_shared_fds():
    """Let two green threads wait on one descriptor (eventlet only).

    waitress's worker threads and its event loop both write a connection
    (under waitress's own lock) and every worker wakes the loop through one
    pipe; eventlet refuses a second green thread waiting on a descriptor
    unless told that this is intended.
    """
    if utils.concurrency_mode() == 'eventlet':
        from eventlet import debug
        debug.hub_prevent_multiple_readers(False)


class Server(object):
    """Serve ``app`` on host:port (port 0: a free port) in a thread."""

    def __init__(self, app, host='127.0.0.1', port=0, name='nova-api',
                 conf=None, settings=None):
        _allow_shared_fds()
        self.name = name
        values = dict(_FIXED)
        values.update(server_settings(conf) if conf is not None else {})
        values.update(settings or {})
        read_timeout = values.pop('request_read_timeout',
                                  _WaitressServer.request_read_timeout)
        self._server = _WaitressServer(app, host=host, port=port, **values)
        self._server.request_read_timeout = read_timeout
        self._server.task_dispatcher.queue_logger = QueueLog(
            self._server.adj.threads)
        self.host = host
        self.port = int(self._server.effective_port)
        self._stopping = threading.Event()
        self._thread = None

    @property
    def settings(self):
        adj = self._server.adj
        return {'threads': adj.threads, 'backlog': adj.backlog,
                'connection_limit': adj.connection_limit,
                'channel_timeout': adj.channel_timeout,
                'request_read_timeout': self._server.request_read_timeout,
                'max_request_header_size': adj.max_request_header_size,
                'max_request_body_size': adj.max_request_body_size}

    @property
    def url(self):
        return listen_url(self.host, self.port)

    def _loop(self):
        server = self._server
        while not self._stopping.is_set():
            wasyncore.loop(timeout=CLEANUP_INTERVAL, map=server._map,
                           use_poll=True, count=1)

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever,
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        LOG.info('%s listening on %s (%s)', self.name, self.url,
                 ', '.join('%s=%s' % kv for kv in sorted(
                     self.settings.items())))
        try:
            self._loop()
        finally:
            wasyncore.close_all(self._server._map)

    def stop(self):
        # Workers first, while the loop still runs: a worker that finishes
        # wakes the loop through its pipe, which must still be open.
        self._server.task_dispatcher.shutdown(timeout=5)
        self._stopping.set()
        # Wake the event loop at once rather than at its next timeout.
        try:
            self._server.trigger.pull_trigger()
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(10)
