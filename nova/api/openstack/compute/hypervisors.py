"""GET /os-hypervisors, /os-hypervisors/detail, /os-hypervisors/{id}."""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova import exception

attr = common.attr

QUERY_PARAMS = ('hypervisor_hostname_pattern',)


class HypervisorNotFound(exception.NovaException):
    msg_fmt = 'Hypervisor with ID %(id)s could not be found.'
    code = 404


class HypervisorsController(base.Controller):

    @validation.query_params(QUERY_PARAMS)
    @policy.authorizes(policy.HYPERVISORS % 'list')
    def index(self, req):
        return {'hypervisors': self._list(req, detail=False)}

    @validation.query_params(QUERY_PARAMS)
    @policy.authorizes(policy.HYPERVISORS % 'list-detail')
    def detail(self, req):
        return {'hypervisors': self._list(req, detail=True)}

    def _list(self, req, detail):
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        match = req.GET.get('hypervisor_hostname_pattern')
        nodes = self.compute_api.list_hypervisors(req.context)
        return [self._view(req, n, services, detail) for n in nodes
                if not match
                or match in (attr(n, 'hypervisor_hostname') or '')]

    def _view(self, req, node, services, detail):
        service = services.get(attr(node, 'host'))
        state = (helpers.service_is_up(service, self.conf.service_down_time)
                 if service is not None else 'down')
        return views.Views(req, self.conf).hypervisor(node, service, state,
                                                      detail)

    @policy.authorizes(policy.HYPERVISORS % 'show')
    def show(self, req, hypervisor_id):
        try:
            node = self.compute_api.get_hypervisor(req.context,
                                                   hypervisor_id)
        except exception.NovaException as exc:
            if getattr(exc, 'code', None) in (400, 404):
                raise HypervisorNotFound(id=hypervisor_id)
            raise
        if node is None:
            raise HypervisorNotFound(id=hypervisor_id)
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        return {'hypervisor': self._view(req, node, services, True)}
