"""nova-compute: one compute service (one host) in its own process.

    nova-compute --config-file /etc/nova/nova.conf [--config-file host.conf]

The host name is ``[DEFAULT] host``, the hypervisor ``[libvirt]
connection_uri``, the database ``[database] connection`` and the message
bus ``[DEFAULT] transport_url`` (``rabbit://...`` between processes: the
default ``fake://`` only reaches services in the same process).
"""

import sys

from oslo_log import log as logging

import nova.conf
from nova import cmd
from nova.compute import service as compute_service
from nova.conf import validation
from nova import exception

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def parse_args(argv, conf=CONF):
    logging.register_options(conf)
    conf(argv, project='nova', prog='nova-compute')
    logging.setup(conf, 'nova')


def main(argv=None):
    parse_args(sys.argv[1:] if argv is None else argv)
    if validation.exit_on_errors(CONF, 'nova-compute', LOG):
        return 1
    if CONF.transport_url.startswith('fake://'):
        LOG.warning('transport_url is fake://: this compute service only '
                    'reaches services in its own process')
    service = compute_service.ComputeService(conf=CONF)
    try:
        service.start()
    except (exception.DatabaseNotSynced, exception.DatabaseUnavailable,
            exception.InvalidConfiguration) as exc:
        LOG.error('%s', exc)
        print('nova-compute: %s' % exc, file=sys.stderr, flush=True)
        return 1
    cmd.wait_for_signal()
    service.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
