"""The compute manager: one per compute host, owner of its driver.

It serves the compute RPC API (``nova.compute.rpcapi``) for its host: the
source side of a live migration (queue, ``pre_live_migration`` on the
destination, the driver's blocking ``live_migration``, then the post or
rollback step) and the destination side (``pre_live_migration``,
``post_live_migration_at_destination``, ``rollback_...``). Every record it
changes is in the shared database; the driver's ``save()`` calls land there
too, because the Instance and Migration it hands over are DB-backed.

Migration statuses: queued -> preparing -> running -> (running (post-copy))
-> post-migrating -> completed; or failed / error / cancelled.
"""

import contextlib
import copy
import dataclasses
import threading
import time
from typing import Any, Optional

import oslo_messaging as messaging
from oslo_log import log as logging

from nova.compute import migration_timeline
from nova.compute import states
from nova.db import api as db_api
from nova import exception
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova import utils
from nova.virt import image as virt_image

LOG = logging.getLogger(__name__)

# How long an operator request waits for a migration that is just being
# handed to the driver (between the 'running' claim and the monitor loop).
MONITOR_HANDOVER_WAIT = 10.0
# How long a delete waits for the live migration it aborted to end (a
# migration in post-copy cannot be aborted and must finish first).
DELETE_MIGRATION_WAIT = 600.0
# How long a restarted source waits for the destination's answer to "is
# the guest there?" before trying again at the next report.
SETTLE_RPC_TIMEOUT = 10
# Nova's prefix for a reason the service set itself (and may clear).
AUTO_DISABLE_PREFIX = 'AUTO: '
HYPERVISOR_LOST = AUTO_DISABLE_PREFIX + 'Connection to libvirt lost'


# -- pure decisions --------------------------------------------------------

SOURCE = 'source'
DEST = 'dest'

_HERE = (states.RUNNING, states.PAUSED_POWER, states.SUSPENDED,
         states.CRASHED)


def settle_decision(status, on_source, on_dest, source_job_running=False):
    """How to record a live migration this source host left unfinished.

    ``on_source`` / ``on_dest``: the power state of the guest on each host
    (NOSTATE: not there), None when that host could not be asked.
    Returns (final status, 'source' or 'dest': where the instance is), or
    None when it cannot be told yet (ask again later).
    """
    if status == migration_obj.QUEUED:
        return migration_obj.CANCELLED, SOURCE    # never started
    if on_dest == states.RUNNING:
        return migration_obj.COMPLETED, DEST      # execution moved
    if source_job_running:
        return None                                # still moving
    if on_source in _HERE:
        return migration_obj.FAILED, SOURCE
    if on_source is None:
        return None
    if on_dest is None:
        return None
    if on_dest in _HERE:
        return migration_obj.COMPLETED, DEST
    # On neither host: nothing is lost by saying so; the record stays.
    return migration_obj.ERROR, SOURCE


GUEST_MISSING = ('The hypervisor of %s has no guest for this server (found '
                 'when the compute service started); delete the server')
_SETTLED_VM_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED_VM,
                      states.STOPPED)


def guest_missing(vm_state, task_state, on_hypervisor, migrating):
    """Whether a server of this host is to be recorded as lost at start.

    Only a server at rest (no task, no migration in progress: those are
    settled by their own steps) whose guest the hypervisor does not have.
    """
    return (not on_hypervisor and not migrating and task_state is None and
            vm_state in _SETTLED_VM_STATES)


def boot_image(image):
    return virt_image.BootImage(kernel=image['kernel'],
                                initrd=image['initrd'],
                                cmdline=image['cmdline'] or '')


def domain_name(instance_uuid):
    """libvirt domain name of an instance: unique per host, unlike the
    server's display name.
    """
    return 'instance-%s' % instance_uuid[:8]


@dataclasses.dataclass
class LiveMigrationJob(object):
    """One outgoing live migration this manager accepted."""

    migration_id: int
    instance_uuid: str
    dest: str
    phase: str = 'queued'          # queued, preparing, driver, done
    handle: Any = None
    result: Any = None
    error: Optional[BaseException] = None

    @property
    def done(self):
        return self.phase == 'done'


