"""Entry point of oslo-config-generator and the Sphinx config reference.

``list_opts`` returns every option group with its options, so the generated
sample and the documentation can never miss an option that the code reads.
"""

import collections

from nova.conf import api
from nova.conf import compute
from nova.conf import database
from nova.conf import libvirt
from nova.conf import rpc
from nova.conf import service
from nova.conf import wsgi

_MODULES = (api, compute, database, libvirt, rpc, service, wsgi)


def list_opts():
    by_group = collections.OrderedDict()
    for module in _MODULES:
        for group, opts in module.list_opts().items():
            by_group.setdefault(group, []).extend(opts)
    return [(group, opts) for group, opts in by_group.items()]
