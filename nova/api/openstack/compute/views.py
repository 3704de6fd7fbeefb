"""Response bodies: servers, migrations, flavors, services, hypervisors."""

import hashlib
import json

from nova.api.openstack import common
from nova.api.openstack.compute import helpers
from nova.api.openstack import policy
from nova.compute import power_state
from nova.objects import fields

attr = common.attr

# (vm_state, task_state) -> API status
_STATUS = {
    'active': {'default': 'ACTIVE', 'migrating': 'MIGRATING',
               'rebooting': 'REBOOT', 'reboot_pending': 'REBOOT',
               'reboot_started': 'REBOOT', 'rebooting_hard': 'HARD_REBOOT',
               'rebuilding': 'REBUILD', 'resize_prep': 'RESIZE',
               'resize_migrating': 'RESIZE', 'resize_migrated': 'RESIZE',
               'resize_finish': 'RESIZE', 'deleting': 'ACTIVE'},
    'building': {'default': 'BUILD'},
    'stopped': {'default': 'SHUTOFF', 'migrating': 'MIGRATING'},
    'paused': {'default': 'PAUSED', 'migrating': 'MIGRATING'},
    'suspended': {'default': 'SUSPENDED'},
    'rescued': {'default': 'RESCUE'},
    'resized': {'default': 'VERIFY_RESIZE'},
    'soft-delete': {'default': 'SOFT_DELETED'},
    'deleted': {'default': 'DELETED'},
    'error': {'default': 'ERROR'},
    'shelved': {'default': 'SHELVED'},
    'shelved_offloaded': {'default': 'SHELVED_OFFLOADED'},
}

_PROGRESS_STATUSES = ('ACTIVE', 'BUILD', 'REBUILD', 'RESIZE',
                      'VERIFY_RESIZE', 'MIGRATING')

# nova.compute.power_state numbers by name (with Nova's older aliases).
POWER_STATES = dict({state.name.lower(): int(state)
                     for state in power_state.PowerState},
                    pending=int(power_state.NOSTATE),
                    shutoff=int(power_state.SHUTDOWN))

LIVE_MIGRATION_IN_PROGRESS = tuple(sorted(fields.MIGRATION_IN_PROGRESS))


def server_status(vm_state, task_state):
    states = _STATUS.get(vm_state or '', {'default': 'UNKNOWN'})
    return states.get(task_state or 'default', states['default'])


def status_filter_states(status):
    """vm_states whose servers show ``status`` (for ?status=)."""
    status = status.upper()
    return [(vm, task) for vm, tasks in _STATUS.items()
            for task, shown in tasks.items() if shown == status]


def power_state_number(value):
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return POWER_STATES.get(str(value).lower(), 0)


def host_id(project_id, host):
    if not host:
        return ''
    return hashlib.sha224(('%s%s' % (project_id or '', host))
                          .encode('utf-8')).hexdigest()


def _flavor_id(flavor):
    value = attr(flavor, 'flavorid')
    if value is None:
        value = attr(flavor, 'id')
    return str(value)


def _server_disk(instance, flavor_values):
    """The server's flavor disk (GiB): its own ``root_gb`` when recorded
    (0 is a size too), else the flavor's.
    """
    value = attr(instance, 'root_gb', None)
    if value is None:
        return flavor_values.get('disk', 0)
    return value


def flavor_values(flavor):
    return {
        'id': _flavor_id(flavor),
        'name': attr(flavor, 'name'),
        'ram': attr(flavor, 'memory_mb', attr(flavor, 'ram', 0)),
        'vcpus': attr(flavor, 'vcpus', 1),
        'disk': attr(flavor, 'root_gb', attr(flavor, 'disk', 0)) or 0,
        'ephemeral': attr(flavor, 'ephemeral_gb',
                          attr(flavor, 'ephemeral', 0)) or 0,
        'swap': attr(flavor, 'swap', 0) or 0,
        'rxtx_factor': attr(flavor, 'rxtx_factor', 1.0) or 1.0,
        'is_public': attr(flavor, 'is_public', True),
        'disabled': attr(flavor, 'disabled', False) or False,
        'description': attr(flavor, 'description'),
        'extra_specs': dict(attr(flavor, 'extra_specs', None) or {}),
    }


