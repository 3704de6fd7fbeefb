"""Lookups shared by controllers: instances, service state."""

import datetime
import uuid as uuid_lib

from nova.api.openstack import common
from nova import exception

attr = common.attr


class ServerNotFound(exception.NovaException):
    msg_fmt = 'Instance %(instance_id)s could not be found.'
    code = 404


def get_instance(compute_api, context, server_id):
    """The instance, 404 when missing or owned by another project."""
    instance = compute_api.get_server(context, server_id)
    if instance is None:
        raise ServerNotFound(instance_id=server_id)
    owner = attr(instance, 'project_id')
    if (not context.is_admin and owner is not None
            and owner != context.project_id):
        raise ServerNotFound(instance_id=server_id)
    return instance


def _now():
    return datetime.datetime.utcnow()


def service_is_up(service, down_time):
    """'up' or 'down' from the service's own answer or its heartbeat."""
    state = attr(service, 'state', None)
    if state in ('up', 'down'):
        return state
    is_up = attr(service, 'is_up', None)
    if callable(is_up):
        try:
            is_up = is_up()
        except TypeError:
            is_up = None
    if isinstance(is_up, bool):
        return 'up' if is_up else 'down'
    if attr(service, 'forced_down', False):
        return 'down'
    seen = attr(service, 'last_seen_up', None) or attr(service, 'updated_at')
    seen = common._naive_utc(common._to_datetime(seen))
    if seen is None:
        return 'down'
    elapsed = (_now() - seen).total_seconds()
    return 'up' if elapsed <= down_time else 'down'


def service_uuid(service):
    """The service's UUID (2.53+ ids).

    A stable one derived from host and binary when the record has none.
    """
    value = attr(service, 'uuid', None)
    if value:
        return value
    return str(uuid_lib.uuid5(uuid_lib.NAMESPACE_URL, 'nova-service:%s:%s' % (
        attr(service, 'host'), attr(service, 'binary'))))


def compute_services_by_host(compute_api, context):
    try:
        services = compute_api.list_services(context)
    except Exception:  # host_status is best effort
        return {}
    return {attr(s, 'host'): s for s in services
            if attr(s, 'binary') in (None, 'nova-compute')}


def host_status(service, down_time):
    if service is None:
        return 'UNKNOWN'
    if service_is_up(service, down_time) == 'down':
        return 'DOWN'
    if attr(service, 'disabled', False):
        return 'MAINTENANCE'
    return 'UP'


def reraise_invalid_state(exc, action, server_id):
    """InstanceInvalidState -> Nova's 409 'Cannot ... while it is in ...'."""
    kwargs = getattr(exc, 'kwargs', None) or {}
    if 'attr' in kwargs and 'state' in kwargs:
        exc.message = ("Cannot '%s' instance %s while it is in %s %s"
                       % (action, server_id, kwargs['attr'],
                          kwargs['state']))
    raise exc
