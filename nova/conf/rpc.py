"""Messaging options (group ``DEFAULT``).

``transport_url`` itself belongs to oslo.messaging; it is registered here so
that its default is the in-process ``fake://`` transport of the all-in-one.
"""

import warnings

from oslo_config import cfg

with warnings.catch_warnings():
    # oslo.messaging imports oslo.service, which imports eventlet, which
    # warns about its own deprecation although nothing here uses it.
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
    from oslo_messaging import transport as messaging_transport

DEFAULT_TRANSPORT_URL = 'fake://'

rpc_opts = [
    cfg.IntOpt(
        'live_migration_rpc_timeout',
        default=60,
        min=1,
        help="""
Seconds the source compute service waits for the destination's answer to
``pre_live_migration`` and ``post_live_migration_at_destination``. When the
destination does not answer in time the migration ends in ``error`` (before
the copy starts) and the guest stays where it runs.
"""),
    cfg.IntOpt(
        'rpc_connection_retries',
        default=3,
        min=0,
        help="""
How many times a message to a compute service (a cast such as a server's
build, delete or live migration, or a call) tries again to reach the message
bus before it fails.

oslo.messaging retries forever by default, so an API request would hang as
long as RabbitMQ is down. With a bound the request fails instead: the API
answers 503 and undoes what it had recorded (the new server goes to
``ERROR`` with a fault, a live migration's record to ``error``). The waits
between attempts follow ``[oslo_messaging_rabbit] rabbit_retry_interval``
and ``rabbit_retry_backoff``: with their defaults (1 s, then 2 s more per
attempt), 3 retries give up after about 9 seconds.

Possible values:

* 0: fail at the first refused connection.
* A positive integer: that many more attempts.
"""),
]


def register_opts(conf):
    conf.register_opts(messaging_transport._transport_opts)
    conf.set_default('transport_url', DEFAULT_TRANSPORT_URL)
    conf.register_opts(rpc_opts)


def list_opts():
    return {'DEFAULT': rpc_opts}
