"""The compute API: what the REST layer calls.

Every method checks the request against the records (state checks, hosts,
flavors, images), changes the records and casts the work to the compute
service that owns the server; none waits for a guest. Errors are
``nova.exception`` classes whose ``code`` is the HTTP status to answer
with. Policy (who may call what) is the REST layer's business; this layer
only scopes servers to the caller's project unless the caller is an admin.
"""

import datetime
import re

from oslo_log import log as logging

import nova.conf
from nova.compute import rpcapi as compute_rpcapi
from nova.compute import scheduler
from nova.compute import states
from nova.db import api as db_api
from nova.db import migration as db_migration
from nova import exception
from nova.objects import instance as instance_obj
from nova.objects import migration as migration_obj
from nova.objects import service as service_obj
from nova import rpc
from nova.virt import image as virt_image

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

LIVE_MIGRATION = 'live-migration'
# Statuses in which an abort is accepted (microversion 2.65 and later);
# before 2.65 the REST layer passes allowed_statuses=('running',).
ABORTABLE_STATUSES = (migration_obj.QUEUED, migration_obj.PREPARING,
                      migration_obj.RUNNING)
FORCE_COMPLETABLE_STATUSES = (migration_obj.RUNNING,)

_SERVER_FILTERS = ('host', 'node', 'vm_state', 'task_state', 'uuid',
                   'project_id', 'user_id', 'flavor_id', 'image_ref',
                   'changes-since', 'changes-before', 'deleted')
_MIGRATION_FILTERS = ('host', 'status', 'instance_uuid', 'migration_type',
                      'source_compute', 'dest_compute', 'project_id',
                      'user_id', 'changes-since', 'changes-before')


