"""os-hypervisors: list, detail, show, statistics, uptime, search, servers.

Each route and field follows Nova's microversion ranges:

* ``/statistics`` and ``/{id}/uptime`` exist up to 2.87; from 2.88 the
  uptime is a field of ``/{id}`` and the resource figures are gone;
* ``/{hostname}/search`` and ``/{hostname}/servers`` exist up to 2.52;
  from 2.53 they are the ``hypervisor_hostname_pattern`` and
  ``with_servers`` query parameters, and ids are UUIDs;
* ``cpu_info`` is a JSON string before 2.28 and an object from it.

Every call is admin-only by default (``os_compute_api:os-hypervisors:*``),
checked before any lookup, so a non-admin gets 403, not 404.
"""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova.api.openstack import wsgi
from nova import exception

attr = common.attr

QUERY_PARAMS = ('hypervisor_hostname_pattern', 'with_servers', 'limit',
                'marker')


class HypervisorNotFound(exception.NovaException):
    msg_fmt = 'Hypervisor with ID %(id)s could not be found.'
    code = 404


class NoHypervisorMatching(exception.NovaException):
    msg_fmt = "No hypervisor matching '%(pattern)s' could be found."
    code = 404


class HostUptimeUnavailable(exception.NovaException):
    msg_fmt = ('Compute service of host %(host)s is unavailable at this '
               'time.')
    code = 400