class ComputeManager(object):
    """RPC endpoint of one compute host."""

    target = messaging.Target(version='1.0')

    def __init__(self, host, driver, db, compute_rpcapi, conf):
        self.host = host
        self.driver = driver
        self.db = db
        self.compute_rpcapi = compute_rpcapi
        self.conf = conf
        self.node = None
        self.service_id = None
        limit = conf.max_concurrent_live_migrations
        self._slots = threading.Semaphore(limit) if limit > 0 else None
        self._lock = threading.Lock()
        self._jobs = {}
        self._unsettled = set()
        self.stopping = False
        # Whether this manager disabled its service because the hypervisor
        # did not answer (None: not known yet, e.g. left by a previous run).
        self._auto_disabled = None

    @property
    def _rpc_timeout(self):
        return self.conf.live_migration_rpc_timeout

    # -- start-up and periodic work ------------------------------------------

    def init_host(self, ctxt):
        """Check the driver, report resources, settle what a stop left."""
        self.driver.init_host(self.host)
        self.update_available_resource(ctxt)
        for mig in migration_obj.Migration.get_all(self.db, {
                'source_compute': self.host,
                'migration_type': 'live-migration',
                'status': list(migration_obj.IN_PROGRESS)}):
            self._unsettled.add(mig.id)
        self.settle_interrupted_migrations(ctxt)
        self._clear_stale_task_states()
        self._settle_interrupted_builds()
        self._reconcile_guests()

    def cleanup_host(self):
        """The service stops: migrations still queued here are cancelled
        (the guest has not moved); running ones go on in their threads.
        """
        self.stopping = True
        with self._lock:
            queued = [job for job in self._jobs.values()
                      if job.phase == 'queued']
        for job in queued:
            self._cancel_queued(job.migration_id, job.instance_uuid,
                                'the compute service is stopping')

    def _cancel_queued(self, migration_id, instance_uuid, why):
        if db_api.migration_update(self.db, migration_id,
                                   {'status': migration_obj.CANCELLED},
                                   expected={'status': migration_obj.QUEUED}):
            db_api.instance_update(self.db, instance_uuid,
                                   {'task_state': None},
                                   expected={'task_state': states.MIGRATING})
            LOG.info('Migration %s cancelled while queued: %s',
                     migration_id, why)
            return True
        return False

    def periodic_tasks(self, ctxt):
        """Resources and any migration still to settle (the service beats:
        ``ComputeService.report_state``, once the bus answered).
        """
        try:
            self.update_available_resource(ctxt)
        except Exception as exc:
            self._hypervisor_lost(exc)
            raise
        self._hypervisor_back()
        if self._unsettled:
            self.settle_interrupted_migrations(ctxt)

    def _hypervisor_lost(self, error):
        """The hypervisor does not answer: stop taking new work, as Nova
        does (the service still beats, so it would look usable: servers
        built or migrated to it would fail).
        """
        if self.service_id is None or self._auto_disabled:
            return
        service = db_api.service_get(self.db, self.service_id)
        if service['disabled']:
            return                  # an operator's choice: leave it
        reason = ('%s: %s' % (HYPERVISOR_LOST, error))[:255]
        db_api.service_update(self.db, self.service_id,
                              {'disabled': True, 'disabled_reason': reason})
        self._auto_disabled = True
        LOG.warning('Compute service %s disabled: %s', self.host, reason)

    def _hypervisor_back(self):
        """Enable the service again if it was disabled for a lost
        hypervisor (never one an operator disabled).
        """
        if self.service_id is None or self._auto_disabled is False:
            return
        service = db_api.service_get(self.db, self.service_id)
        if service['disabled'] and (service['disabled_reason'] or '') \
                .startswith(HYPERVISOR_LOST):
            db_api.service_update(self.db, self.service_id,
                                  {'disabled': False,
                                   'disabled_reason': None})
            LOG.info('Compute service %s enabled again: the hypervisor '
                     'answers', self.host)
        self._auto_disabled = False

    def update_available_resource(self, ctxt=None):
        res = self.driver.get_available_resource()
        usage = db_api.instance_usage_by_host(self.db).get(
            self.host, (0, 0, 0))
        count, memory_used, vcpus_used = usage
        values = {
            'hypervisor_hostname': res['hypervisor_hostname'],
            'hypervisor_type': res.get('hypervisor_type'),
            'hypervisor_version': res.get('hypervisor_version'),
            'cpu_info': res.get('cpu_info'),
            'vcpus': res['vcpus'], 'memory_mb': res['memory_mb'],
            'vcpus_used': vcpus_used, 'memory_mb_used': memory_used,
            'running_vms': count, 'state': 'up',
        }
        node = db_api.compute_node_update_for_host(self.db, self.host, values)
        self.node = node['hypervisor_hostname']
        return node

    def _clear_stale_task_states(self):
        """A 'migrating' instance of this host with no migration going on
        gets its task state cleared.
        """
        for inst in instance_obj.Instance.get_all(self.db, {
                'host': self.host, 'task_state': states.MIGRATING}):
            live = migration_obj.Migration.get_all(self.db, {
                'instance_uuid': inst.uuid,
                'status': list(migration_obj.IN_PROGRESS)})
            if not live:
                LOG.info('Clearing stale task_state migrating', instance=inst)
                db_api.instance_update(self.db, inst.uuid,
                                       {'task_state': None},
                                       expected={'task_state':
                                                 states.MIGRATING})

    def _settle_interrupted_builds(self):
        for inst in instance_obj.Instance.get_all(self.db, {
                'host': self.host, 'vm_state': states.BUILDING}):
            power = self.driver.get_power_state(inst)
            if power == states.RUNNING:
                values = {'vm_state': states.ACTIVE, 'task_state': None,
                          'power_state': power}
            else:
                values = {'vm_state': states.ERROR, 'task_state': None,
                          'power_state': power,
                          'fault_message': 'Build interrupted by a restart '
                                           'of the compute service.'}
            LOG.info('Build interrupted, now %s', values['vm_state'],
                     instance=inst)
            db_api.instance_update(self.db, inst.uuid, values)

    def _reconcile_guests(self):
        """Servers the database places here whose guest the hypervisor does
        not have go to ERROR with a fault (Nova only logs them); guests the
        database does not know are logged and left alone.
        """
        try:
            present = set(self.driver.list_instance_uuids())
        except Exception as exc:
            LOG.warning('Cannot list the guests of %s, nothing reconciled: '
                        '%s', self.host, exc)
            return
        known = instance_obj.Instance.get_all(self.db, {'host': self.host})
        moving = {m.instance_uuid for m in migration_obj.Migration.get_all(
            self.db, {'status': list(migration_obj.IN_PROGRESS)})}
        for inst in known:
            if not guest_missing(inst.vm_state, inst.task_state,
                                 inst.uuid in present, inst.uuid in moving):
                continue
            fault = (GUEST_MISSING % self.host)[:255]
            if db_api.instance_update(
                    self.db, inst.uuid,
                    {'vm_state': states.ERROR, 'task_state': None,
                     'power_state': states.NOSTATE, 'fault_message': fault},
                    expected={'vm_state': inst.vm_state, 'task_state': None,
                              'host': self.host}):
                LOG.warning('(%s) %s; now ERROR', inst.vm_state, fault,
                            instance=inst)
        for uuid in sorted(present - {inst.uuid for inst in known}):
            LOG.warning('Guest %s runs on %s but no server of this host has '
                        'that uuid; left alone', uuid, self.host)

    def settle_interrupted_migrations(self, ctxt):
        """Record where the guests of unfinished migrations really run."""
        for migration_id in sorted(self._unsettled):
            with self._lock:
                if migration_id in self._jobs:
                    self._unsettled.discard(migration_id)
                    continue
            try:
                if self._settle_one(ctxt, migration_id):
                    self._unsettled.discard(migration_id)
            except Exception:
                LOG.exception('Could not settle migration %s', migration_id)

    def _where_is(self, ctxt, host, instance):
        """Power state of the guest on ``host``; None when unknown."""
        if host == self.host:
            return self.driver.get_power_state(instance)
        try:
            # A short question: settling is retried at every report.
            return self.compute_rpcapi.get_instance_power_state(
                ctxt, host, instance.uuid,
                timeout=min(self._rpc_timeout, SETTLE_RPC_TIMEOUT))
        except Exception as exc:
            LOG.warning('Cannot ask %s about instance %s: %s', host,
                        instance.uuid, exc)
            return None

    def _source_job_running(self, instance):
        """True when the hypervisor still runs a migration job for the guest
        here (a pre-copy job is cancelled: nobody watches it any more).
        """
        try:
            return self.driver.cancel_unmonitored_migration(instance)
        except Exception as exc:
            LOG.warning('Cannot tell whether a migration job is left: %s',
                        exc, instance=instance)
            return False

    def _settle_one(self, ctxt, migration_id):
        mig = migration_obj.Migration.get_by_id(self.db, migration_id)
        if not mig.in_progress:
            return True
        try:
            inst = instance_obj.Instance.get_by_uuid(self.db,
                                                     mig.instance_uuid)
        except exception.InstanceNotFound:
            mig.status = migration_obj.ERROR
            mig.save()
            return True
        on_source = on_dest = None
        job_running = False
        if mig.status != migration_obj.QUEUED:
            on_source = self._where_is(ctxt, self.host, inst)
            on_dest = self._where_is(ctxt, mig.dest_compute, inst)
            job_running = self._source_job_running(inst)
        decision = settle_decision(mig.status, on_source, on_dest,
                                   job_running)
        LOG.info('Migration %s of instance %s left %s (source: %s, '
                 'destination: %s): %s', mig.id, inst.uuid, mig.status,
                 on_source, on_dest, decision or 'cannot tell yet')
        if decision is None:
            return False
        status, where = decision
        if where == DEST:
            inst.host = mig.dest_compute
            inst.node = mig.dest_node
            inst.power_state = on_dest
        elif on_source is not None:
            inst.power_state = on_source
        inst.task_state = None
        inst.save()
        mig.status = status
        mig.save()
        return True

    # -- servers ---------------------------------------------------------------

    def build_and_run_instance(self, ctxt, instance_uuid, image_id):
        inst = instance_obj.Instance.get_by_uuid(self.db, instance_uuid)
        inst.task_state = states.SPAWNING
        inst.node = self.node
        inst.save()
        try:
            image = db_api.image_get(self.db, image_id)
            if image is None:
                raise exception.ImageNotFound(image_id=image_id)
            view = copy.copy(inst)
            view.name = domain_name(inst.uuid)
            self.driver.spawn(ctxt, view, boot_image(image))
        except Exception as exc:
            LOG.exception('Build failed', instance_uuid=instance_uuid)
            inst.vm_state = states.ERROR
            inst.task_state = None
            inst.fault_message = 'Build of instance %s failed: %s' % (
                instance_uuid, exc)
            inst.power_state = self._power_state(inst)
            inst.save()
            return
        inst.power_state = self._power_state(inst)
        inst.vm_state = states.ACTIVE
        inst.task_state = None
        inst.launched_at = db_api.utcnow()
        inst.save()
        LOG.info('Active on %s', self.host, instance_uuid=instance_uuid)
        self._update_resources_quietly()

    def _update_resources_quietly(self):
        try:
            self.update_available_resource()
        except Exception:
            LOG.exception('Could not update the compute node record')

    def _power_state(self, inst):
        try:
            return self.driver.get_power_state(inst)
        except Exception:
            LOG.exception('Cannot read its power state', instance=inst)
            return states.NOSTATE

    def terminate_instance(self, ctxt, instance_uuid):
        if not self._end_migrations_for_delete(ctxt, instance_uuid):
            return
        try:
            inst = instance_obj.Instance.get_by_uuid(self.db, instance_uuid)
        except exception.InstanceNotFound:
            return
        if inst.host and inst.host != self.host:
            # The migration had to finish (post-copy): the guest is there.
            LOG.info('Deleting on %s, where the migration left the guest',
                     inst.host, instance=inst)
            self.compute_rpcapi.terminate_instance(ctxt, inst.host,
                                                   instance_uuid)
            return
        try:
            self.driver.destroy(ctxt, inst)
        except Exception as exc:
            LOG.exception('Destroy failed', instance_uuid=instance_uuid)
            db_api.instance_update(self.db, instance_uuid, {
                'vm_state': states.ERROR, 'task_state': None,
                'fault_message': 'Delete failed: %s' % exc})
            return
        db_api.instance_destroy(self.db, instance_uuid)
        LOG.info('Deleted from %s', self.host, instance_uuid=instance_uuid)
        self._update_resources_quietly()

    def _end_migrations_for_delete(self, ctxt, instance_uuid):
        """Abort this host's live migrations of a server being deleted and
        wait for them to end; False when one did not end in time (the
        server then goes to ERROR with a fault, nothing is destroyed).
        """
        with self._lock:
            jobs = [job for job in self._jobs.values()
                    if job.instance_uuid == instance_uuid]
        for job in jobs:
            LOG.info('Aborting live migration %s: the server is being '
                     'deleted', job.migration_id, instance_uuid=instance_uuid)
            mig = migration_obj.Migration.get_by_id(self.db, job.migration_id)
            cancelled = (mig.status in (migration_obj.QUEUED,
                                        migration_obj.PREPARING) and
                         db_api.migration_update(
                             self.db, mig.id,
                             {'status': migration_obj.CANCELLED},
                             expected={'status': mig.status}))
            if cancelled and mig.status == migration_obj.QUEUED:
                continue    # it never touches the hypervisor now
            if not cancelled:
                self._to_monitor(instance_uuid, job.migration_id,
                                 self._abort_for_delete, 'abort for a delete')
            deadline = time.monotonic() + DELETE_MIGRATION_WAIT
            while not job.done and time.monotonic() < deadline:
                time.sleep(0.05)
            if not job.done:
                LOG.error('Live migration %s did not end within %d s of the '
                          'delete; the server is left in ERROR',
                          job.migration_id, DELETE_MIGRATION_WAIT,
                          instance_uuid=instance_uuid)
                db_api.instance_update(self.db, instance_uuid, {
                    'vm_state': states.ERROR, 'task_state': None,
                    'fault_message': 'Delete failed: live migration %s did '
                                     'not end' % job.migration_id})
                return False
        return True

    def _abort_for_delete(self, instance):
        self.driver.live_migration_abort(instance, for_delete=True)

    def get_instance_power_state(self, ctxt, instance_uuid):
        view = instance_obj.Instance(uuid=instance_uuid)
        return self.driver.get_power_state(view)

    # -- pause, unpause, suspend, resume -----------------------------------

    def _power_action(self, ctxt, instance_uuid, what, driver_method,
                      vm_state):
        """Run a driver power action; the API has set the task state.

        On success the server takes ``vm_state``; on failure it keeps its
        vm_state, the task state is cleared and the fault recorded (as
        Nova reverts a failed pause).
        """
        try:
            inst = instance_obj.Instance.get_by_uuid(self.db, instance_uuid)
        except exception.InstanceNotFound:
            return
        try:
            getattr(self.driver, driver_method)(ctxt, inst)
        except Exception as exc:
            LOG.exception('%s failed', what, instance_uuid=instance_uuid)
            inst.task_state = None
            inst.fault_message = '%s of instance %s failed: %s' % (
                what.capitalize(), instance_uuid, exc)
            inst.power_state = self._power_state(inst)
            inst.save()
            return
        inst.vm_state = vm_state
        inst.task_state = None
        inst.power_state = self._power_state(inst)
        inst.save()
        LOG.info('%s done on %s', what, self.host, instance_uuid=instance_uuid)

    def pause_instance(self, ctxt, instance_uuid):
        self._power_action(ctxt, instance_uuid, 'pause', 'pause',
                           states.PAUSED)

    def unpause_instance(self, ctxt, instance_uuid):
        self._power_action(ctxt, instance_uuid, 'unpause', 'unpause',
                           states.ACTIVE)

    def suspend_instance(self, ctxt, instance_uuid):
        self._power_action(ctxt, instance_uuid, 'suspend', 'suspend',
                           states.SUSPENDED_VM)

    def resume_instance(self, ctxt, instance_uuid):
        self._power_action(ctxt, instance_uuid, 'resume', 'resume',
                           states.ACTIVE)

    def get_host_uptime(self, ctxt):
        return self.driver.get_host_uptime()

    # -- live migration: source side --------------------------------------------

    def live_migration(self, ctxt, instance_uuid, migration_id, dest,
                       block_migration=False):
        """Accept a live migration; it runs in its own thread."""
        job = LiveMigrationJob(migration_id=migration_id,
                               instance_uuid=instance_uuid, dest=dest)
        with self._lock:
            self._jobs[migration_id] = job
        if block_migration != 'auto':
            block_migration = bool(block_migration)
        job.handle = utils.spawn(self._run_live_migration, ctxt, job,
                                 block_migration)
        return None

    def live_migration_job(self, migration_id):
        with self._lock:
            return self._jobs.get(migration_id)

    @contextlib.contextmanager
    def _slot(self):
        if self._slots is None:
            yield
            return
        self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()

    def _run_live_migration(self, ctxt, job, block_migration):
        try:
            with self._slot():
                job.result = self._do_live_migration(ctxt, job,
                                                     block_migration)
        except BaseException as exc:
            job.error = exc
            LOG.exception('Live migration %s failed unexpectedly',
                          job.migration_id)
        finally:
            job.phase = 'done'
            with self._lock:
                self._jobs.pop(job.migration_id, None)
            self._update_resources_quietly()
        return job.result

    def _do_live_migration(self, ctxt, job, block_migration):
        db = self.db
        if self.stopping:
            self._cancel_queued(job.migration_id, job.instance_uuid,
                                'the compute service is stopping')
            return None
        # Claim it: an abort may have cancelled it while it queued.
        if not db_api.migration_update(
                db, job.migration_id, {'status': migration_obj.PREPARING},
                expected={'status': migration_obj.QUEUED}):
            LOG.info('Migration %s was cancelled while queued',
                     job.migration_id)
            return None
        job.phase = 'preparing'
        mig = migration_obj.Migration.get_by_id(db, job.migration_id)
        inst = instance_obj.Instance.get_by_uuid(db, job.instance_uuid)
        try:
            # The guest's local disks, for the destination to re-create
            # (or, with 'auto', to find on storage it shares).
            disks = ([d.to_dict() for d in
                      self.driver.get_instance_disk_info(inst)]
                     if block_migration else [])
            dest_data = self.compute_rpcapi.pre_live_migration(
                ctxt, job.dest, inst.uuid, mig.id, block_migration,
                timeout=self._rpc_timeout, disks=disks)
            block_migration = bool((dest_data or {}).get(
                'block_migration', block_migration is True))
        except Exception as exc:
            LOG.error('Pre_live_migration on %s failed: %s', job.dest, exc,
                      instance=inst)
            self._rollback_live_migration(
                ctxt, inst, job.dest,
                migrate_data_obj.LibvirtLiveMigrateData(migration=mig),
                migration_status=migration_obj.ERROR)
            return None
        if not db_api.migration_update(
                db, mig.id, {'status': migration_obj.RUNNING},
                expected={'status': migration_obj.PREPARING}):
            LOG.info('Migration %s was cancelled while preparing', mig.id)
            self._cast_rollback_at_destination(ctxt, job.dest, inst, mig)
            return None
        mig.status = migration_obj.RUNNING
        mig.obj_reset_changes()
        data = migrate_data_obj.LibvirtLiveMigrateData(
            migration=mig,
            target_connect_addr=(dest_data or {}).get('target_connect_addr'),
            block_migration=block_migration,
            disks=disks if block_migration else None,
            dest_uri=(dest_data or {}).get('dest_uri'))
        job.phase = 'driver'
        try:
            return self.driver.live_migration(
                ctxt, inst, job.dest, self._post_live_migration,
                self._rollback_live_migration,
                block_migration=block_migration, migrate_data=data)
        except Exception:
            LOG.exception('Live migration to %s broke', job.dest,
                          instance=inst)
            self._unsettled.add(mig.id)
            self._settle_or_error(ctxt, mig.id)
            return None

    def _settle_or_error(self, ctxt, migration_id):
        """After a broken monitor: record where the guest is now."""
        with self._lock:
            self._jobs.pop(migration_id, None)
        try:
            if self._settle_one(ctxt, migration_id):
                self._unsettled.discard(migration_id)
        except Exception:
            LOG.exception('Could not settle migration %s', migration_id)

    def _post_live_migration(self, ctxt, instance, dest, block_migration,
                             migrate_data):
        """The guest runs on ``dest`` now: the records follow it there."""
        mig = migrate_data.migration
        mig.status = migration_obj.POST_MIGRATING
        mig.save()
        wire = {
            'paused_for_completion': bool(getattr(
                migrate_data, 'paused_for_completion', False)),
            'block_migration': bool(block_migration),
        }
        final = migration_obj.COMPLETED
        try:
            power = self.compute_rpcapi.post_live_migration_at_destination(
                ctxt, dest, instance.uuid, mig.id, wire,
                timeout=self._rpc_timeout)
        except Exception as exc:
            LOG.error('Post_live_migration_at_destination on %s failed: %s',
                      dest, exc, instance=instance)
            power = None
            final = migration_obj.ERROR
            instance.fault_message = self._migration_fault(
                mig, dest, 'the destination could not finish it: %s' % exc)
        # Whatever the destination answered, the guest runs there.
        instance.host = dest
        instance.node = mig.dest_node
        if power is not None:
            instance.power_state = power
        instance.task_state = self._task_state_after_migration(instance)
        instance.save()
        mig.status = final
        mig.save()
        LOG.info('Live migration to %s %s', dest, final, instance=instance)

    def _rollback_live_migration(self, ctxt, instance, dest, migrate_data,
                                 migration_status=migration_obj.ERROR):
        """The guest stays here: the records say so.

        Unless a broken post-copy migration could not be resumed: the guest
        is then split between the hosts, the server goes to ERROR and the
        destination keeps its half (its rollback leaves a running guest).
        """
        mig = migrate_data.migration
        split = getattr(migrate_data, 'postcopy_unrecovered', False)
        instance.task_state = self._task_state_after_migration(instance)
        instance.power_state = self._power_state(instance)
        if split:
            instance.vm_state = states.ERROR
        if migration_status == migration_obj.ERROR:
            instance.fault_message = self._migration_fault(mig, dest)
        instance.save()
        self._cast_rollback_at_destination(ctxt, dest, instance, mig)
        mig.status = migration_status
        mig.save()
        if split:
            LOG.error('Post-copy live migration to %s %s; the guest is split '
                      'between %s and %s and needs an operator (see the '
                      "driver's log line)", dest, migration_status, self.host,
                      dest, instance=instance)
            return
        LOG.info('Live migration to %s %s; the guest stays on %s', dest,
                 migration_status, self.host, instance=instance)

    def _task_state_after_migration(self, instance):
        """None, unless a delete arrived meanwhile (it stays 'deleting')."""
        try:
            current = instance_obj.Instance.get_by_uuid(
                self.db, instance.uuid)
        except exception.InstanceNotFound:
            return None
        return states.DELETING if current.task_state == states.DELETING \
            else None

    @staticmethod
    def _migration_fault(mig, dest, why=None):
        """The server's fault: ``why``, else the migration's last decision
        (the server's fault shows once it is in ERROR, as in Nova).
        """
        events = []
        if why is None:
            try:
                events = mig.timeline().events
            except Exception as exc:
                LOG.warning('Cannot read the timeline of migration %s: %s',
                            mig.id, exc)
        return migration_timeline.fault_message(mig.id, dest, events, why)

    def _cast_rollback_at_destination(self, ctxt, dest, instance, mig):
        try:
            self.compute_rpcapi.rollback_live_migration_at_destination(
                ctxt, dest, instance.uuid, mig.id)
        except Exception as exc:
            LOG.warning('Could not ask %s to clean up: %s', dest, exc,
                        instance=instance)

    def _to_monitor(self, instance_uuid, migration_id, action, what):
        """Hand an operator request to the driver's monitor loop."""
        inst = instance_obj.Instance(uuid=instance_uuid)
        deadline = time.monotonic() + MONITOR_HANDOVER_WAIT
        while True:
            try:
                action(inst)
                return True
            except exception.NoActiveMigrationForInstance:
                job = self.live_migration_job(migration_id)
                if (job is None or job.done or
                        time.monotonic() > deadline):
                    LOG.warning('No live migration to %s', what,
                                instance_uuid=instance_uuid)
                    return False
                time.sleep(0.05)

    def live_migration_force_complete(self, ctxt, instance_uuid,
                                      migration_id):
        LOG.info('Force-complete of migration %s requested', migration_id,
                 instance_uuid=instance_uuid)
        self._to_monitor(instance_uuid, migration_id,
                         self.driver.live_migration_force_complete,
                         'force to complete')

    def live_migration_abort(self, ctxt, instance_uuid, migration_id):
        LOG.info('Abort of migration %s requested', migration_id,
                 instance_uuid=instance_uuid)
        mig = migration_obj.Migration.get_by_id(self.db, migration_id)
        if mig.status in (migration_obj.QUEUED, migration_obj.PREPARING):
            if db_api.migration_update(
                    self.db, migration_id,
                    {'status': migration_obj.CANCELLED},
                    expected={'status': mig.status}):
                db_api.instance_update(self.db, instance_uuid,
                                       {'task_state': None},
                                       expected={'task_state':
                                                 states.MIGRATING})
                return
        self._to_monitor(instance_uuid, migration_id,
                         self.driver.live_migration_abort, 'abort')

    # -- live migration: destination side -----------------------------------------

    def pre_live_migration(self, ctxt, instance_uuid, migration_id,
                           block_migration=False, disks=None):
        inst = instance_obj.Instance.get_by_uuid(self.db, instance_uuid)
        if block_migration != 'auto':
            block_migration = bool(block_migration)
        data = self.driver.pre_live_migration(
            ctxt, inst, migrate_data_obj.LibvirtLiveMigrateData(
                block_migration=block_migration, disks=disks or None))
        return {'target_connect_addr': data.target_connect_addr,
                'dest_uri': data.dest_uri,
                'block_migration': data.block_migration is True}

    def post_live_migration_at_destination(self, ctxt, instance_uuid,
                                           migration_id, migrate_data=None):
        inst = instance_obj.Instance.get_by_uuid(self.db, instance_uuid)
        data = migrate_data_obj.LibvirtLiveMigrateData(
            block_migration=bool((migrate_data or {}).get(
                'block_migration')))
        if (migrate_data or {}).get('paused_for_completion'):
            data.paused_for_completion = True
        power = self.driver.post_live_migration_at_destination(
            ctxt, inst, migrate_data=data)
        inst.host = self.host
        inst.node = self.node
        inst.power_state = power
        inst.save()
        self._update_resources_quietly()
        return power

    def rollback_live_migration_at_destination(self, ctxt, instance_uuid,
                                               migration_id):
        inst = instance_obj.Instance(uuid=instance_uuid)
        self.driver.rollback_live_migration_at_destination(ctxt, inst)