def hypervisor_resources(node):
    """The resource figures of a compute node (os-hypervisors < 2.88)."""
    vcpus = attr(node, 'vcpus', 0) or 0
    vcpus_used = attr(node, 'vcpus_used', 0) or 0
    memory = attr(node, 'memory_mb', 0) or 0
    memory_used = attr(node, 'memory_mb_used', 0) or 0
    local_gb = attr(node, 'local_gb', 0) or 0
    local_gb_used = attr(node, 'local_gb_used', 0) or 0
    least = attr(node, 'disk_available_least', None)
    return {
        'vcpus': vcpus,
        'vcpus_used': vcpus_used,
        'memory_mb': memory,
        'memory_mb_used': memory_used,
        'free_ram_mb': memory - memory_used,
        'local_gb': local_gb,
        'local_gb_used': local_gb_used,
        'free_disk_gb': local_gb - local_gb_used,
        'disk_available_least': (local_gb - local_gb_used
                                 if least is None else least),
        'current_workload': attr(node, 'current_workload', 0) or 0,
        'running_vms': attr(node, 'running_vms', 0) or 0,
    }


def guest_hostname(instance):
    """The server's host name: the recorded one (2.90 create, or made at
    create from the display name), or one made from the display name for
    records older than that.
    """
    recorded = attr(instance, 'hostname', None)
    if recorded:
        return recorded
    from nova.compute import api as compute_api
    return compute_api.default_hostname(attr(instance, 'name'))


def cpu_info_value(stored, as_object):
    """cpu_info as the API shows it: Nova's JSON text before 2.28, the
    decoded object from 2.28.

    The record keeps the JSON text the driver wrote (an older driver wrote
    only the architecture, which becomes ``{"arch": ...}``).
    """
    value = {}
    if isinstance(stored, dict):
        value = stored
    elif stored:
        try:
            value = json.loads(stored)
        except ValueError:
            value = {'arch': str(stored)}
        if not isinstance(value, dict):
            value = {'arch': str(stored)}
    if as_object:
        return value
    return json.dumps(value)


