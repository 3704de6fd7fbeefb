"""The compute API as a WSGI application for uWSGI, mod_wsgi or gunicorn.

    uwsgi --http-socket 127.0.0.1:8774 --processes 2 --threads 8 \\
        --module nova.wsgi.osapi_compute:application
    gunicorn --bind 127.0.0.1:8774 --workers 2 --threads 8 \\
        nova.wsgi.osapi_compute:application

Configuration files, as for Nova's WSGI applications: ``nova.conf`` in the
directory ``OS_NOVA_CONFIG_DIR`` (default ``/etc/nova``), or the files
named by ``OS_NOVA_CONFIG_FILES`` (``;``-separated, relative to that
directory unless absolute). A file that does not exist is skipped. The
application is built when this module is imported, so a bad configuration
stops the server's start rather than its first request: the option checks
of ``nova-api`` (``nova.conf.validation``: every value read once, and the
checks across options) run first, each problem is logged and written to
stderr on one line, and the import raises ``InvalidConfiguration``. Two of
nova-api's checks do not apply here: ``osapi_compute_listen`` is not used
(the WSGI server binds its own address, so ``noauth2`` only gets its
warning), and the database is not required to answer at that moment (a WSGI
server may load workers while it restarts).
"""

import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

import nova.conf
from nova.api.openstack import app as api_app
from nova.conf import validation
from nova import exception

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

DEFAULT_CONFIG_DIR = '/etc/nova'
DEFAULT_CONFIG_FILES = ('nova.conf',)


def config_files(env=None):
    """The configuration files named by the environment that exist."""
    env = os.environ if env is None else env
    directory = env.get('OS_NOVA_CONFIG_DIR', '').strip() or \
        DEFAULT_CONFIG_DIR
    names = [name.strip() for name in
             env.get('OS_NOVA_CONFIG_FILES', '').split(';') if name.strip()]
    paths = [os.path.join(directory, name)
             for name in names or DEFAULT_CONFIG_FILES]
    return [path for path in paths if os.path.exists(path)]


def init_application(conf=CONF, env=None, err=None):
    """Parse the configuration, set up logging, check the options (raises
    InvalidConfiguration), build the application.
    """
    try:
        logging.register_options(conf)
    except cfg.ArgsAlreadyParsedError:
        pass  # registered by an earlier parse of the same options
    conf([], project='nova', prog='nova-api-wsgi',
         default_config_files=config_files(env), default_config_dirs=[])
    logging.setup(conf, 'nova')
    found = validation.errors(conf)
    err = err or sys.stderr
    for problem in found:
        if conf.log_file:   # on stderr it would say it twice
            LOG.error('Invalid configuration: %s', problem)
        err.write('nova-api-wsgi: invalid configuration: %s\n' % problem)
    err.flush()
    if found:
        raise exception.InvalidConfiguration(reason='; '.join(found))
    validation.warn_insecure(conf, LOG)
    return api_app.build_app(conf)


application = init_application()
