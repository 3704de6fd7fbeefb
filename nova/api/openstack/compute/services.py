"""GET /os-services; PUT /os-services/... (enable, disable, force down).

Operators drain a host with ``nova service-disable``: from 2.53 that is
``PUT /os-services/{service_uuid}`` with ``status``, ``disabled_reason``
and ``forced_down``; before it ``PUT /os-services/enable``, ``/disable``,
``/disable-log-reason`` and (2.11) ``/force-down`` with the host and
binary in the body. The scheduler skips a disabled host; its servers stay.
"""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute.schemas import services as schema
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova.api.openstack import wsgi
from nova import exception

attr = common.attr

COMPUTE_BINARY = 'nova-compute'
LEGACY_ACTIONS = ('enable', 'disable', 'disable-log-reason', 'force-down')


class ServiceNotFound(exception.NovaException):
    msg_fmt = 'Service %(service_id)s could not be found.'
    code = 404


class HostBinaryNotFound(exception.NovaException):
    msg_fmt = 'Compute host %(host)s could not be found.'
    code = 404


class UnknownAction(exception.NovaException):
    msg_fmt = 'Unknown action'
    code = 404


class ServicesController(base.Controller):

    @validation.query_params(('host', 'binary'))
    @policy.authorizes(policy.SERVICES_LIST)
    def index(self, req):
        services = self.compute_api.list_services(req.context)
        host = req.GET.get('host')
        binary = req.GET.get('binary')
        v = views.Views(req, self.conf)
        return {'services': [
            self._view(v, s) for s in services
            if (not host or attr(s, 'host') == host)
            and (not binary or attr(s, 'binary') == binary)]}

    def _view(self, v, service):
        return v.service(service, helpers.service_is_up(
            service, self.conf.service_down_time))

    # -- from 2.53: by service UUID ----------------------------------------

    @wsgi.versioned('2.53')
    @policy.authorizes(policy.SERVICES_UPDATE)
    @validation.schema(schema.service_update_v2_53)
    def update(self, req, service_id, body):
        status = body.get('status')
        reason = body.get('disabled_reason')
        forced_down = body.get('forced_down')
        if reason is not None and status != 'disabled':
            raise exception.ValidationError(
                detail="Specifying 'disabled_reason' with status '%s' is "
                       "invalid." % status)
        if status is None and forced_down is None:
            raise exception.ValidationError(
                detail='At least one of status or forced_down must be '
                       'specified.')
        service = self._by_uuid(req, service_id)
        if attr(service, 'binary') != COMPUTE_BINARY:
            raise exception.ValidationError(
                detail='Updating a %s service is not supported. Only '
                       'nova-compute services can be updated.'
                       % attr(service, 'binary'))
        updated = self.compute_api.update_service(
            req.context, attr(service, 'id'), status=status,
            disabled_reason=reason, forced_down=forced_down)
        return {'service': self._view(views.Views(req, self.conf),
                                      updated)}

    def _by_uuid(self, req, service_id):
        for service in self.compute_api.list_services(req.context):
            if service_id == helpers.service_uuid(service):
                return service
        raise ServiceNotFound(service_id=service_id)

    # -- before 2.53: by host and binary -----------------------------------

    @wsgi.versioned(None, '2.52')
    @policy.authorizes(policy.SERVICES_UPDATE)
    def update_legacy(self, req, service_id, body):
        action = service_id
        if action not in LEGACY_ACTIONS or (
                action == 'force-down' and not req.is_version('2.11')):
            raise UnknownAction()
        if action == 'force-down':
            validation.validate(body, schema.service_force_down)
        else:
            validation.validate(body, schema.service_update)
        host, binary = body['host'], body['binary']
        matches = [s for s in self.compute_api.list_services(req.context)
                   if attr(s, 'host') == host
                   and attr(s, 'binary') == binary]
        if not matches:
            raise HostBinaryNotFound(host=host)
        service_id = attr(matches[0], 'id')
        result = {'host': host, 'binary': binary}
        if action == 'force-down':
            self.compute_api.update_service(
                req.context, service_id, forced_down=body['forced_down'])
            result['forced_down'] = body['forced_down']
            return {'service': result}
        status = 'enabled' if action == 'enable' else 'disabled'
        reason = body.get('disabled_reason') if action == \
            'disable-log-reason' else None
        if action == 'disable-log-reason' and not reason:
            raise exception.ValidationError(
                detail='Missing disabled reason field')
        self.compute_api.update_service(req.context, service_id,
                                        status=status,
                                        disabled_reason=reason)
        result['status'] = status
        if reason:
            result['disabled_reason'] = reason
        return {'service': result}
