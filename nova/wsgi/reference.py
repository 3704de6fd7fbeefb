"""The standard library's wsgiref server: the load benchmark's reference.

One thread per connection, HTTP/1.0, the socketserver listen backlog of 5
and no timeouts: what nova-api served with before it ran on waitress
(``nova.wsgi.server``). ``tox -e load`` runs the same application under it
to report the production server's figures as ratios. Not for production.
"""

import logging
import socketserver
import threading
from wsgiref import simple_server

from nova.wsgi import server

LOG = logging.getLogger(__name__)


class _Handler(simple_server.WSGIRequestHandler):
    """HTTP/1.0, one request per connection; log through logging."""

    def log_message(self, format, *args):
        LOG.debug('%s - %s', self.address_string(), format % args)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class Server(object):
    """Serve ``app`` on host:port (port 0: a free port) in a thread."""

    def __init__(self, app, host='127.0.0.1', port=0, name='nova-api'):
        self.name = name
        self._httpd = simple_server.make_server(
            host, port, app, server_class=_Server,
            handler_class=_Handler)
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = None

    @property
    def url(self):
        return server.listen_url(self.host, self.port)

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name=self.name, daemon=True)
        self._thread.start()
        LOG.info('%s listening on %s', self.name, self.url)
        return self

    def serve_forever(self):
        LOG.info('%s listening on %s', self.name, self.url)
        self._httpd.serve_forever()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