class HypervisorsController(base.Controller):

    # -- lists ------------------------------------------------------------

    @validation.query_params(QUERY_PARAMS)
    @policy.authorizes(policy.HYPERVISORS % 'list')
    def index(self, req):
        return self._list(req, detail=False)

    @validation.query_params(QUERY_PARAMS)
    @policy.authorizes(policy.HYPERVISORS % 'list-detail')
    def detail(self, req):
        return self._list(req, detail=True)

    def _list(self, req, detail):
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        nodes = list(self.compute_api.list_hypervisors(req.context))
        pattern = req.GET.get('hypervisor_hostname_pattern')
        if pattern:
            nodes = _matching(nodes, pattern)
            if not nodes and req.is_version('2.53'):
                raise NoHypervisorMatching(pattern=pattern)
        body = {}
        if req.is_version('2.33'):
            nodes = self._page(req, nodes)
            limit = common.get_limit(req, self.conf)
            if nodes and len(nodes) == limit and 'limit' in req.GET:
                last = self._id(req, nodes[-1])
                path = ('os-hypervisors', 'detail') if detail \
                    else ('os-hypervisors',)
                body['hypervisors_links'] = [{
                    'rel': 'next',
                    'href': '%s?limit=%d&marker=%s' % (
                        common.link(req, self.conf, *path), limit, last)}]
        with_servers = self._with_servers(req)
        body['hypervisors'] = [
            self._view(req, n, services, detail,
                       self._servers(req, n) if with_servers else None)
            for n in nodes]
        return body

    def _page(self, req, nodes):
        nodes = sorted(nodes, key=lambda n: attr(n, 'id') or 0)
        marker = req.GET.get('marker')
        if marker:
            ids = [str(self._id(req, n)) for n in nodes]
            if marker not in ids:
                raise exception.ValidationError(
                    detail='marker [%s] not found' % marker)
            nodes = nodes[ids.index(marker) + 1:]
        return nodes[:common.get_limit(req, self.conf)]

    @staticmethod
    def _id(req, node):
        return attr(node, 'uuid') if req.is_version('2.53') \
            else attr(node, 'id')

    @staticmethod
    def _with_servers(req):
        if not req.is_version('2.53'):
            return False
        value = req.GET.get('with_servers')
        return value is not None and validation.bool_from_string(value)

    def _servers(self, req, node):
        """[(uuid, name)] of the servers on the node's host."""
        instances = self.compute_api.list_servers(
            req.context, {'host': attr(node, 'host')}) or []
        return [(attr(i, 'uuid'), attr(i, 'name')) for i in instances
                if attr(i, 'host') in (None, attr(node, 'host'))
                and attr(i, 'vm_state') != 'deleted']

    def _view(self, req, node, services, detail, servers=None,
              uptime=None, show=False):
        service = services.get(attr(node, 'host'))
        state = (helpers.service_is_up(service, self.conf.service_down_time)
                 if service is not None else 'down')
        return views.Views(req, self.conf).hypervisor(
            node, service, state, detail, servers=servers, uptime=uptime,
            show=show)

    # -- one hypervisor ----------------------------------------------------

    def _node(self, req, hypervisor_id):
        try:
            node = self.compute_api.get_hypervisor(req.context,
                                                   hypervisor_id)
        except exception.NovaException as exc:
            if getattr(exc, 'code', None) in (400, 404):
                raise HypervisorNotFound(id=hypervisor_id)
            raise
        if node is None:
            raise HypervisorNotFound(id=hypervisor_id)
        return node

    @validation.query_params(('with_servers',))
    @policy.authorizes(policy.HYPERVISORS % 'show')
    def show(self, req, hypervisor_id):
        node = self._node(req, hypervisor_id)
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        servers = self._servers(req, node) if self._with_servers(req) \
            else None
        uptime = None
        if req.is_version('2.88'):
            uptime = self._uptime(req, node, services, quiet=True)
        return {'hypervisor': self._view(req, node, services, True,
                                         servers=servers, uptime=uptime,
                                         show=True)}

    def _uptime(self, req, node, services, quiet):
        """The host's ``uptime`` line; None (quiet) or 400 when the
        compute service cannot say.
        """
        host = attr(node, 'host')
        service = services.get(host)
        up = service is not None and helpers.service_is_up(
            service, self.conf.service_down_time) == 'up'
        if up:
            try:
                return self.compute_api.get_host_uptime(req.context, host)
            except (NotImplementedError, exception.NovaException):
                if not quiet:
                    raise HostUptimeUnavailable(host=host)
                return None
        if quiet:
            return None
        raise HostUptimeUnavailable(host=host)

    @wsgi.versioned(None, '2.87')
    @policy.authorizes(policy.HYPERVISORS % 'uptime')
    def uptime(self, req, hypervisor_id):
        node = self._node(req, hypervisor_id)
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        body = self._view(req, node, services, False)
        body['uptime'] = self._uptime(req, node, services, quiet=False)
        return {'hypervisor': body}

    # -- before 2.88: statistics -------------------------------------------

    @wsgi.versioned(None, '2.87')
    @policy.authorizes(policy.HYPERVISORS % 'statistics')
    def statistics(self, req):
        nodes = list(self.compute_api.list_hypervisors(req.context))
        totals = dict.fromkeys(
            ('vcpus', 'memory_mb', 'local_gb', 'vcpus_used',
             'memory_mb_used', 'local_gb_used', 'free_ram_mb',
             'free_disk_gb', 'current_workload', 'running_vms',
             'disk_available_least'), 0)
        for node in nodes:
            for key, value in views.hypervisor_resources(node).items():
                totals[key] += value or 0
        totals['count'] = len(nodes)
        return {'hypervisor_statistics': totals}

    # -- before 2.53: search and servers by host name -----------------------

    @wsgi.versioned(None, '2.52')
    @policy.authorizes(policy.HYPERVISORS % 'search')
    def search(self, req, hypervisor_hostname):
        nodes = self._by_pattern(req, hypervisor_hostname)
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        return {'hypervisors': [self._view(req, n, services, False)
                                for n in nodes]}

    @wsgi.versioned(None, '2.52')
    @policy.authorizes(policy.HYPERVISORS % 'servers')
    def servers(self, req, hypervisor_hostname):
        nodes = self._by_pattern(req, hypervisor_hostname)
        services = helpers.compute_services_by_host(self.compute_api,
                                                    req.context)
        result = []
        for node in nodes:
            body = self._view(req, node, services, False)
            servers = self._servers(req, node)
            if servers:
                # Nova leaves the key out for a hypervisor without servers.
                body['servers'] = [{'uuid': u, 'name': n}
                                   for u, n in servers]
            result.append(body)
        return {'hypervisors': result}

    def _by_pattern(self, req, pattern):
        nodes = _matching(self.compute_api.list_hypervisors(req.context),
                          pattern)
        if not nodes:
            raise NoHypervisorMatching(pattern=pattern)
        return nodes


def _matching(nodes, pattern):
    """Nodes whose hostname contains ``pattern`` (Nova's SQL LIKE %p%)."""
    return [n for n in nodes
            if pattern in (attr(n, 'hypervisor_hostname') or '')]
