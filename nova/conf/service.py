"""Options every service reads (group ``DEFAULT``)."""

import os
import socket

from oslo_config import cfg

service_opts = [
    cfg.StrOpt(
        'host',
        default=socket.gethostname(),
        sample_default='<current_hostname>',
        help="""
Name of this compute host: the name other services and the API use for it
(``OS-EXT-SRV-ATTR:host``, the ``host`` of ``nova live-migration``) and the
RPC server name it listens on. Must be unique among the compute services.
"""),
    cfg.StrOpt(
        'state_path',
        default=os.environ.get('NOVA_STATE_PATH', '/var/lib/nova'),
        sample_default='$NOVA_STATE_PATH or /var/lib/nova',
        help="""
Directory where the services keep their state; the default database file
(``[database] connection``) lives here. The environment variable
``NOVA_STATE_PATH`` changes the default.
"""),
    cfg.IntOpt(
        'report_interval',
        default=10,
        min=1,
        help="""
Seconds between two heartbeats of a service (``last_seen_up`` in the
services table) and between two refreshes of the compute node record.
"""),
    cfg.IntOpt(
        'service_down_time',
        default=60,
        min=1,
        help="""
Seconds without a heartbeat after which a service counts as down. A down
compute service is not chosen for new servers nor as a live-migration
destination. Must be larger than ``report_interval``.
"""),
]


def register_opts(conf):
    conf.register_opts(service_opts)


def list_opts():
    return {'DEFAULT': service_opts}
