"""Options of the API's HTTP server (nova-api, nova-all) and body limit."""

from oslo_config import cfg
from oslo_middleware import sizelimit

wsgi_group = cfg.OptGroup(
    'wsgi', title='WSGI server options',
    help='The HTTP server that nova-api and nova-all run the compute API '
         'in (waitress). Under uWSGI, mod_wsgi or gunicorn '
         '(nova.wsgi.osapi_compute:application) that server\'s own '
         'settings apply instead.')

wsgi_opts = [
    cfg.IntOpt(
        'threads',
        default=8,
        min=1,
        help="""
Worker threads running API requests: at most this many requests are in the
application at once, the others wait their turn in the server. Connections,
idle keep-alive ones and those still sending their request hold no thread.
"""),
    cfg.IntOpt(
        'connection_limit',
        default=1000,
        min=1,
        help="""
Most open client connections. Past it the server stops accepting until one
closes (new connections wait in the listen backlog).
"""),
    cfg.IntOpt(
        'listen_backlog',
        default=1024,
        min=1,
        help="""
Length of the listen queue: connections the kernel holds before the server
accepts them (capped by net.core.somaxconn). Too short a queue resets
clients arriving in a burst.
"""),
    cfg.IntOpt(
        'client_socket_timeout',
        default=60,
        min=1,
        help="""
Seconds a client connection may stay silent (an idle keep-alive connection,
or one that stopped sending) before the server closes it.
"""),
    cfg.IntOpt(
        'request_read_timeout',
        default=30,
        min=1,
        help="""
Seconds a client has to send a whole request (request line, headers and
body) once it sent its first byte. A client that trickles its headers or
announces a longer body than it sends is disconnected after this.
"""),
    cfg.IntOpt(
        'max_header_size',
        default=65536,
        min=1024,
        help="""
Largest request head (request line and headers) in bytes; a larger one is
answered 431.
"""),
]

MIDDLEWARE_GROUP = 'oslo_middleware'


def register_opts(conf):
    group = cfg.OptGroup(wsgi_group.name, title=wsgi_group.title,
                         help=wsgi_group.help)
    conf.register_group(group)
    conf.register_opts(wsgi_opts, group=group)
    # The option of oslo.middleware's sizelimit filter, as in Nova: the
    # same name, group and default (114688 bytes, 112 KiB).
    conf.register_opts(sizelimit.OPTS, group=MIDDLEWARE_GROUP)


def list_opts():
    return {wsgi_group.name: wsgi_opts, MIDDLEWARE_GROUP: sizelimit.OPTS}
