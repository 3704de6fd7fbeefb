"""Configuration options, registered on the global oslo.config object.

Modules import ``nova.conf`` and read ``nova.conf.CONF``; every option is
registered here once, so a module never reads an option nobody registered.
"""

from oslo_config import cfg

from nova.conf import api
from nova.conf import compute
from nova.conf import libvirt

CONF = cfg.CONF

api.register_opts(CONF)
compute.register_opts(CONF)
libvirt.register_opts(CONF)
