"""GET /os-services."""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation

attr = common.attr


class ServicesController(base.Controller):

    @validation.query_params(('host', 'binary'))
    @policy.authorizes(policy.SERVICES_LIST)
    def index(self, req):
        services = self.compute_api.list_services(req.context)
        host = req.GET.get('host')
        binary = req.GET.get('binary')
        v = views.Views(req, self.conf)
        down_time = self.conf.service_down_time
        return {'services': [
            v.service(s, helpers.service_is_up(s, down_time))
            for s in services
            if (not host or attr(s, 'host') == host)
            and (not binary or attr(s, 'binary') == binary)]}