class API(object):
    """API(db=None, compute_rpcapi=None, conf=None, transport=None).

    Without arguments it uses ``[database] connection`` and
    ``[DEFAULT] transport_url`` of the global configuration.
    """

    def __init__(self, db=None, compute_rpcapi=None, conf=None,
                 transport=None):
        self._conf = conf or CONF
        self._db = db
        self._rpcapi = compute_rpcapi
        self._transport = transport
        self._schema_checked = db is not None

    # -- plumbing ----------------------------------------------------------

    @property
    def db(self):
        if self._db is None:
            self._db = db_api.Database.from_conf(self._conf)
        if not self._schema_checked:
            check_schema(self._db)
            self._schema_checked = True
        return self._db

    @property
    def compute_rpcapi(self):
        if self._rpcapi is None:
            transport = self._transport or rpc.get_transport(self._conf)
            self._rpcapi = compute_rpcapi.ComputeAPI(
                transport, timeout=self._conf.live_migration_rpc_timeout,
                retries=self._conf.rpc_connection_retries)
        return self._rpcapi

    def _now(self):
        return db_api.utcnow()

    # -- hosts ---------------------------------------------------------------

    def _services(self):
        now = self._now()
        down_time = self._conf.service_down_time
        services = service_obj.Service.get_all(
            self.db, binary=states.COMPUTE_BINARY)
        for svc in services:
            svc.state = 'up' if svc.is_up(now, down_time) else 'down'
        return services

    def _host_states(self):
        nodes = {n['host']: n for n in db_api.compute_node_get_all(self.db)}
        usage = db_api.instance_usage_by_host(self.db)
        result = []
        for svc in self._services():
            node = nodes.get(svc.host)
            count, memory_used, _vcpus = usage.get(svc.host, (0, 0, 0))
            result.append(scheduler.HostState(
                host=svc.host,
                node=node['hypervisor_hostname'] if node else None,
                up=svc.state == 'up', disabled=bool(svc.disabled),
                memory_mb=node['memory_mb'] if node else 0,
                vcpus=node['vcpus'] if node else 0,
                instances=count, memory_mb_used=memory_used))
        return result

    # -- flavors and images ---------------------------------------------------

    def list_flavors(self, ctx):
        return [service_obj.Flavor.from_values(row)
                for row in db_api.flavor_get_all(self.db)]

    def get_flavor(self, ctx, flavor_id):
        """FlavorNotFoundByID (404) for an unknown flavor id."""
        row = db_api.flavor_get_by_flavorid(self.db, flavor_id)
        if row is None:
            raise exception.FlavorNotFoundByID(flavor_id=flavor_id)
        return service_obj.Flavor.from_values(row)

    def list_images(self, ctx):
        return [service_obj.Image.from_values(row)
                for row in db_api.image_get_all(self.db)]

    def get_image(self, ctx, image_id):
        """ImageNotFoundByID (404) for an unknown image id."""
        row = db_api.image_get(self.db, image_id)
        if row is None:
            raise exception.ImageNotFoundByID(image_id=image_id)
        return service_obj.Image.from_values(row)

    # -- services and hypervisors -----------------------------------------------

    def list_services(self, ctx, binary=None, host=None):
        services = self._services()
        return [s for s in services
                if (binary is None or s.binary == binary) and
                (host is None or s.host == host)]

    def get_service(self, ctx, service_id):
        for svc in self._services():
            if str(service_id) in (str(svc.id), svc.uuid):
                return svc
        raise exception.ServiceNotFound(service_id=service_id)

    def update_service(self, ctx, service_id, status=None,
                       disabled_reason=None, forced_down=None):
        """Enable/disable a compute service, or force it down (os-services
        PUT). ``status``: 'enabled' or 'disabled'.
        """
        svc = self.get_service(ctx, service_id)
        values = {}
        if status is not None:
            if status not in ('enabled', 'disabled'):
                raise exception.Invalid(
                    reason="status must be 'enabled' or 'disabled'")
            values['disabled'] = status == 'disabled'
            values['disabled_reason'] = (disabled_reason
                                         if status == 'disabled' else None)
        elif disabled_reason is not None:
            values['disabled_reason'] = disabled_reason
        if forced_down is not None:
            values['forced_down'] = bool(forced_down)
        if values:
            db_api.service_update(self.db, svc.id, values)
        return self.get_service(ctx, service_id)

    def list_hypervisors(self, ctx):
        services = {s.host: s for s in self._services()}
        result = []
        for row in db_api.compute_node_get_all(self.db):
            node = service_obj.ComputeNode.from_values(row)
            svc = services.get(node.host)
            if svc is not None:
                node.state = svc.state
                node.status = svc.status
                node.service_id = svc.id
                node.service_disabled_reason = svc.disabled_reason
            else:
                node.state = 'down'
                node.status = 'disabled'
            result.append(node)
        return result

    def get_hypervisor(self, ctx, hypervisor_id):
        """By integer id or uuid; HypervisorNotFound (404) otherwise."""
        for node in self.list_hypervisors(ctx):
            if str(hypervisor_id) in (str(node.id), node.uuid):
                return node
        raise exception.HypervisorNotFound(hypervisor_id=hypervisor_id)

    # -- servers --------------------------------------------------------------

    def _get_instance(self, ctx, uuid):
        inst = instance_obj.Instance.get_by_uuid(self.db, uuid)
        if (ctx is not None and not ctx.is_admin and
                inst.project_id != ctx.project_id):
            raise exception.InstanceNotFound(instance_id=uuid)
        return inst

    def get_server(self, ctx, uuid):
        """InstanceNotFound (404) when there is no such (visible) server."""
        return self._get_instance(ctx, uuid)

    def list_servers(self, ctx, filters=None, limit=None, marker=None):
        """Servers, newest first.

        An admin sees every project's servers (the REST layer applies
        ``all_tenants``); anyone else only their project's. ``filters``:
        host, node, vm_state, task_state, uuid, project_id, user_id,
        flavor_id, image_ref, changes-since, changes-before, deleted, and
        name (a regular expression searched in the name).
        """
        filters = dict(filters or {})
        name = filters.pop('name', None)
        query = {k: v for k, v in filters.items() if k in _SERVER_FILTERS}
        for key in ('changes-since', 'changes-before'):
            if query.get(key) is not None:
                query[key] = _parse_time(query[key])
        if ctx is not None and not ctx.is_admin:
            query['project_id'] = ctx.project_id
        rows = db_api.instance_get_all(self.db, query)
        if name:
            try:
                pattern = re.compile(name)
            except re.error:
                pattern = re.compile(re.escape(name))
            rows = [r for r in rows if pattern.search(r['name'] or '')]
        rows = db_api._page(rows, 'uuid', limit, marker)
        return [instance_obj.Instance.from_db(self.db, r) for r in rows]

    def create_server(self, ctx, name, flavor_id, image_id, metadata=None,
                      host=None, hostname=None, availability_zone=None):
        """Create a server and cast its build to the chosen host.

        ``hostname``: the guest's host name (default: one made from
        ``name``); ``availability_zone``: the zone asked for, kept as the
        server's pinned zone.

        Raises FlavorNotFound (400), ImageNotFound (400), ImageNotActive
        (400), Invalid (400, bad workload metadata) and ComputeHostNotFound
        (400, ``host`` is no compute host). When no host can take it, the
        server is still created, in vm_state 'error' with a fault message
        (Nova's 202-then-ERROR behaviour), and returned.
        """
        flavor = db_api.flavor_get_by_flavorid(self.db, flavor_id)
        if flavor is None:
            raise exception.FlavorNotFound(flavor_id=flavor_id)
        image = db_api.image_get(self.db, image_id)
        if image is None:
            raise exception.ImageNotFound(image_id=image_id)
        if image['status'] != 'active':
            raise exception.ImageNotActive(image_id=image_id)
        metadata = dict(metadata or {})
        try:
            virt_image.workload_cmdline(metadata)
        except ValueError as exc:
            raise exception.Invalid(reason=str(exc))
        host_states = self._host_states()
        if host is not None:
            candidates = [s for s in host_states if s.host == host]
            if not candidates:
                raise exception.ComputeHostNotFound(host=host)
        else:
            candidates = host_states
        chosen = scheduler.pick_host(candidates, flavor['memory_mb'])
        values = {
            'name': name, 'flavor_id': flavor['flavorid'],
            'memory_mb': flavor['memory_mb'], 'vcpus': flavor['vcpus'],
            # The root disk the driver creates (metadata disk_mib wins).
            'root_gb': flavor.get('root_gb') or 0,
            'image_ref': image['id'], 'metadata': metadata,
            'project_id': getattr(ctx, 'project_id', None),
            'user_id': getattr(ctx, 'user_id', None),
            'power_state': states.NOSTATE, 'progress': 0,
            'hostname': hostname or default_hostname(name),
            'pinned_availability_zone': availability_zone,
        }
        if chosen is None:
            reason = scheduler.no_host_reason(candidates, flavor['memory_mb'])
            values.update(vm_state=states.ERROR, task_state=None,
                          fault_message=str(exception.NoValidHost(
                              reason=reason)))
            row = db_api.instance_create(self.db, values)
            LOG.warning('Server %s: %s', row['uuid'], values['fault_message'])
            return instance_obj.Instance.from_db(self.db, row)
        values.update(vm_state=states.BUILDING,
                      task_state=states.SCHEDULING, host=chosen.host,
                      node=chosen.node)
        row = db_api.instance_create(self.db, values)
        LOG.info('Server %s: building on %s', row['uuid'], chosen.host)
        try:
            self.compute_rpcapi.build_and_run_instance(
                ctx, chosen.host, row['uuid'], image['id'])
        except exception.MessagingUnavailable as exc:
            # Nobody will build it: ERROR with the reason, not BUILD forever.
            db_api.instance_update(self.db, row['uuid'], {
                'vm_state': states.ERROR, 'task_state': None,
                'fault_message': str(exc)})
            LOG.error('Server %s: build not sent to %s: %s', row['uuid'],
                      chosen.host, exc)
            raise
        return instance_obj.Instance.from_db(self.db, row)

    def delete_server(self, ctx, uuid):
        """InstanceNotFound (404); InstanceInvalidState (409) when another
        request changed the server meanwhile.

        A live-migrating server is deleted as Nova does it: the source
        compute aborts the migration first (the monitor gives the delete the
        abort's rank), waits for it to end, then deletes the guest where it
        is (on the destination if it had to finish in post-copy).
        """
        inst = self._get_instance(ctx, uuid)
        host_up = False
        if inst.host:
            host_up = any(s.host == inst.host and s.state == 'up'
                          for s in self._services())
        if not host_up:
            # Nova's local delete: nobody could act on it anyway.
            LOG.info('Server %s: deleted locally (host %s not up)', uuid,
                     inst.host)
            db_api.instance_destroy(self.db, uuid)
            return
        if not db_api.instance_update(
                self.db, uuid, {'task_state': states.DELETING},
                expected={'task_state': [None, states.SPAWNING,
                                         states.SCHEDULING,
                                         states.DELETING,
                                         states.MIGRATING]}):
            current = instance_obj.Instance.get_by_uuid(self.db, uuid)
            raise exception.InstanceInvalidState(
                method='delete', instance_uuid=uuid, attr='task_state',
                state=current.task_state)
        try:
            self.compute_rpcapi.terminate_instance(ctx, inst.host, uuid)
        except exception.MessagingUnavailable:
            db_api.instance_update(self.db, uuid,
                                   {'task_state': inst.task_state},
                                   expected={'task_state': states.DELETING})
            raise

    # -- pause, unpause, suspend, resume -------------------------------------

    def _power_action(self, ctx, uuid, method, vm_states, task_state):
        """Claim the server for a power action and cast it to its host.

        InstanceNotFound (404); InstanceInvalidState (409) unless the
        vm_state is one of ``vm_states`` and no task runs (a concurrent
        request loses the claim with the same 409); ServiceUnavailable
        (409) when the host's compute service is down.
        """
        inst = self._get_instance(ctx, uuid)
        self._check_state(inst, method, vm_states=vm_states,
                          task_states=(None,))
        if not any(s.host == inst.host and s.state == 'up'
                   for s in self._services()):
            raise exception.ServiceUnavailable(host=inst.host)
        if not db_api.instance_update(
                self.db, uuid, {'task_state': task_state},
                expected={'task_state': None, 'vm_state': list(vm_states),
                          'host': inst.host}):
            current = instance_obj.Instance.get_by_uuid(self.db, uuid)
            self._check_state(current, method, vm_states=vm_states,
                              task_states=(None,))
            raise exception.InstanceInvalidState(
                method=method, instance_uuid=uuid, attr='host',
                state=current.host)
        LOG.info('Server %s: %s on %s', uuid, method, inst.host)
        try:
            getattr(self.compute_rpcapi, '%s_instance' % method)(
                ctx, inst.host, uuid)
        except Exception as exc:
            # The request never reached the host: nothing will clear the
            # claim, which would refuse every later action with a 409.
            LOG.error('Server %s: cannot reach %s for %s: %s', uuid,
                      inst.host, method, exc)
            db_api.instance_update(self.db, uuid, {'task_state': None},
                                   expected={'task_state': task_state})
            raise

    def pause(self, ctx, uuid):
        """Pause an active server (its guest keeps its memory, stops)."""
        self._power_action(ctx, uuid, 'pause', (states.ACTIVE,),
                           states.PAUSING)

    def unpause(self, ctx, uuid):
        self._power_action(ctx, uuid, 'unpause', (states.PAUSED,),
                           states.UNPAUSING)

    def suspend(self, ctx, uuid):
        """Suspend an active server (libvirt: a managed save to disk)."""
        self._power_action(ctx, uuid, 'suspend', (states.ACTIVE,),
                           states.SUSPENDING)

    def resume(self, ctx, uuid):
        self._power_action(ctx, uuid, 'resume', (states.SUSPENDED_VM,),
                           states.RESUMING)

    def reset_state(self, ctx, uuid, state):
        """os-resetState: force the vm_state ('active' or 'error') and
        clear the task state, whatever the server is doing (an operator's
        repair tool, as in Nova). InstanceNotFound (404).
        """
        inst = self._get_instance(ctx, uuid)
        if state not in (states.ACTIVE, states.ERROR):
            raise exception.Invalid(
                reason="state must be 'active' or 'error'")
        db_api.instance_update(self.db, uuid, {'vm_state': state,
                                               'task_state': None})
        LOG.warning('Server %s: state reset to %s (was %s/%s)', uuid, state,
                    inst.vm_state, inst.task_state)

    def get_host_uptime(self, ctx, host):
        """The ``uptime`` line of a compute host (os-hypervisors).

        ComputeHostNotFound (400) for an unknown host, ServiceUnavailable
        (409) when its service is down.
        """
        services = [s for s in self._services() if s.host == host]
        if not services:
            raise exception.ComputeHostNotFound(host=host)
        if services[0].state != 'up':
            raise exception.ServiceUnavailable(host=host)
        return self.compute_rpcapi.get_host_uptime(ctx, host)

    # -- live migration ---------------------------------------------------------

    @staticmethod
    def _check_state(inst, method, vm_states=None, task_states=None):
        if vm_states is not None and inst.vm_state not in vm_states:
            raise exception.InstanceInvalidState(
                method=method, instance_uuid=inst.uuid, attr='vm_state',
                state=inst.vm_state)
        if task_states is not None and inst.task_state not in task_states:
            raise exception.InstanceInvalidState(
                method=method, instance_uuid=inst.uuid, attr='task_state',
                state=inst.task_state)

    def _check_destination(self, inst, host, host_states):
        """The target named by the operator, or the errors Nova gives."""
        target = [s for s in host_states if s.host == host]
        if not target:
            raise exception.ComputeHostNotFound(host=host)
        target = target[0]
        if host == inst.host:
            raise exception.MigrationPreCheckError(
                reason='Unable to migrate instance (%s) to current host '
                       '(%s).' % (inst.uuid, host))
        if target.disabled:
            raise exception.MigrationPreCheckError(
                reason='Compute service of %s is disabled.' % host)
        if not target.up:
            raise exception.MigrationPreCheckError(
                reason='Compute service of %s is unavailable at this '
                       'time.' % host)
        reason = scheduler.unsuitable_reason(target, inst.memory_mb or 0)
        if reason is not None:
            raise exception.MigrationPreCheckError(
                reason='Unable to migrate %s to %s: %s' % (inst.uuid, host,
                                                           reason))
        return target

    def live_migrate(self, ctx, uuid, host=None, block_migration='auto'):
        """Start a live migration; returns the queued Migration.

        Raises InstanceNotFound (404); InstanceInvalidState (409) unless
        vm_state is active/paused and task_state is None;
        ServiceUnavailable (409) when the source's compute service is down;
        ComputeHostNotFound (400) for an unknown ``host``;
        MigrationPreCheckError (400) for the current host, a disabled or
        down one, or one without room; NoValidHost (400) when ``host`` is
        None and no other host fits. ``block_migration``: True, False or
        'auto' (microversion 2.25: the destination copies the guest's local
        disks unless it shares their storage).
        """
        method = 'os-migrateLive'
        inst = self._get_instance(ctx, uuid)
        self._check_state(inst, method, vm_states=states.LIVE_MIGRATE_VM_STATES,
                          task_states=(None,))
        host_states = self._host_states()
        if not any(s.host == inst.host and s.up for s in host_states):
            # Nobody would run it: the request would wait in a queue.
            raise exception.ServiceUnavailable(host=inst.host)
        if host:
            target = self._check_destination(inst, host, host_states)
        else:
            target = scheduler.pick_host(host_states, inst.memory_mb or 0,
                                         exclude=(inst.host,))
            if target is None:
                raise exception.NoValidHost(reason=scheduler.no_host_reason(
                    host_states, inst.memory_mb or 0, exclude=(inst.host,)))
        if block_migration is None or block_migration == 'auto':
            block_migration = 'auto'
        else:
            block_migration = bool(block_migration)
        # Claim the instance: a concurrent request loses here with a 409.
        if not db_api.instance_update(
                self.db, uuid, {'task_state': states.MIGRATING},
                expected={'task_state': None,
                          'vm_state': list(states.LIVE_MIGRATE_VM_STATES),
                          'host': inst.host}):
            current = instance_obj.Instance.get_by_uuid(self.db, uuid)
            self._check_state(current, method,
                              vm_states=states.LIVE_MIGRATE_VM_STATES,
                              task_states=(None,))
            raise exception.InstanceInvalidState(
                method=method, instance_uuid=uuid, attr='host',
                state=current.host)
        try:
            row = db_api.migration_create(self.db, {
                'instance_uuid': uuid, 'source_compute': inst.host,
                'source_node': inst.node, 'dest_compute': target.host,
                'dest_node': target.node, 'dest_host': target.host,
                'status': migration_obj.QUEUED,
                'migration_type': LIVE_MIGRATION,
                'project_id': getattr(ctx, 'project_id', None),
                'user_id': getattr(ctx, 'user_id', None)})
        except Exception:
            db_api.instance_update(self.db, uuid, {'task_state': None})
            raise
        mig = migration_obj.Migration.from_db(self.db, row)
        LOG.info('Server %s: live migration %s from %s to %s queued', uuid,
                 mig.id, inst.host, target.host)
        try:
            self.compute_rpcapi.live_migration(
                ctx, inst.host, uuid, mig.id, target.host, block_migration)
        except Exception as exc:
            LOG.error('Server %s: cannot reach %s: %s', uuid, inst.host, exc)
            mig.status = migration_obj.ERROR
            mig.save()
            db_api.instance_update(self.db, uuid, {'task_state': None})
            raise
        return mig

    def live_migrate_force_complete(self, ctx, uuid, migration_id):
        """Ask the source's monitor to finish the migration now.

        Raises InstanceNotFound (404); InstanceInvalidState (409) unless
        the server is active/paused and migrating;
        MigrationNotFoundForInstance (404); InvalidMigrationState (400)
        unless the migration is 'running' (as Nova's API reference says).
        """
        method = 'force_complete'
        inst = self._get_instance(ctx, uuid)
        self._check_state(inst, method,
                          vm_states=states.LIVE_MIGRATE_VM_STATES,
                          task_states=(states.MIGRATING,))
        mig = migration_obj.Migration.get_by_id_and_instance(
            self.db, _migration_id(migration_id, uuid), uuid)
        if mig.status not in FORCE_COMPLETABLE_STATUSES:
            raise exception.InvalidMigrationState(
                migration_id=mig.id, instance_uuid=uuid, state=mig.status,
                method='force complete')
        self.compute_rpcapi.live_migration_force_complete(
            ctx, mig.source_compute, uuid, mig.id)

    def live_migrate_abort(self, ctx, uuid, migration_id,
                           allowed_statuses=ABORTABLE_STATUSES):
        """Cancel a live migration.

        queued/preparing: cancelled here, libvirt is not involved; running:
        the source's monitor aborts the job. Raises InstanceNotFound (404);
        InstanceInvalidState (409) unless the server is migrating;
        MigrationNotFoundForInstance (404); InvalidMigrationState (400)
        when the status is not in ``allowed_statuses`` (the REST layer
        passes ('running',) below microversion 2.65).
        """
        method = 'abort live migration'
        inst = self._get_instance(ctx, uuid)
        self._check_state(inst, method, task_states=(states.MIGRATING,))
        mig = migration_obj.Migration.get_by_id_and_instance(
            self.db, _migration_id(migration_id, uuid), uuid)
        allowed = tuple(allowed_statuses or ABORTABLE_STATUSES)
        for _attempt in range(3):
            if mig.status not in allowed:
                raise exception.InvalidMigrationState(
                    migration_id=mig.id, instance_uuid=uuid,
                    state=mig.status, method=method)
            if mig.status == migration_obj.RUNNING:
                self.compute_rpcapi.live_migration_abort(
                    ctx, mig.source_compute, uuid, mig.id)
                return
            if db_api.migration_update(
                    self.db, mig.id, {'status': migration_obj.CANCELLED},
                    expected={'status': mig.status}):
                db_api.instance_update(
                    self.db, uuid, {'task_state': None},
                    expected={'task_state': states.MIGRATING})
                LOG.info('Server %s: live migration %s cancelled while %s',
                         uuid, mig.id, mig.status)
                if mig.status == migration_obj.PREPARING:
                    self.compute_rpcapi.rollback_live_migration_at_destination(
                        ctx, mig.dest_compute, uuid, mig.id)
                return
            # The compute service moved it on meanwhile: look again.
            mig = migration_obj.Migration.get_by_id(self.db, mig.id)
        raise exception.InvalidMigrationState(
            migration_id=mig.id, instance_uuid=uuid, state=mig.status,
            method=method)

    def list_server_migrations(self, ctx, uuid):
        """In-progress live migrations of one server (404 if no server)."""
        self._get_instance(ctx, uuid)
        return migration_obj.Migration.get_all(self.db, {
            'instance_uuid': uuid, 'migration_type': LIVE_MIGRATION,
            'status': list(migration_obj.IN_PROGRESS)})

    def get_server_migration(self, ctx, uuid, migration_id):
        """One in-progress live migration of a server.

        InstanceNotFound (404); MigrationNotFoundForInstance (404);
        InProgressMigrationNotFound (404) once it has ended.
        """
        self._get_instance(ctx, uuid)
        mig = migration_obj.Migration.get_by_id_and_instance(
            self.db, _migration_id(migration_id, uuid), uuid)
        if (mig.migration_type != LIVE_MIGRATION or
                mig.status not in migration_obj.IN_PROGRESS):
            raise exception.InProgressMigrationNotFound(
                migration_id=migration_id, instance_id=uuid)
        return mig

    def list_migrations(self, ctx, filters=None, limit=None, marker=None):
        """os-migrations: every migration, newest first.

        ``filters``: host, status, instance_uuid, migration_type,
        source_compute, dest_compute, project_id, user_id, changes-since,
        changes-before (datetimes or ISO 8601 strings). MarkerNotFound
        (400) for an unknown ``marker`` (a migration uuid).
        """
        query = {}
        for key, value in (filters or {}).items():
            if key not in _MIGRATION_FILTERS or value is None:
                continue
            if key in ('changes-since', 'changes-before'):
                value = _parse_time(value)
            query[key] = value
        return migration_obj.Migration.get_all(self.db, query, limit=limit,
                                               marker=marker)

    def get_migration_progress(self, ctx, migration_id):
        """(Migration, its timeline rows); MigrationNotFound (404)."""
        mig = migration_obj.Migration.get_by_id(self.db, migration_id)
        return mig, db_api.migration_timeline_get(self.db, mig.id)

    def list_server_live_migrations(self, ctx, uuid):
        """[(Migration, its decision rows)] of a server, newest first
        (os-instance-actions); InstanceNotFound (404).
        """
        self._get_instance(ctx, uuid)
        return [(mig, db_api.migration_timeline_get(
            self.db, mig.id, kind=db_api.TIMELINE_EVENT))
            for mig in migration_obj.Migration.get_all(self.db, {
                'instance_uuid': uuid, 'migration_type': LIVE_MIGRATION})]


