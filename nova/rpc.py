"""oslo.messaging plumbing: transports, clients, servers, the serializer.

One transport per URL per process: the all-in-one runs several services
on the in-process ``fake://`` driver, whose queues live in the transport
object, so they must share it to reach each other.
"""

import importlib
import threading
import warnings

import oslo_messaging as messaging

from nova import context as nova_context

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
        transport.cleanup()


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
