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
]


def register_opts(conf):
    conf.register_opts(messaging_transport._transport_opts)
    conf.set_default('transport_url', DEFAULT_TRANSPORT_URL)
    conf.register_opts(rpc_opts)


def list_opts():
    return {'DEFAULT': rpc_opts}