def default_hostname(display_name):
    """A guest host name from a server's display name, as Nova makes it:
    lower case, spaces and underscores as '-', other characters outside
    [a-z0-9.-] dropped, at most 63 characters; 'server' when nothing is
    left.
    """
    name = re.sub(r'[ _]', '-', (display_name or '').lower())
    name = re.sub(r'[^a-z0-9.-]', '', name)
    name = name.strip('.-')[:63].rstrip('.-')
    return name or 'server'


def _parse_time(value):
    """A naive UTC datetime; Invalid (400) for what is none.

    OverflowError too: 9999-12-31T23:59:59-01:00 parses but has no UTC
    datetime.
    """
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = datetime.datetime.fromisoformat(
                str(value).replace('Z', '+00:00'))
        except ValueError:
            raise exception.Invalid(reason='Invalid time %r' % value)
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        except OverflowError:
            raise exception.Invalid(reason='Invalid time %r' % value)
    return parsed


# Migration ids are SQL integers: 64-bit signed in every database we use.
MAX_MIGRATION_ID = 2 ** 63 - 1


def _migration_id(migration_id, instance_uuid):
    """The integer id of a migration, as the REST path gave it.

    MigrationNotFoundForInstance (404) for anything no row can have
    (``abc``, ``-1``, 2**64): the database driver would raise on an id
    out of its integer range (a 500) instead of finding nothing.
    """
    try:
        value = int(str(migration_id).strip())
    except ValueError:
        value = None
    if value is None or not 0 < value <= MAX_MIGRATION_ID:
        raise exception.MigrationNotFoundForInstance(
            migration_id=migration_id, instance_id=instance_uuid)
    return value


def check_schema(db):
    """Raise DatabaseNotSynced unless the schema is at the latest revision."""
    found = db_migration.db_version(db.engine)
    expected = db_migration.head_revision()
    if found != expected:
        raise exception.DatabaseNotSynced(url=db.engine.url.render_as_string(
            hide_password=True), found=found, expected=expected)
