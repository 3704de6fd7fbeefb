"""oslo.messaging plumbing: transports, clients, servers, the serializer.

One transport per URL per process: the all-in-one runs several services
on the in-process ``fake://`` driver, whose queues live in the transport
object, so they must share it to reach each other.
"""

import importlib
import threading
import warnings

from oslo_log import log as logging
import oslo_messaging as messaging

from nova import context as nova_context
from nova import exception

LOG = logging.getLogger(__name__)

# [DEFAULT] rpc_connection_retries' default, for clients built without conf.
DEFAULT_RETRIES = 3
# oslo.messaging's rabbit reconnection waits (rabbit_retry_interval,
# rabbit_retry_backoff, rabbit_interval_max defaults), to bound a call.
_RETRY_INTERVAL, _RETRY_BACKOFF, _RETRY_MAX = 1.0, 2.0, 30.0

# oslo.messaging loads oslo.service's eventlet backend, and eventlet warns
# about its own deprecation, although nothing here needs it.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

_TRANSPORTS = {}
_LOCK = threading.Lock()


def register_library_opts(conf):
    """Options oslo.messaging reads from the transport's configuration but
    registers only on the global CONF (tracing and metrics, in recent
    releases): a private ConfigOpts needs them too.
    """
    for module, name in (('oslo_messaging._tracing.client',
                          'oslo_messaging_tracing'),
                         ('oslo_messaging._metrics.client',
                          'oslo_messaging_metrics')):
        try:
            opts = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):  # an older oslo.messaging
            continue
        conf.register_opts(opts, group=name)


def create_transport(conf, url):
    """A new transport of this process's own (not shared)."""
    register_library_opts(conf)
    return messaging.get_rpc_transport(conf, url=url)


def get_transport(conf, url=None):
    """The process-wide RPC transport for ``url`` (conf.transport_url)."""
    url = url or conf.transport_url
    with _LOCK:
        transport = _TRANSPORTS.get(url)
        if transport is None:
            transport = create_transport(conf, url)
            _TRANSPORTS[url] = transport
        return transport


def cleanup():
    """Close every transport this process opened (tests, shutdown)."""
    with _LOCK:
        transports = list(_TRANSPORTS.values())
        _TRANSPORTS.clear()
    for transport in transports:
        cleanup_transport(transport)


def cleanup_transport(transport, deadline=10.0):
    """``transport.cleanup()``, bounded.

    With the broker down, a call's reply queue may still be connecting
    (see ``call_with_deadline``) and holds the lock cleanup waits for: a
    stopping service would hang. After ``deadline`` it stops waiting.
    """
    try:
        call_with_deadline(transport.cleanup, deadline, what='cleanup')
    except messaging.MessagingTimeout:
        LOG.warning('Message bus transport not closed within %.0f s (the '
                    'broker does not answer); leaving it', deadline)


class RequestContextSerializer(messaging.NoOpSerializer):
    """The context crosses the wire as a dict; entities are plain JSON."""

    def serialize_context(self, context):
        return context.to_dict()

    def deserialize_context(self, context):
        return nova_context.RequestContext.from_dict(context)


def get_client(transport, target, version_cap=None):
    return messaging.get_rpc_client(transport, target,
                                    version_cap=version_cap,
                                    serializer=RequestContextSerializer())


def get_server(transport, target, endpoints):
    access_policy = messaging.DefaultRPCAccessPolicy
    return messaging.get_rpc_server(transport, target, endpoints,
                                    serializer=RequestContextSerializer(),
                                    access_policy=access_policy)


# -- bounded calls and casts ----------------------------------------------------

def _bus_errors():
    errors = [messaging.MessageDeliveryFailure, OSError]
    try:
        import kombu.exceptions
        errors.append(kombu.exceptions.KombuError)
    except ImportError:
        pass
    return tuple(errors)


BUS_ERRORS = _bus_errors()


def retry_budget(retries):
    """Seconds oslo.messaging may spend reconnecting for ``retries``."""
    if retries is None or retries < 0:
        return None
    return sum(min(_RETRY_INTERVAL + _RETRY_BACKOFF * i, _RETRY_MAX)
               for i in range(retries))


def call_with_deadline(func, deadline, what='call'):
    """``func()``, but give up after ``deadline`` seconds.

    oslo.messaging's rabbit driver opens the reply queue of a process's
    first call with unbounded reconnection, whatever the call's timeout
    and retry say: with the broker down that call would never return. The
    call runs in a daemon thread; if it outlives the deadline the caller
    gets MessagingTimeout and the thread ends when the broker answers.
    """
    outcome = {}
    done = threading.Event()

    def run():
        try:
            outcome['value'] = func()
        except BaseException as exc:
            outcome['error'] = exc
        finally:
            done.set()

    thread = threading.Thread(target=run, name='rpc-%s' % what, daemon=True)
    thread.start()
    if not done.wait(deadline):
        raise messaging.MessagingTimeout(
            'No answer to %s within %.0f seconds (is the message bus '
            'reachable?)' % (what, deadline))
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']


class BoundedClient(object):
    """A prepared RPC client whose casts and calls cannot hang.

    ``cast`` raises MessagingUnavailable when the bus cannot take the
    message after ``retries`` reconnections; ``call`` raises
    MessagingTimeout after its timeout plus the reconnections' waits (and
    MessagingUnavailable when delivery itself failed).
    """

    def __init__(self, prepared, timeout, retries):
        self._prepared = prepared
        self._timeout = timeout
        self._retries = retries

    def cast(self, ctxt, method, **kwargs):
        try:
            return self._prepared.cast(ctxt, method, **kwargs)
        except BUS_ERRORS as exc:
            LOG.error('Cast %s not delivered: %s', method, exc)
            raise exception.MessagingUnavailable(
                reason='%s: %s' % (type(exc).__name__, exc))

    def call(self, ctxt, method, **kwargs):
        budget = retry_budget(self._retries)
        deadline = None if budget is None else (
            (self._timeout or 60) + budget + 1.0)

        def call():
            return self._prepared.call(ctxt, method, **kwargs)
        try:
            if deadline is None:
                return call()
            return call_with_deadline(call, deadline, what=method)
        except BUS_ERRORS as exc:
            raise exception.MessagingUnavailable(
                reason='%s: %s' % (type(exc).__name__, exc))
