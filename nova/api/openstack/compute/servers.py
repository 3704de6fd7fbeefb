"""/servers: create, list, detail, show, delete; the os-migrateLive action."""

import datetime
import re
import secrets

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute.schemas import migrate_server as ms_schema
from nova.api.openstack.compute.schemas import servers as schema
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova.api.openstack import wsgi
from nova import exception
from nova import hostnames

attr = common.attr

# Query parameters GET /servers[/detail] knows; from 2.75 others are a 400.
QUERY_PARAMS = (
    'all_tenants', 'name', 'status', 'host', 'node', 'hostname',
    'changes-since', 'changes-before', 'limit', 'marker', 'sort_key',
    'sort_dir', 'image', 'flavor', 'ip', 'ip6', 'project_id', 'tenant_id',
    'user_id', 'deleted', 'uuid', 'availability_zone', 'reservation_id',
    'launch_index', 'description', 'locked', 'tags', 'tags-any', 'not-tags',
    'not-tags-any', 'vm_state', 'task_state', 'power_state', 'progress',
    'key_name', 'config_drive', 'access_ip_v4', 'access_ip_v6',
    'created_at', 'launched_at', 'terminated_at', 'kernel_id', 'ramdisk_id',
    'root_device_name', 'auto_disk_config', 'display_name',
    'display_description', 'locked_by', 'instance_type_id',
    'pinned_availability_zone',
    'soft_deleted', 'block_device_mapping', 'security_groups',
    'metadata', 'system_metadata', 'image_ref', 'info_cache', 'flavor_id',
)


def _image_from_bdms(bdms, image_id):
    """The image of a trivial block device mapping, or a 400.

    openstackclient sends the boot image both as imageRef and as a single
    image->local mapping with boot_index 0; that is all this service can
    boot (a kernel+initrd image, no volumes).
    """
    for bdm in bdms or ():
        trivial = (bdm.get('source_type') == 'image'
                   and bdm.get('destination_type', 'local') == 'local'
                   and str(bdm.get('boot_index')) == '0'
                   and not bdm.get('volume_size'))
        if not trivial or (image_id and bdm.get('uuid') != image_id):
            raise exception.ValidationError(
                detail='Block device mappings other than the boot image '
                       'itself (source_type image, destination_type local, '
                       'boot_index 0) are not supported: this compute '
                       'service boots kernel+initrd images without '
                       'volumes.')
        image_id = image_id or bdm.get('uuid')
    return image_id


# Servers one create request may make: this service has no quotas, and a
# max_count of a billion would otherwise loop a billion times.
MAX_SERVERS_PER_REQUEST = 10


class TooManyInstances(exception.NovaException):
    msg_fmt = ('Quota exceeded for instances: Requested %(requested)s, but '
               'at most %(allowed)s servers are created by one request.')
    code = 403


def _server_count(min_count, max_count):
    """How many servers a create makes, as Nova decides it under quota.

    ``max_count`` defaults to ``min_count``; as many as allowed up to
    ``max_count`` are made, and a ``min_count`` above what is allowed is
    a 403 (Nova's TooManyInstances). The schema has checked both are
    positive integers or strings of digits.
    """
    counts = {'min_count': min_count}
    if max_count is not None:
        counts['max_count'] = max_count
    for name, value in sorted(counts.items()):
        # The schema's minimum covers integers only: "0" or "000" pass it.
        if int(value) < 1:
            raise exception.ValidationError(
                detail='Invalid input for field/attribute %s. Value: %s. '
                       '%s is less than the minimum of 1'
                       % (name, value, int(value)))
    min_count = int(min_count)
    max_count = min_count if max_count is None else int(max_count)
    if min_count > max_count:
        raise exception.ValidationError(
            detail="min_count must be <= max_count")
    if min_count > MAX_SERVERS_PER_REQUEST:
        raise TooManyInstances(requested=min_count,
                               allowed=MAX_SERVERS_PER_REQUEST)
    return min(max_count, MAX_SERVERS_PER_REQUEST)


# Filters an admin (any caller from 2.83) may list servers by: query
# parameter -> how an instance's value is compared.
STATE_FILTERS = ('vm_state', 'task_state', 'power_state', 'user_id',
                 'progress', 'availability_zone')


