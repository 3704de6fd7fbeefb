"""A stub of nova.compute.api.API for the API unit tests.

Same interface as the real compute API (the contract the REST layer
calls); keeps instances and migrations in dicts and raises the same
exceptions with the same HTTP codes.
"""

import datetime
import types
import uuid as uuid_lib

from nova import exception

LIVE_IN_PROGRESS = ('queued', 'preparing', 'running', 'post-migrating')


class _Err(exception.NovaException):
    pass


def _error(name, code, message):
    """An exception of the contract's class when present, else a stand-in."""
    cls = getattr(exception, name, None)
    if cls is None:
        cls = type(name, (_Err,), {'code': code})
    exc = cls.__new__(cls)
    exception.NovaException.__init__(exc, message)
    exc.code = code
    return exc


def _record(**values):
    return types.SimpleNamespace(**values)


NOW = datetime.datetime(2026, 11, 25, 12, 0, 0)


class FakeComputeAPI(object):

    def __init__(self):
        self.instances = {}
        self.migrations = {}
        # Migration id -> migration_timeline rows (dicts).
        self.timelines = {}
        self.calls = []
        self.services = [
            _record(id=1, uuid='svc-a-uuid', host='lab-a',
                    binary='nova-compute', disabled=False,
                    disabled_reason=None, forced_down=False,
                    updated_at=NOW, is_up=True),
            _record(id=2, uuid='svc-b-uuid', host='lab-b',
                    binary='nova-compute', disabled=True,
                    disabled_reason='maintenance', forced_down=False,
                    updated_at=NOW, is_up=False),
        ]
        self.nodes = [
            _record(id=1, uuid='node-a-uuid', host='lab-a',
                    hypervisor_hostname='lab-a', hypervisor_type='QEMU',
                    hypervisor_version=7002000, vcpus=4, vcpus_used=1,
                    memory_mb=8192, memory_mb_used=1024, local_gb=100,
                    local_gb_used=0, running_vms=1, host_ip='10.0.0.1',
                    cpu_info='{}'),
            _record(id=2, uuid='node-b-uuid', host='lab-b',
                    hypervisor_hostname='lab-b', hypervisor_type='QEMU',
                    hypervisor_version=7002000, vcpus=4, vcpus_used=0,
                    memory_mb=8192, memory_mb_used=0, local_gb=100,
                    local_gb_used=0, running_vms=0, host_ip='10.0.0.2',
                    cpu_info='{}'),
        ]
        self.flavors = {
            '1': _record(flavorid='1', name='m1.tiny', memory_mb=512,
                         vcpus=1, root_gb=0, ephemeral_gb=0, swap=0,
                         is_public=True, description=None,
                         extra_specs={}),
            '2': _record(flavorid='2', name='m1.small', memory_mb=2048,
                         vcpus=1, root_gb=0, ephemeral_gb=0, swap=0,
                         is_public=True, description='small',
                         extra_specs={'hw:cpu_policy': 'shared'}),
        }
        self.images = {
            'img-1': _record(id='img-1', name='busybox',
                             kernel='/boot/vmlinuz', initrd='/boot/initrd',
                             cmdline='console=ttyS0'),
        }

    # -- helpers for tests -------------------------------------------------

    def add_instance(self, host='lab-a', project_id='proj', **values):
        uuid = values.pop('uuid', str(uuid_lib.uuid4()))
        inst = _record(uuid=uuid, name=values.pop('name', 'vm'), host=host,
                       node=host, vm_state='active', task_state=None,
                       power_state=1, flavor_id='1', memory_mb=512,
                       vcpus=1, image_ref='img-1', metadata={}, progress=0,
                       created_at=NOW, updated_at=NOW,
                       project_id=project_id, user_id='user')
        for key, value in values.items():
            setattr(inst, key, value)
        self.instances[uuid] = inst
        return inst

    def add_migration(self, instance, status='running', **values):
        mid = len(self.migrations) + 1
        mig = _record(id=mid, uuid=str(uuid_lib.uuid4()),
                      instance_uuid=instance.uuid,
                      source_compute=instance.host, dest_compute='lab-b',
                      source_node=instance.host, dest_node='lab-b',
                      status=status, migration_type='live-migration',
                      memory_total=1000, memory_processed=400,
                      memory_remaining=600, disk_total=0, disk_processed=0,
                      disk_remaining=0, created_at=NOW, updated_at=NOW)
        for key, value in values.items():
            setattr(mig, key, value)
        self.migrations[mid] = mig
        return mig

    # -- the contract ---------------------------------------------------

    def create_server(self, ctx, name, flavor_id, image_id, metadata=None,
                      host=None, hostname=None, availability_zone=None):
        self.calls.append(('create_server', name, flavor_id, image_id,
                           metadata, host))
        self.created_with = {'hostname': hostname,
                             'availability_zone': availability_zone}
        if flavor_id not in self.flavors:
            raise _error('FlavorNotFound', 400,
                         'Flavor %s could not be found.' % flavor_id)
        if image_id not in self.images:
            raise _error('ImageNotFound', 400,
                         'Image %s could not be found.' % image_id)
        if host is not None and host not in ('lab-a', 'lab-b'):
            raise _error('ComputeHostNotFound', 400,
                         'Compute host %s could not be found.' % host)
        return self.add_instance(host=host or 'lab-a', name=name,
                                 project_id=ctx.project_id,
                                 user_id=ctx.user_id, flavor_id=flavor_id,
                                 metadata=dict(metadata or {}),
                                 image_ref=image_id, hostname=hostname,
                                 pinned_availability_zone=availability_zone)

    def get_server(self, ctx, uuid):
        try:
            return self.instances[uuid]
        except KeyError:
            raise _error('InstanceNotFound', 404,
                         'Instance %s could not be found.' % uuid)

    def list_servers(self, ctx, filters=None):
        host = (filters or {}).get('host')
        return [i for i in self.instances.values()
                if host is None or i.host == host]

    def _action(self, ctx, uuid, method, vm_states, new_vm_state):
        self.calls.append((method, uuid))
        inst = self.get_server(ctx, uuid)
        self._check_state(inst, method, 'vm_state', vm_states)
        self._check_state(inst, method, 'task_state', (None,))
        inst.vm_state = new_vm_state

    def pause(self, ctx, uuid):
        self._action(ctx, uuid, 'pause', ('active',), 'paused')

    def unpause(self, ctx, uuid):
        self._action(ctx, uuid, 'unpause', ('paused',), 'active')

    def suspend(self, ctx, uuid):
        self._action(ctx, uuid, 'suspend', ('active',), 'suspended')

    def resume(self, ctx, uuid):
        self._action(ctx, uuid, 'resume', ('suspended',), 'active')

    def reset_state(self, ctx, uuid, state):
        self.calls.append(('reset_state', uuid, state))
        inst = self.get_server(ctx, uuid)
        inst.vm_state = state
        inst.task_state = None

    def get_host_uptime(self, ctx, host):
        self.calls.append(('get_host_uptime', host))
        return ' 12:00:00 up 3 days,  1:02,  0 users,  load average: 0.10, ' \
            '0.20, 0.30'

    def get_service(self, ctx, service_id):
        for svc in self.services:
            if str(service_id) in (str(svc.id), svc.uuid):
                return svc
        raise _error('ServiceNotFound', 404,
                     'Service %s could not be found.' % service_id)

    def update_service(self, ctx, service_id, status=None,
                       disabled_reason=None, forced_down=None):
        self.calls.append(('update_service', service_id, status,
                           disabled_reason, forced_down))
        svc = self.get_service(ctx, service_id)
        if status is not None:
            svc.disabled = status == 'disabled'
            svc.disabled_reason = (disabled_reason
                                   if status == 'disabled' else None)
        if forced_down is not None:
            svc.forced_down = bool(forced_down)
        return svc

    def delete_server(self, ctx, uuid):
        self.calls.append(('delete_server', uuid))
        self.get_server(ctx, uuid)
        del self.instances[uuid]

    def live_migrate(self, ctx, uuid, host=None, block_migration='auto'):
        self.calls.append(('live_migrate', uuid, host, block_migration))
        inst = self.get_server(ctx, uuid)
        if inst.task_state is not None:
            exc = _error('InstanceInvalidState', 409,
                         "Cannot 'live_migrate' instance %s while it is in "
                         "task_state %s" % (uuid, inst.task_state))
            exc.kwargs = {'attr': 'task_state', 'state': inst.task_state,
                          'method': 'live_migrate', 'instance_uuid': uuid}
            raise exc
        if host is not None and host not in ('lab-a', 'lab-b'):
            raise _error('ComputeHostNotFound', 400,
                         'Compute host %s could not be found.' % host)
        inst.task_state = 'migrating'
        return self.add_migration(inst, status='queued',
                                  dest_compute=host or 'lab-b')

    def _migration(self, uuid, migration_id):
        try:
            mig = self.migrations[int(migration_id)]
        except (KeyError, ValueError):
            mig = None
        if mig is None or mig.instance_uuid != uuid:
            raise _error('MigrationNotFoundForInstance', 404,
                         'Migration %s not found for instance %s'
                         % (migration_id, uuid))
        return mig

    def _check_state(self, inst, method, attr_name, allowed):
        value = getattr(inst, attr_name)
        if value not in allowed:
            exc = _error('InstanceInvalidState', 409,
                         "Cannot '%s' instance %s while it is in %s %s"
                         % (method, inst.uuid, attr_name, value))
            exc.kwargs = {'attr': attr_name, 'state': value,
                          'method': method, 'instance_uuid': inst.uuid}
            raise exc

    def live_migrate_force_complete(self, ctx, uuid, migration_id):
        self.calls.append(('force_complete', uuid, migration_id))
        inst = self.get_server(ctx, uuid)
        self._check_state(inst, 'force_complete', 'task_state',
                          ('migrating',))
        mig = self._migration(uuid, migration_id)
        if mig.status != 'running':
            raise _error('InvalidMigrationState', 400,
                         'Migration %s state of instance %s is %s. Cannot '
                         'force complete while the migration is in this '
                         'state.' % (migration_id, uuid, mig.status))

    def live_migrate_abort(self, ctx, uuid, migration_id,
                           allowed_statuses=('queued', 'preparing',
                                             'running')):
        self.calls.append(('abort', uuid, migration_id))
        inst = self.get_server(ctx, uuid)
        self._check_state(inst, 'abort live migration', 'task_state',
                          ('migrating',))
        mig = self._migration(uuid, migration_id)
        if mig.status not in allowed_statuses:
            raise _error('InvalidMigrationState', 400,
                         'Migration %s state of instance %s is %s. Cannot '
                         'abort live migration while the migration is in '
                         'this state.' % (migration_id, uuid, mig.status))

    def list_server_migrations(self, ctx, uuid):
        return [m for m in self.migrations.values()
                if m.instance_uuid == uuid and m.status in LIVE_IN_PROGRESS]

    def get_server_migration(self, ctx, uuid, migration_id):
        return self._migration(uuid, migration_id)

    def list_migrations(self, ctx, filters):
        return list(self.migrations.values())

    def get_migration_progress(self, ctx, migration_id):
        try:
            mig = self.migrations[int(migration_id)]
        except (KeyError, ValueError):
            raise _error('MigrationNotFound', 404,
                         'Migration %s could not be found.' % migration_id)
        return mig, list(self.timelines.get(mig.id, []))

    def list_server_live_migrations(self, ctx, uuid):
        self.get_server(ctx, uuid)
        return [(m, [r for r in self.timelines.get(m.id, [])
                     if r['kind'] == 'event'])
                for m in sorted(self.migrations.values(),
                                key=lambda m: m.id, reverse=True)
                if m.instance_uuid == uuid]

    def list_services(self, ctx):
        return list(self.services)

    def list_hypervisors(self, ctx):
        return list(self.nodes)

    def get_hypervisor(self, ctx, hypervisor_id):
        for node in self.nodes:
            if str(hypervisor_id) in (str(node.id), node.uuid):
                return node
        raise _error('HypervisorNotFound', 404,
                     'Hypervisor %s could not be found.' % hypervisor_id)

    def list_flavors(self, ctx):
        return list(self.flavors.values())

    def get_flavor(self, ctx, flavor_id):
        try:
            return self.flavors[flavor_id]
        except KeyError:
            raise _error('FlavorNotFoundByID', 404,
                         'Flavor %s could not be found.' % flavor_id)

    def list_images(self, ctx):
        return list(self.images.values())

    def get_image(self, ctx, image_id):
        try:
            return self.images[image_id]
        except KeyError:
            raise _error('ImageNotFoundByID', 404,
                         'Image %s could not be found.' % image_id)