class Views(object):
    """Builds bodies for one request (base URL, microversion, caller)."""

    def __init__(self, req, conf):
        self.req = req
        self.conf = conf

    def links(self, collection, item_id):
        return common.self_links(self.req, self.conf, collection, item_id)

    def bookmark(self, collection, item_id):
        return [{'rel': 'bookmark',
                 'href': common.link(self.req, self.conf, collection,
                                     item_id, prefix='')}]

    # -- flavors -----------------------------------------------------------

    def flavor_brief(self, flavor):
        values = flavor_values(flavor)
        body = {'id': values['id'], 'name': values['name'],
                'links': self.links('flavors', values['id'])}
        if self.req.is_version('2.55'):
            body['description'] = values['description']
        return body

    def flavor_detail(self, flavor):
        values = flavor_values(flavor)
        swap = values['swap']
        if not swap and not self.req.is_version('2.75'):
            swap = ''
        body = {
            'id': values['id'],
            'name': values['name'],
            'ram': values['ram'],
            'vcpus': values['vcpus'],
            'disk': values['disk'],
            'swap': swap,
            'OS-FLV-EXT-DATA:ephemeral': values['ephemeral'],
            'OS-FLV-DISABLED:disabled': values['disabled'],
            'os-flavor-access:is_public': values['is_public'],
            'rxtx_factor': values['rxtx_factor'],
            'links': self.links('flavors', values['id']),
        }
        if self.req.is_version('2.55'):
            body['description'] = values['description']
        if self.req.is_version('2.61'):
            body['extra_specs'] = values['extra_specs']
        return body

    # -- servers -------------------------------------------------------------

    def server_brief(self, instance):
        uuid = attr(instance, 'uuid')
        return {'id': uuid, 'name': attr(instance, 'name'),
                'links': self.links('servers', uuid)}

    def server(self, instance, flavor=None, host_status=None, show=False):
        req = self.req
        uuid = attr(instance, 'uuid')
        vm_state = attr(instance, 'vm_state')
        task_state = attr(instance, 'task_state')
        status = server_status(vm_state, task_state)
        project_id = attr(instance, 'project_id')
        host = attr(instance, 'host')
        image_ref = attr(instance, 'image_ref')
        body = {
            'id': uuid,
            'name': attr(instance, 'name'),
            'status': status,
            'tenant_id': project_id,
            'user_id': attr(instance, 'user_id'),
            'metadata': dict(attr(instance, 'metadata', None) or {}),
            'hostId': host_id(project_id, host),
            'image': ({'id': image_ref,
                       'links': self.bookmark('images', image_ref)}
                      if image_ref else ''),
            'flavor': self._server_flavor(instance, flavor),
            'created': common.isotime(attr(instance, 'created_at')),
            'updated': common.isotime(attr(instance, 'updated_at')
                                      or attr(instance, 'created_at')),
            'addresses': {},
            'accessIPv4': '',
            'accessIPv6': '',
            'links': self.links('servers', uuid),
            'OS-DCF:diskConfig': 'MANUAL',
            'OS-EXT-AZ:availability_zone': attr(
                instance, 'availability_zone', None) or 'nova',
            'config_drive': '',
            'key_name': None,
            'OS-SRV-USG:launched_at': common.dbtime(
                attr(instance, 'launched_at')),
            'OS-SRV-USG:terminated_at': None,
            'OS-EXT-STS:vm_state': vm_state,
            'OS-EXT-STS:task_state': task_state,
            'OS-EXT-STS:power_state': power_state_number(
                attr(instance, 'power_state')),
            'os-extended-volumes:volumes_attached': [],
            'security_groups': [{'name': 'default'}],
        }
        if status in _PROGRESS_STATUSES:
            body['progress'] = attr(instance, 'progress', 0) or 0
        fault = attr(instance, 'fault_message', None)
        if fault and status in ('ERROR', 'DELETED'):
            # Nova's fault: shown while the server is in ERROR (or deleted).
            body['fault'] = {
                'code': 500,
                'created': common.isotime(attr(instance, 'updated_at') or
                                          attr(instance, 'created_at')),
                'message': fault}
        if policy.authorize(req.context, policy.EXTENDED_ATTRS,
                            fatal=False):
            body['OS-EXT-SRV-ATTR:host'] = host
            body['OS-EXT-SRV-ATTR:hypervisor_hostname'] = attr(
                instance, 'node')
            body['OS-EXT-SRV-ATTR:instance_name'] = attr(
                instance, 'instance_name', None) or attr(instance, 'name')
            if req.is_version('2.3'):
                body.update({
                    'OS-EXT-SRV-ATTR:reservation_id': '',
                    'OS-EXT-SRV-ATTR:launch_index': 0,
                    'OS-EXT-SRV-ATTR:hostname': guest_hostname(instance),
                    'OS-EXT-SRV-ATTR:kernel_id': '',
                    'OS-EXT-SRV-ATTR:ramdisk_id': '',
                    'OS-EXT-SRV-ATTR:root_device_name': None,
                    'OS-EXT-SRV-ATTR:user_data': None,
                })
        if req.is_version('2.9'):
            body['locked'] = False
        if req.is_version('2.16') and host_status is not None:
            body['host_status'] = host_status
        if req.is_version('2.19'):
            body['description'] = attr(instance, 'description', None)
        if req.is_version('2.26'):
            body['tags'] = []
        if req.is_version('2.63'):
            body['trusted_image_certificates'] = None
        if req.is_version('2.71') and show:
            body['server_groups'] = []
        if req.is_version('2.73'):
            body['locked_reason'] = None
        if req.is_version('2.90'):
            # Every caller sees the guest's host name from 2.90.
            body['OS-EXT-SRV-ATTR:hostname'] = guest_hostname(instance)
        if req.is_version('2.96'):
            body['pinned_availability_zone'] = attr(
                instance, 'pinned_availability_zone', None)
        return body

    def _server_flavor(self, instance, flavor):
        if not self.req.is_version('2.47'):
            flavor_id = (str(attr(instance, 'flavor_id'))
                         if attr(instance, 'flavor_id') is not None
                         else (_flavor_id(flavor) if flavor else ''))
            return {'id': flavor_id,
                    'links': self.bookmark('flavors', flavor_id)}
        values = flavor_values(flavor) if flavor is not None else {}
        return {
            'original_name': values.get('name') or str(
                attr(instance, 'flavor_id')),
            'ram': attr(instance, 'memory_mb', None) or values.get('ram', 0),
            'vcpus': attr(instance, 'vcpus', None) or values.get('vcpus', 1),
            # The size the server was created with (its root disk), else
            # the flavor's for a server older than the column.
            'disk': _server_disk(instance, values),
            'ephemeral': values.get('ephemeral', 0),
            'swap': values.get('swap', 0),
            'extra_specs': values.get('extra_specs', {}),
        }

    # -- migrations -----------------------------------------------------------

    @staticmethod
    def _migration_common(migration):
        """Fields a server migration and an os-migrations entry share."""
        return {
            'id': attr(migration, 'id'),
            'source_compute': attr(migration, 'source_compute'),
            'source_node': attr(migration, 'source_node'),
            'dest_compute': attr(migration, 'dest_compute'),
            'dest_node': attr(migration, 'dest_node'),
            'dest_host': attr(migration, 'dest_host', None),
            'status': attr(migration, 'status'),
            'created_at': common.dbtime(attr(migration, 'created_at')),
            'updated_at': common.dbtime(attr(migration, 'updated_at')),
        }

    def server_migration(self, migration):
        body = self._migration_common(migration)
        body.update({
            'server_uuid': attr(migration, 'instance_uuid'),
            'memory_total_bytes': attr(migration, 'memory_total'),
            'memory_processed_bytes': attr(migration, 'memory_processed'),
            'memory_remaining_bytes': attr(migration, 'memory_remaining'),
            'disk_total_bytes': attr(migration, 'disk_total'),
            'disk_processed_bytes': attr(migration, 'disk_processed'),
            'disk_remaining_bytes': attr(migration, 'disk_remaining'),
        })
        if self.req.is_version('2.59'):
            body['uuid'] = attr(migration, 'uuid')
        if self.req.is_version('2.80'):
            body['user_id'] = attr(migration, 'user_id', None)
            body['project_id'] = attr(migration, 'project_id', None)
        return body

    def migration(self, migration):
        body = self._migration_common(migration)
        body.update({
            'instance_uuid': attr(migration, 'instance_uuid'),
            'old_instance_type_id': attr(migration, 'old_instance_type_id',
                                         None),
            'new_instance_type_id': attr(migration, 'new_instance_type_id',
                                         None),
        })
        if self.req.is_version('2.23'):
            mtype = attr(migration, 'migration_type')
            body['migration_type'] = mtype
            if (mtype == 'live-migration'
                    and body['status'] in LIVE_MIGRATION_IN_PROGRESS):
                path = ('servers', body['instance_uuid'], 'migrations',
                        body['id'])
                body['links'] = [
                    {'rel': 'self',
                     'href': common.link(self.req, self.conf, *path)},
                    {'rel': 'bookmark',
                     'href': common.link(self.req, self.conf, *path,
                                         prefix='')},
                ]
        if self.req.is_version('2.59'):
            body['uuid'] = attr(migration, 'uuid')
        if self.req.is_version('2.80'):
            body['user_id'] = attr(migration, 'user_id', None)
            body['project_id'] = attr(migration, 'project_id', None)
        return body

    # -- services and hypervisors ----------------------------------------------

    def service(self, service, state):
        body = {
            'id': (helpers.service_uuid(service)
                   if self.req.is_version('2.53') else attr(service, 'id')),
            'binary': attr(service, 'binary'),
            'host': attr(service, 'host'),
            'zone': (attr(service, 'availability_zone', None)
                     or attr(service, 'zone', None)
                     or ('nova' if attr(service, 'binary') == 'nova-compute'
                         else 'internal')),
            'status': 'disabled' if attr(service, 'disabled') else 'enabled',
            'state': state,
            'updated_at': common.dbtime(attr(service, 'updated_at')
                                        or attr(service, 'last_seen_up')),
            'disabled_reason': attr(service, 'disabled_reason'),
        }
        if self.req.is_version('2.11'):
            body['forced_down'] = bool(attr(service, 'forced_down', False))
        return body

    def hypervisor(self, node, service, state, detail, servers=None,
                   uptime=None, show=False):
        """One hypervisor as GET /os-hypervisors[/detail|/{id}] shows it.

        ``servers``: [(uuid, name)] to embed (with_servers, /servers), or
        None. 2.28 turns cpu_info from a JSON string into the object; 2.88
        drops the resource figures and cpu_info (Placement has them in
        Nova) and ``show`` (GET /os-hypervisors/{id}) carries ``uptime``.
        """
        uuid_ids = self.req.is_version('2.53')
        body = {
            'id': attr(node, 'uuid') if uuid_ids else attr(node, 'id'),
            'hypervisor_hostname': attr(node, 'hypervisor_hostname'),
            'state': state,
            'status': ('disabled' if service is not None
                       and attr(service, 'disabled') else 'enabled'),
        }
        if servers is not None:
            body['servers'] = [{'uuid': u, 'name': n} for u, n in servers]
        if not detail:
            return body
        body.update({
            'hypervisor_type': attr(node, 'hypervisor_type', 'QEMU'),
            'hypervisor_version': attr(node, 'hypervisor_version', 0),
            'host_ip': attr(node, 'host_ip', None),
            'service': {
                'host': (attr(service, 'host') if service is not None
                         else attr(node, 'host')),
                'id': (None if service is None else
                       (helpers.service_uuid(service) if uuid_ids
                        else attr(service, 'id'))),
                'disabled_reason': (attr(service, 'disabled_reason')
                                    if service is not None else None),
            },
        })
        if self.req.is_version('2.88'):
            if show:
                body['uptime'] = uptime
            return body
        body.update(hypervisor_resources(node))
        body['cpu_info'] = cpu_info_value(
            attr(node, 'cpu_info', None), as_object=self.req.is_version(
                '2.28'))
        return body
