"""A compute service: a ComputeManager behind an RPC server, plus its
heartbeat and resource reports.

Several can run in one process (the all-in-one runs lab-a and lab-b): each
has its own configuration object, built from the process's config files,
its own optional config files and a dict of overrides, so per-host driver
settings (``[libvirt] connection_uri``, ``live_migration_inbound_addr``)
never come from the global CONF alone.
"""

import threading
from typing import Any, List

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import importutils

import nova.conf
from nova.compute import api as compute_api
from nova.compute import manager as compute_manager
from nova.compute import rpcapi as compute_rpcapi
from nova.compute import states
from nova.conf import validation
from nova import context as nova_context
from nova.db import api as db_api
from nova import rpc
from nova import utils

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

# Longest wait for the service's own probe over the message bus (shorter
# when report_interval is).
BUS_PROBE_TIMEOUT = 10
HEALTH_NAMESPACE = 'health'


class HealthEndpoint(object):
    """Answers the heartbeat's probe: the message reached this service
    through the bus and the answer went back.
    """

    target = messaging.Target(namespace=HEALTH_NAMESPACE, version='1.0')

    def ping(self, ctxt):
        return True


def _flatten(overrides):
    """{'host': 'a', 'libvirt': {'x': 1}, 'libvirt.y': 2} ->
    [(None, 'host', 'a'), ('libvirt', 'x', 1), ('libvirt', 'y', 2)].
    """
    items: List[tuple] = []
    for key, value in (overrides or {}).items():
        if isinstance(value, dict):
            group = None if key in ('DEFAULT', None) else key
            items.extend((group, name, v) for name, v in value.items())
        elif '.' in key:
            group, name = key.split('.', 1)
            items.append((None if group == 'DEFAULT' else group, name, value))
        else:
            items.append((None, key, value))
    return items


def build_conf(config_files=None, overrides=None, base=None):
    """A private ConfigOpts with every nova option registered.

    It reads ``base``'s config files (the global CONF's by default), then
    ``config_files``, then applies ``overrides``.
    """
    base = CONF if base is None else base
    files: List[str] = []
    try:
        files.extend(base.config_file or [])
    except (cfg.NoSuchOptError, cfg.NotInitializedError, AttributeError):
        pass
    files.extend(config_files or [])
    conf = cfg.ConfigOpts()
    nova.conf.register_all(conf)
    conf(args=[], project='nova', default_config_files=files)
    for group, name, value in _flatten(overrides):
        conf.set_override(name, value, group=group)
    return conf