def _matches_state_filters(params, instance, allowed):
    """True unless an allowed state filter excludes ``instance``.

    Several values of one filter (``?vm_state=active&vm_state=paused``)
    match any of them, as in Nova.
    """
    if not allowed:
        return True
    for key in STATE_FILTERS:
        wanted = [v for v in params.getall(key) if v != '']
        if not wanted:
            continue
        if key == 'power_state':
            value = str(views.power_state_number(attr(instance, key)))
        elif key == 'availability_zone':
            value = attr(instance, key, None) or 'nova'
        else:
            value = attr(instance, key)
            value = '' if value is None else str(value)
        if value not in wanted:
            return False
    return True


def _created(instance):
    created = common._naive_utc(common._to_datetime(
        attr(instance, 'created_at')))
    return created or datetime.datetime.min


class ServersController(base.Controller):

    # -- list ------------------------------------------------------------------

    @validation.query_schema(QUERY_PARAMS, min_version='2.75')
    def index(self, req):
        self.authorize(req, policy.SERVERS % 'index')
        instances = self._list(req, 'index')
        v = views.Views(req, self.conf)
        return self._paged(req, v, [v.server_brief(i) for i in instances],
                           instances)

    @validation.query_schema(QUERY_PARAMS, min_version='2.75')
    def detail(self, req):
        self.authorize(req, policy.SERVERS % 'detail')
        instances = self._list(req, 'detail')
        v = views.Views(req, self.conf)
        flavors = self._flavors(req.context)
        show_host_status = self._may_see_host_status(req)
        services = (helpers.compute_services_by_host(
            self.compute_api, req.context) if show_host_status else {})
        servers = []
        for inst in instances:
            status = (self._host_status(inst, services)
                      if show_host_status else None)
            servers.append(v.server(
                inst, flavors.get(str(attr(inst, 'flavor_id'))), status))
        return self._paged(req, v, servers, instances)

    def _paged(self, req, v, servers, instances):
        body = {'servers': servers}
        limit = common.get_limit(req, self.conf)
        if instances and len(instances) == limit and 'limit' in req.GET:
            last = attr(instances[-1], 'uuid')
            body['servers_links'] = [{
                'rel': 'next',
                'href': '%s?limit=%d&marker=%s' % (
                    common.link(req, self.conf, 'servers'), limit, last)}]
        return body

    def _list(self, req, kind):
        ctx = req.context
        params = req.GET
        all_tenants = params.get('all_tenants')
        all_projects = False
        if all_tenants is not None and (
                all_tenants == '' or validation.bool_from_string(
                    all_tenants)):
            self.authorize(req, policy.SERVERS % ('%s:get_all_tenants'
                                                  % kind))
            all_projects = True
        asked_project = params.get('project_id') or params.get('tenant_id')
        if all_projects:
            # project_id/tenant_id narrow all_tenants down to one project;
            # without all_tenants Nova ignores them (lp:1185290).
            project = asked_project or None
        else:
            project = ctx.project_id
        instances = list(self.compute_api.list_servers(ctx, None) or [])
        # 2.83 lets every caller filter by these; before, only admins.
        filters_allowed = ctx.is_admin or req.is_version('2.83')
        selected = []
        name_re = None
        if params.get('name'):
            try:
                name_re = re.compile(params['name'])
            except re.error:
                name_re = re.compile(re.escape(params['name']))
        statuses = [s.upper() for s in params.getall('status')]
        since = (common.parse_time_param('changes-since',
                                         params['changes-since'])
                 if params.get('changes-since') else None)
        before = (common.parse_time_param('changes-before',
                                          params['changes-before'])
                  if params.get('changes-before') else None)
        for inst in instances:
            owner = attr(inst, 'project_id')
            if project is not None and owner is not None \
                    and owner != project:
                continue
            if name_re and not name_re.search(attr(inst, 'name') or ''):
                continue
            if statuses and views.server_status(
                    attr(inst, 'vm_state'),
                    attr(inst, 'task_state')) not in statuses:
                continue
            if ctx.is_admin and params.get('host') and \
                    attr(inst, 'host') != params['host']:
                continue
            if ctx.is_admin and params.get('node') and \
                    attr(inst, 'node') != params['node']:
                continue
            if params.get('flavor') and \
                    str(attr(inst, 'flavor_id')) != params['flavor']:
                continue
            if params.get('image') and \
                    attr(inst, 'image_ref') != params['image']:
                continue
            if not _matches_state_filters(params, inst, filters_allowed):
                continue
            updated = common._naive_utc(common._to_datetime(
                attr(inst, 'updated_at') or attr(inst, 'created_at')))
            if since and (updated is None or updated < since):
                continue
            if before and (updated is None or updated > before):
                continue
            if not since and not before and attr(
                    inst, 'vm_state') == 'deleted':
                continue
            selected.append(inst)
        selected.sort(key=_created, reverse=True)
        marker = params.get('marker')
        if marker:
            ids = [attr(i, 'uuid') for i in selected]
            if marker not in ids:
                raise exception.ValidationError(
                    detail='marker [%s] not found' % marker)
            selected = selected[ids.index(marker) + 1:]
        return selected[:common.get_limit(req, self.conf)]

    def _flavors(self, ctx):
        try:
            return {views.flavor_values(f)['id']: f
                    for f in self.compute_api.list_flavors(ctx)}
        except Exception:
            return {}

    def _may_see_host_status(self, req):
        return req.is_version('2.16') and policy.authorize(
            req.context, policy.SERVERS % 'show:host_status', fatal=False)

    def _host_status(self, inst, services):
        if not attr(inst, 'host'):
            return ''
        return helpers.host_status(services.get(attr(inst, 'host')),
                                   self.conf.service_down_time)

    # -- show ------------------------------------------------------------------

    def show(self, req, server_id):
        instance = helpers.get_instance(self.compute_api, req.context,
                                        server_id)
        self.authorize(req, policy.SERVERS % 'show',
                       {'project_id': attr(instance, 'project_id')
                        or req.context.project_id})
        return {'server': self._view_one(req, instance)}

    def _view_one(self, req, instance):
        flavor = self._flavors(req.context).get(
            str(attr(instance, 'flavor_id')))
        status = None
        if self._may_see_host_status(req):
            status = self._host_status(
                instance, helpers.compute_services_by_host(
                    self.compute_api, req.context))
        return views.Views(req, self.conf).server(instance, flavor, status,
                                                  show=True)

    # -- create ------------------------------------------------------------------

    @wsgi.response(202)
    @validation.schema(schema.base_create, '2.1', '2.18')
    @validation.schema(schema.create_v219, '2.19', '2.36')
    @validation.schema(schema.create_v237, '2.37', '2.51')
    @validation.schema(schema.create_v252, '2.52', '2.62')
    @validation.schema(schema.create_v263, '2.63', '2.73')
    @validation.schema(schema.create_v274, '2.74', '2.89')
    @validation.schema(schema.create_v290, '2.90', '2.93')
    @validation.schema(schema.create_v294, '2.94')
    def create(self, req, body):
        ctx = req.context
        self.authorize(req, policy.SERVERS % 'create')
        server = body['server']
        host, node = self._requested_host(req, server)
        flavor_id = str(server['flavorRef']).rstrip('/').rsplit('/', 1)[-1]
        image_id = (server.get('imageRef') or '').rstrip('/')
        image_id = image_id.rsplit('/', 1)[-1]
        image_id = _image_from_bdms(server.get('block_device_mapping_v2'),
                                    image_id)
        if not image_id:
            raise exception.ValidationError(
                detail='Missing imageRef attribute: this compute service '
                       'boots kernel+initrd images only, not volumes.')
        count = _server_count(server.get('min_count', 1),
                              server.get('max_count'))
        hostname = server.get('hostname')
        if hostname and count > 1:
            raise exception.ValidationError(
                detail='Cannot use the hostname property when creating '
                       'more than one server.')
        zone = (server.get('availability_zone') or '').partition(':')[0]
        created = []
        for index in range(count):
            name = server['name'] if count == 1 else '%s-%d' % (
                server['name'], index + 1)
            try:
                instance = self.compute_api.create_server(
                    ctx, name, flavor_id, image_id,
                    metadata=server.get('metadata'), host=host,
                    hostname=hostname, availability_zone=zone or None)
            except exception.NovaException as exc:
                if getattr(exc, 'code', None) == 404:
                    # Unknown flavor or image in a request body: 400.
                    exc.code = 400
                raise
            created.append(instance)
        instance = created[0]
        uuid = attr(instance, 'uuid')
        v = views.Views(req, self.conf)
        body = {'server': {
            'id': uuid,
            'links': v.links('servers', uuid),
            'OS-DCF:diskConfig': 'MANUAL',
            'security_groups': [{'name': 'default'}],
            'adminPass': secrets.token_urlsafe(9),
        }}
        resp = wsgi.json_response(body, status=202, headers=[
            ('Location', common.link(req, self.conf, 'servers', uuid))])
        return resp

    def _requested_host(self, req, server):
        host = node = None
        zone = server.get('availability_zone')
        if zone and ':' in zone:
            _zone, _sep, rest = zone.partition(':')
            host, _sep, node = rest.partition(':')
            host = host or None
            node = node or None
        if req.is_version('2.74'):
            host = server.get('host') or host
            node = server.get('hypervisor_hostname') or node
        for value in (host, node):
            problem = value and hostnames.hostname_problem(value)
            if problem:
                raise exception.ValidationError(
                    detail='Invalid input for field/attribute '
                           'availability_zone. Value: %s. %r is not a '
                           'valid host name: %s' % (zone, value, problem))
        if (host or node):
            self.authorize(req, policy.SERVERS % 'create:forced_host')
        if node and not host:
            host = node
        return host, node

    # -- delete ------------------------------------------------------------------

    @wsgi.response(204)
    def delete(self, req, server_id):
        instance = helpers.get_instance(self.compute_api, req.context,
                                        server_id)
        self.authorize(req, policy.SERVERS % 'delete',
                       {'project_id': attr(instance, 'project_id')
                        or req.context.project_id})
        self.compute_api.delete_server(req.context, server_id)
        return wsgi.json_response(None, status=204)

    # -- os-migrateLive ------------------------------------------------------

    @wsgi.response(202)
    @policy.authorizes(policy.MIGRATE_LIVE)
    @validation.schema(ms_schema.migrate_live, '2.1', '2.24')
    @validation.schema(ms_schema.migrate_live_v2_25, '2.25', '2.29')
    @validation.schema(ms_schema.migrate_live_v2_30, '2.30', '2.67')
    @validation.schema(ms_schema.migrate_live_v2_68, '2.68')
    def migrate_live(self, req, server_id, body):
        ctx = req.context
        args = body['os-migrateLive']
        host = args.get('host')
        block_migration = args['block_migration']
        if req.is_version('2.25') and block_migration == 'auto':
            block_migration = 'auto'
        else:
            block_migration = validation.bool_from_string(block_migration)
        helpers.get_instance(self.compute_api, ctx, server_id)
        try:
            self.compute_api.live_migrate(ctx, server_id, host=host,
                                          block_migration=block_migration)
        except exception.NovaException as exc:
            if type(exc).__name__ == 'InstanceInvalidState':
                helpers.reraise_invalid_state(exc, 'os-migrateLive',
                                              server_id)
            raise
        return wsgi.json_response(None, status=202)

    # -- pause, unpause, suspend, resume ---------------------------------

    def _power_action(self, req, server_id, action, rule):
        """Run a compute API power action on a server: 202, or 409 when
        the server's state does not allow it.
        """
        instance = helpers.get_instance(self.compute_api, req.context,
                                        server_id)
        self.authorize(req, rule, {'project_id': attr(instance, 'project_id')
                                   or req.context.project_id})
        try:
            getattr(self.compute_api, action)(req.context, server_id)
        except exception.NovaException as exc:
            if type(exc).__name__ == 'InstanceInvalidState':
                helpers.reraise_invalid_state(exc, action, server_id)
            raise
        return wsgi.json_response(None, status=202)

    @wsgi.response(202)
    @validation.schema(schema.pause)
    def pause(self, req, server_id, body):
        return self._power_action(req, server_id, 'pause',
                                  policy.PAUSE % 'pause')

    @wsgi.response(202)
    @validation.schema(schema.unpause)
    def unpause(self, req, server_id, body):
        return self._power_action(req, server_id, 'unpause',
                                  policy.PAUSE % 'unpause')

    @wsgi.response(202)
    @validation.schema(schema.suspend)
    def suspend(self, req, server_id, body):
        return self._power_action(req, server_id, 'suspend',
                                  policy.SUSPEND % 'suspend')

    @wsgi.response(202)
    @validation.schema(schema.resume)
    def resume(self, req, server_id, body):
        return self._power_action(req, server_id, 'resume',
                                  policy.SUSPEND % 'resume')

    # -- os-resetState ---------------------------------------------------

    @wsgi.response(202)
    @policy.authorizes(policy.RESET_STATE)
    @validation.schema(schema.reset_state)
    def reset_state(self, req, server_id, body):
        """Set vm_state to active or error and clear the task state."""
        helpers.get_instance(self.compute_api, req.context, server_id)
        self.compute_api.reset_state(req.context, server_id,
                                     body['os-resetState']['state'])
        return wsgi.json_response(None, status=202)
