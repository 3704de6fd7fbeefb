"""Configuration options, registered on the global oslo.config object.

Modules import ``nova.conf`` and read ``nova.conf.CONF``; every option is
registered here once, so a module never reads an option nobody registered.
``register_all`` does the same for a private ``ConfigOpts`` (a compute
service with its own settings inside an all-in-one process).
"""

from oslo_config import cfg

from nova.conf import api
from nova.conf import compute
from nova.conf import database
from nova.conf import libvirt
from nova.conf import rpc
from nova.conf import service
from nova.conf import wsgi

CONF = cfg.CONF

_MODULES = (api, compute, database, libvirt, rpc, service, wsgi)


def register_all(conf):
    for module in _MODULES:
        module.register_opts(conf)


register_all(CONF)