class ComputeService(object):
    """ComputeService(host_name, conf=None, overrides=None,
    config_files=None, driver=None, db=None, transport=None).
    """

    binary = states.COMPUTE_BINARY
    topic = states.COMPUTE_TOPIC

    def __init__(self, host_name=None, conf=None, overrides=None,
                 config_files=None, driver=None, db=None, transport=None):
        overrides = dict(overrides or {})
        if host_name:
            overrides['host'] = host_name
        if conf is None or overrides or config_files:
            conf = build_conf(config_files, overrides, base=conf)
        self.conf = conf
        self.host = conf.host
        self._driver = driver
        self._db = db
        self._transport = transport
        self.manager: Any = None
        self.rpc_server = None
        self._stop = threading.Event()
        self._periodic = None
        self._health: Any = None
        # Whether the last probe over the message bus was answered (None:
        # not probed yet).
        self.bus_reachable = None
        self.context = nova_context.get_admin_context()

    @property
    def db(self):
        if self._db is None:
            self._db = db_api.Database.from_conf(self.conf)
        return self._db

    @property
    def transport(self):
        if self._transport is None:
            self._transport = rpc.get_transport(self.conf)
        return self._transport

    def _make_driver(self):
        """The ``compute_driver`` class, loaded by name as Nova does.

        Compute imports no driver module itself.
        """
        return importutils.import_object(
            'nova.virt.' + self.conf.compute_driver, conf=self.conf)

    def start(self):
        """Raises InvalidConfiguration, DatabaseUnavailable or
        DatabaseNotSynced before anything is registered.
        """
        # Every option read now: a bad value must not surface later, in a
        # migration or as a heartbeat thread that dies.
        validation.check(self.conf)
        self.db.check_connection()
        compute_api.check_schema(self.db)
        driver = self._driver or self._make_driver()
        rpcapi = compute_rpcapi.ComputeAPI(
            self.transport, timeout=self.conf.live_migration_rpc_timeout,
            retries=self.conf.rpc_connection_retries)
        self.manager = compute_manager.ComputeManager(
            self.host, driver, self.db, rpcapi, self.conf)
        self.manager.init_host(self.context)
        target = messaging.Target(topic=self.topic, server=self.host)
        self.rpc_server = rpc.get_server(self.transport, target,
                                         [self.manager, HealthEndpoint()])
        # Listening first (with RabbitMQ down this waits, logging each
        # attempt, until the broker answers): a service that cannot
        # receive work must not show "up".
        self.rpc_server.start()
        self._health = rpc.get_client(self.transport, messaging.Target(
            topic=self.topic, server=self.host, namespace=HEALTH_NAMESPACE,
            version='1.0'))
        # Registered (up) only once its node is reported, what a stop left
        # is settled and it listens: an up service can take servers at once.
        record = db_api.service_register(self.db, self.host, self.binary,
                                         self.topic)
        self.manager.service_id = record['id']
        self._stop.clear()
        self._periodic = utils.spawn(self._run_periodic_tasks)
        LOG.info('Compute service %s started (service id %s)', self.host,
                 record['id'])
        return self

    def _run_periodic_tasks(self):
        """The heartbeat thread: it never ends while the service runs.

        Whatever escapes one round is logged and the loop goes on: a silent
        end of this thread used to leave a healthy service "down".
        """
        while not self._stop.is_set():
            try:
                self._periodic_loop()
            except Exception:
                LOG.exception('Heartbeat thread of %s failed; restarting it',
                              self.host)
                self._stop.wait(1.0)

    def _periodic_loop(self):
        while not self._stop.wait(self.conf.report_interval):
            try:
                self.report_state()
            except Exception:
                LOG.exception('Heartbeat of %s failed', self.host)
            try:
                self.manager.periodic_tasks(self.context)
            except Exception:
                LOG.exception('Periodic tasks of %s failed', self.host)

    def _probe_bus(self):
        """True when a message to this service over the bus is answered.

        A service that cannot reach the bus gets no work and cannot answer
        its peers: it must not report itself up (Nova's compute reports
        through the conductor, over the bus, so it cannot either).
        """
        timeout = max(1, min(BUS_PROBE_TIMEOUT, self.conf.report_interval))
        client = self._health.prepare(timeout=timeout, retry=0)
        try:
            return bool(rpc.call_with_deadline(
                lambda: client.call(self.context, 'ping'), timeout + 1.0,
                what='ping'))
        except Exception as exc:
            return exc

    def report_state(self):
        """Heartbeat (``last_seen_up``), only while the bus carries our
        messages; returns whether it beat.
        """
        if self.manager is None or self.manager.service_id is None:
            return False
        answer = self._probe_bus() if self._health is not None else True
        if answer is not True:
            if self.bus_reachable is not False:
                LOG.error('Compute service %s cannot reach the message bus '
                          '(%s): it stops reporting itself up and shows '
                          '"down" after service_down_time (%s s)',
                          self.host, answer, self.conf.service_down_time)
            self.bus_reachable = False
            return False
        if self.bus_reachable is False:
            LOG.info('Compute service %s reaches the message bus again',
                     self.host)
        self.bus_reachable = True
        db_api.service_heartbeat(self.db, self.manager.service_id)
        return True

    def stop(self):
        """Stop serving; migrations already handed to the driver go on in
        their threads (a stopping process ends them with it).
        """
        self._stop.set()
        if self.manager is not None:
            self.manager.cleanup_host()
        if self.rpc_server is not None:
            self.rpc_server.stop()
            self.rpc_server.wait()
            self.rpc_server = None
        if self._periodic is not None:
            try:
                self._periodic.wait(timeout=5)
            except Exception:
                LOG.warning('Periodic task thread of %s did not stop',
                            self.host)
            self._periodic = None
        LOG.info('Compute service %s stopped', self.host)

    def wait(self):
        """Block until stop() (the nova-compute console script)."""
        while not self._stop.wait(1.0):
            pass
