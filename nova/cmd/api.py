"""nova-api: the compute REST API in its own process.

    nova-api --config-file /etc/nova/nova.conf

Listens on ``[DEFAULT] osapi_compute_listen``:``osapi_compute_listen_port``
(8774) in waitress (``nova.wsgi.server``: a bounded worker pool, HTTP/1.1
keep-alive, the timeouts and limits of ``[wsgi]``). External WSGI servers
run ``nova.wsgi.osapi_compute:application`` instead. Authentication is ``[api]
auth_strategy``: ``keystone`` (keystonemiddleware, configured in
``[keystone_authtoken]``) or ``noauth2`` (tokens ``user:project``, with
the identity shim under ``/identity`` so the ``nova`` and ``openstack``
clients can log in). The compute services are reached over ``[DEFAULT]
transport_url`` and the database is ``[database] connection``.
"""

import sys

from oslo_log import log as logging

import nova.conf
from nova import cmd
from nova.api.openstack import app as api_app
from nova.wsgi import server as wsgi_server

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def parse_args(argv, conf=CONF, prog='nova-api'):
    logging.register_options(conf)
    conf(argv, project='nova', prog=prog)
    logging.setup(conf, 'nova')


def serve(app, conf=CONF, name='nova-api', server='waitress'):
    """Start the WSGI server in a thread; returns the running Server.

    ``server='wsgiref'`` runs the standard library's server instead, the
    load benchmark's reference point (``tox -e load``), never production.
    """
    if server == 'wsgiref':
        from nova.wsgi import reference
        LOG.warning('%s: serving with the standard library wsgiref server '
                    '(load benchmark reference; no limits, no timeouts)',
                    name)
        return reference.Server(app, conf.osapi_compute_listen,
                                conf.osapi_compute_listen_port,
                                name=name).start()
    return wsgi_server.Server(app, conf.osapi_compute_listen,
                              conf.osapi_compute_listen_port, name=name,
                              conf=conf).start()


def startup_checks(conf, prog):
    """1 when the configuration or the database cannot work (said on
    stderr, one line each), else 0; warns when noauth2 is on.
    """
    from nova.conf import validation
    from nova.db import api as db_api
    from nova import exception
    if validation.exit_on_errors(conf, prog, LOG, api=True):
        return 1
    try:
        db_api.Database.from_conf(conf).check_connection()
    except exception.DatabaseUnavailable as exc:
        print('%s: %s' % (prog, exc), file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv=None):
    parse_args(sys.argv[1:] if argv is None else argv)
    if startup_checks(CONF, 'nova-api'):
        return 1
    app = api_app.build_app(CONF)
    server = serve(app)
    print('nova-api: compute API at %s/v2.1' % server.url, flush=True)
    cmd.wait_for_signal()
    server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
