"""The libvirt compute driver: live migration and its monitor loop.

The driver starts the blocking ``migrateToURI3`` in an operation thread and
watches the job from the calling thread. The loop is deliberately short:
every decision lives in ``migration.py`` and takes plain values; this
module only gathers those values from libvirt and applies the answers.
Operator requests (force-complete, abort) do not touch libvirt directly:
they queue a task that the loop runs on its next pass.
"""

import collections
import dataclasses
import threading
from typing import Any

from oslo_log import log as logging

import nova.conf
from nova import exception
from nova import utils
from nova.virt import driver
from nova.objects import migrate_data as migrate_data_obj
from nova.virt.libvirt import config as libvirt_config
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host
from nova.virt.libvirt import migration
from nova.virt.libvirt import migration_flags
from nova.virt.libvirt import postcopy_recovery

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

# How often the loop polls libvirt ([libvirt] live_migration_monitor_interval
# sets how often it writes stats out).
MONITOR_POLL_INTERVAL = 0.5
# How long a broken monitor waits for the cancelled operation to return.
ABANDON_WAIT = 60.0


@dataclasses.dataclass
class ActiveMigration(object):
    """What the API side and the monitor loop share for one migration."""

    instance_uuid: str
    tasks: Any = dataclasses.field(default_factory=collections.deque)
    state: Any = None


@dataclasses.dataclass
class MigrationResult(object):
    """How a live migration ended and what the monitor did on the way."""

    job_type: int
    state: Any
    error: Any = None

    @property
    def completed(self):
        return self.job_type == libvirt_guest.JOB_COMPLETED


class LibvirtDriver(driver.ComputeDriver):
    """Nova's libvirt driver, reduced to what live migration needs."""

    def __init__(self, host=None, conf=None, clock=None):
        self._conf = conf or CONF
        self._host = host or libvirt_host.Host(
            self._conf.libvirt.connection_uri)
        self._clock = clock or utils.RealClock()
        self._active = {}
        self._active_lock = threading.Lock()
        self._host.register_lifecycle_handler(self._on_lifecycle_event)

    @property
    def host(self):
        return self._host

    @property
    def _lv(self):
        return self._host.libvirt

    def init_host(self, host):
        """Check the connection works and say which features are usable."""
        self._host.get_connection()
        plan = self._migration_plan(block_migration=False)
        for note in plan.notes:
            LOG.info('Live migration: %s', note)

    # -- guests -----------------------------------------------------------

    def spawn(self, context, instance, image):
        """Define and start the guest of ``instance`` from a BootImage.

        ``instance.metadata`` may carry workload parameters for the guest
        command line (``config.WORKLOAD_PARAMS``).
        """
        lvconf = self._conf.libvirt
        console = None
        if lvconf.guest_console_dir:
            console = '%s/%s.log' % (lvconf.guest_console_dir.rstrip('/'),
                                     instance.uuid)
        xml = libvirt_config.guest_xml(libvirt_config.GuestConfig(
            name=instance.name or 'instance-%s' % instance.uuid[:8],
            uuid=instance.uuid, memory_mib=instance.memory_mb,
            vcpus=instance.vcpus or 1, virt_type=lvconf.virt_type,
            image=image,
            extra_cmdline=libvirt_config.workload_cmdline(
                getattr(instance, 'metadata', None)),
            console_path=console))
        LOG.info('Instance %s: starting guest', instance.uuid)
        return self._host.create_guest(xml)

    def destroy(self, context, instance):
        """Stop and undefine the guest here, if this host has it."""
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            return False
        exists, active = guest.exists_active()
        if active:
            guest.destroy()
        if exists:
            try:
                guest.undefine()
            except self._lv.libvirtError as exc:
                if exc.get_error_code() != self._lv.VIR_ERR_NO_DOMAIN:
                    raise
        return True

    def get_power_state(self, instance):
        """NOSTATE when the guest is not here, or left while we asked."""
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            return libvirt_guest.NOSTATE
        try:
            return guest.get_power_state()
        except self._lv.libvirtError as exc:
            if exc.get_error_code() != self._lv.VIR_ERR_NO_DOMAIN:
                raise
            return libvirt_guest.NOSTATE

    def list_instance_uuids(self):
        return [guest.uuid for guest in self._host.list_guests()]

    def get_available_resource(self):
        """Host facts for the compute node record (os-hypervisors)."""
        conn = self._host.get_connection()
        model, memory_mb, cpus = conn.getInfo()[:3]
        return {
            'hypervisor_hostname': self._host.get_hostname(),
            'hypervisor_type': 'QEMU',
            'hypervisor_version': conn.getVersion(),
            'vcpus': cpus, 'memory_mb': memory_mb, 'cpu_info': model,
            'virt_type': self._conf.libvirt.virt_type,
        }

    # -- destination side of a live migration -----------------------------

    def pre_live_migration(self, context, instance, migrate_data=None):
        """Runs on the destination: say where the source should send to."""
        data = migrate_data or migrate_data_obj.LibvirtLiveMigrateData()
        data.target_connect_addr = (
            self._conf.libvirt.live_migration_inbound_addr or None)
        return data

    def post_live_migration_at_destination(self, context, instance,
                                           migrate_data=None):
        """Runs on the destination once the guest has arrived.

        A guest the source paused only to force completion runs again here.
        """
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            raise exception.LiveMigrationFailed(
                instance_id=instance.uuid,
                reason='the guest is not on the destination')
        if (migrate_data is not None and
                migrate_data.paused_for_completion and
                guest.get_power_state() == libvirt_guest.PAUSED):
            LOG.info('Instance %s: resuming the guest paused to complete '
                     'its migration', instance.uuid)
            guest.resume()
        return guest.get_power_state()

    def rollback_live_migration_at_destination(self, context, instance):
        """Runs on the destination after a failure: drop a stopped leftover.

        A guest that runs here (post-copy failed half-way) is left alone:
        destroying it could lose the only running half.
        """
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            return
        exists, active = guest.exists_active()
        if exists and not active:
            guest.undefine()

    # -- flags ------------------------------------------------------------

    def _migration_plan(self, block_migration):
        lvconf = self._conf.libvirt
        has = self._host.has_min_version
        plan = migration_flags.build_migration_flags(
            self._lv,
            tunnelled=lvconf.live_migration_tunnelled,
            block_migration=block_migration,
            permit_postcopy=lvconf.live_migration_permit_post_copy,
            permit_auto_converge=lvconf.live_migration_permit_auto_converge,
            postcopy_supported=has(migration_flags.MIN_LIBVIRT_POSTCOPY,
                                   migration_flags.MIN_QEMU_POSTCOPY),
            auto_converge_supported=has(
                migration_flags.MIN_LIBVIRT_AUTO_CONVERGE,
                migration_flags.MIN_QEMU_AUTO_CONVERGE),
            parallel_connections=lvconf.live_migration_parallel_connections,
            parallel_supported=has(migration_flags.MIN_LIBVIRT_PARALLEL,
                                   migration_flags.MIN_QEMU_PARALLEL),
            parallel_with_postcopy_supported=has(
                migration_flags.MIN_LIBVIRT_PARALLEL,
                migration_flags.MIN_QEMU_PARALLEL_WITH_POSTCOPY))
        note = migration_flags.postcopy_recovery_note(
            plan, has(migration_flags.MIN_LIBVIRT_POSTCOPY_RESUME,
                      migration_flags.MIN_QEMU_POSTCOPY_RESUME),
            lvconf.live_migration_postcopy_recovery_timeout)
        if note:
            plan.notes.append(note)
        return plan

    # -- operator requests --------------------------------------------------

    def _queue_task(self, instance, task):
        with self._active_lock:
            active = self._active.get(instance.uuid)
            if active is None:
                raise exception.NoActiveMigrationForInstance(
                    instance_id=instance.uuid)
            active.tasks.append(task)
        LOG.info('Queued live migration task %s for %s', task, instance.uuid)

    def live_migration_force_complete(self, instance):
        self._queue_task(instance, migration.TASK_FORCE_COMPLETE)

    def live_migration_abort(self, instance):
        self._queue_task(instance, migration.TASK_ABORT)

    def active_migration(self, instance_uuid):
        """The ActiveMigration of an instance, or None."""
        with self._active_lock:
            return self._active.get(instance_uuid)

    # -- events -----------------------------------------------------------

    def _on_lifecycle_event(self, uuid, event, detail):
        """Note post-copy switches and breaks; runs on libvirt's event thread.
        """
        lv = self._lv
        if event != lv.VIR_DOMAIN_EVENT_SUSPENDED:
            return
        active = self.active_migration(uuid)
        if active is None or active.state is None:
            return
        if detail == lv.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
            LOG.info('Instance %s: migration switched to post-copy', uuid)
            active.state.postcopy_active = True
        elif detail == getattr(lv, 'VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED',
                               None):
            LOG.warning('Instance %s: libvirt reports the post-copy '
                        'migration failed: the guest waits, split between '
                        'the hosts', uuid)
            active.state.postcopy_active = True
            active.state.postcopy_broken = True
            if active.state.broken_since is None:
                active.state.broken_since = self._clock.now()

    # -- live migration ---------------------------------------------------

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        guest = self._host.get_guest(instance.uuid)
        mig = migrate_data.migration if migrate_data else None
        plan = self._migration_plan(block_migration)
        for note in plan.notes:
            LOG.info('Instance %s: %s', instance.uuid, note)
        lvconf = self._conf.libvirt
        addr = migrate_data.target_connect_addr if migrate_data else None
        try:
            dest_uri = (migrate_data and migrate_data.dest_uri) or \
                migration_flags.destination_uri(
                    dest, scheme=lvconf.live_migration_scheme,
                    uri_template=lvconf.live_migration_uri,
                    target_connect_addr=addr)
            params = migration_flags.migrate_params(
                self._lv, addr, lvconf.live_migration_tunnelled,
                lvconf.live_migration_bandwidth, plan.parallel_connections)
        except ValueError as exc:
            # Nothing has started: the guest has not been touched.
            raise exception.MigrationPreCheckError(reason=str(exc))
        disk_bytes = migrate_data.disk_bytes if migrate_data else 0
        state = migration.MonitorState(
            data_gb=migration.guest_data_gb(instance.memory_mb, disk_bytes),
            postcopy_enabled=plan.postcopy,
            postcopy_recoverable=plan.postcopy_recoverable)
        active = ActiveMigration(instance.uuid, state=state)
        with self._active_lock:
            self._active[instance.uuid] = active
        LOG.info('Instance %s: live migration to %s (%s), flags %#x',
                 instance.uuid, dest, dest_uri, plan.flags)
        try:
            if mig is not None:
                mig.status = migration.STATUS_RUNNING
                mig.save()
            operation = utils.spawn_blocking(
                guest.migrate, dest_uri, params, plan.flags)
            try:
                job_type, error = self._live_migration_monitor(
                    guest, instance, mig, active, operation)
                if (state.postcopy_active and
                        job_type != libvirt_guest.JOB_COMPLETED):
                    job_type, error = self._recover_postcopy(
                        guest, instance, mig, active, dest_uri, params,
                        plan, error)
            except Exception:
                LOG.exception('Instance %s: live migration monitor failed',
                              instance.uuid)
                self._abandon(guest, state, operation)
                raise
        finally:
            with self._active_lock:
                self._active.pop(instance.uuid, None)
        self._finish(context, instance, dest, guest, state, job_type, error,
                     post_method, recover_method, block_migration,
                     migrate_data)
        return MigrationResult(job_type, state, error)

    def _recover_postcopy(self, guest, instance, mig, active, dest_uri,
                          params, plan, error):
        """The post-copy stream broke: resume it, or leave it for a human.

        Never destroys or cancels anything: in post-copy neither host holds
        the whole guest. Returns (job type, error) like the monitor.
        """
        state = active.state
        lvconf = self._conf.libvirt
        # The recovery time counts from when the stream was first seen
        # broken: libvirt's call may only have returned much later.
        broke_at = state.broken_since or self._clock.now()
        state.postcopy_broken = True
        state.record(broke_at, postcopy_recovery.ACTION_BROKEN, str(error))
        self._save_status(mig, postcopy_recovery.STATUS_POSTCOPY_PAUSED)
        timeout = lvconf.live_migration_postcopy_recovery_timeout
        LOG.warning('Instance %s: post-copy migration stream broke (%s). The '
                    'guest waits, split between this host and the '
                    'destination; %s', instance.uuid, error,
                    'trying to resume it for up to %d s' % timeout
                    if plan.postcopy_recoverable else
                    'it cannot be resumed automatically')
        if not plan.postcopy_recoverable:
            return self._give_up_postcopy(guest, instance, state, dest_uri,
                                          params, error, broke_at)
        resume_flags = plan.flags | self._lv.VIR_MIGRATE_POSTCOPY_RESUME
        for at in postcopy_recovery.attempt_schedule(
                timeout, lvconf.live_migration_postcopy_resume_max_interval):
            wait = broke_at + at - self._clock.now()
            if wait > 0:
                self._clock.sleep(wait)
            state.resume_attempts += 1
            now = self._clock.now()
            state.record(now, postcopy_recovery.ACTION_RESUME,
                         'attempt %d' % state.resume_attempts)
            self._pause_stream_quietly(guest)
            operation = utils.spawn_blocking(guest.migrate, dest_uri, params,
                                             resume_flags)
            job_type, error = self._live_migration_monitor(
                guest, instance, mig, active, operation,
                give_up_at=broke_at + timeout)
            if job_type == libvirt_guest.JOB_COMPLETED:
                state.postcopy_broken = False
                state.record(self._clock.now(),
                             postcopy_recovery.ACTION_RESUMED,
                             'after %.1f s, attempt %d' % (
                                 self._clock.now() - broke_at,
                                 state.resume_attempts))
                return job_type, None
            state.postcopy_broken = True
            self._save_status(mig, postcopy_recovery.STATUS_POSTCOPY_PAUSED)
            LOG.warning('Instance %s: resuming the post-copy migration '
                        '(attempt %d) failed: %s', instance.uuid,
                        state.resume_attempts, error)
            if not operation.ready():
                break       # libvirt still holds the call: no new attempt
        return self._give_up_postcopy(guest, instance, state, dest_uri,
                                      params, error, broke_at)

    def _pause_stream_quietly(self, guest):
        """Make sure QEMU is in postcopy-paused, as resuming requires.

        libvirt refuses when it already is (or the stream is gone): fine.
        """
        try:
            guest.pause_postcopy()
        except Exception as exc:
            LOG.debug('migrate-pause before resuming: %s', exc)

    def _give_up_postcopy(self, guest, instance, state, dest_uri, params,
                          error, broke_at):
        state.postcopy_unrecovered = True
        state.record(self._clock.now(), postcopy_recovery.ACTION_GAVE_UP,
                     '%d attempts' % state.resume_attempts)
        hint = postcopy_recovery.manual_resume_hint(
            self._host.uri, guest.name, dest_uri,
            params.get(self._lv.VIR_MIGRATE_PARAM_URI))
        LOG.error('Instance %s: post-copy migration NOT recovered after %.0f '
                  's and %d attempts (last error: %s). The guest is not lost '
                  'but split: its vCPUs and part of its memory are on the '
                  'destination, the rest on this host; nothing was destroyed '
                  'on either. Once the hosts reach each other again, resume '
                  'it with: %s', instance.uuid, self._clock.now() - broke_at,
                  state.resume_attempts, error, hint)
        return libvirt_guest.JOB_FAILED, error

    @staticmethod
    def _save_status(mig, status):
        if mig is not None and mig.status != status:
            mig.status = status
            mig.save()

    def _abandon(self, guest, state, operation):
        """The monitor broke: do not leave an unwatched migration behind.

        Cancel it (unless in post-copy, where only finishing is safe) so
        the guest stays where it runs now.
        """
        if not state.postcopy_active:
            try:
                guest.abort_job()
            except Exception as exc:
                LOG.warning('Could not cancel the unmonitored migration: '
                            '%s', exc)
        try:
            operation.wait(timeout=ABANDON_WAIT)
        except Exception as exc:
            LOG.warning('Migration operation ended with: %s', exc)

    def _finish(self, context, instance, dest, guest, state, job_type, error,
                post_method, recover_method, block_migration, migrate_data):
        if state.postcopy_unrecovered:
            # Split between the hosts: nothing to undo, nothing to resume on
            # the source; the records must say it needs an operator.
            if migrate_data is not None:
                migrate_data.postcopy_unrecovered = True
            recover_method(context, instance, dest, migrate_data,
                           migration_status='error')
            return
        if job_type == libvirt_guest.JOB_COMPLETED:
            LOG.info('Instance %s: live migration completed', instance.uuid)
            self._save_final_stats(instance, migrate_data, state)
            if migrate_data is not None:
                migrate_data.paused_for_completion = state.paused_by_monitor
            post_method(context, instance, dest, block_migration,
                        migrate_data)
            return
        status = ('cancelled' if job_type == libvirt_guest.JOB_CANCELLED
                  else 'failed')
        LOG.warning('Instance %s: live migration %s: %s', instance.uuid,
                    status, error or 'guest still on the source')
        migration.run_recover_tasks(guest, state)
        recover_method(context, instance, dest, migrate_data,
                       migration_status=status)

    @staticmethod
    def _save_final_stats(instance, migrate_data, state):
        """Everything was sent: record it, whatever the last sample said.

        A short migration may end before libvirt reported any totals (the
        monitor's only sample fell in the set-up phase); the guest's RAM is
        then the memory total.
        """
        mig = migrate_data.migration if migrate_data else None
        if mig is None:
            return
        info = migration.completed_stats(state.last_info,
                                         instance.memory_mb)
        migration.save_stats(instance, mig, info)

    def _live_migration_monitor(self, guest, instance, mig, active,
                                operation, give_up_at=None):
        """Watch one migration until it ends; return (job type, error).

        ``give_up_at`` bounds a post-copy resume attempt: past it, an
        attempt that has not got data moving again is left to libvirt
        (whose call may never return) and reported as failed.
        """
        state = active.state
        lvconf = self._conf.libvirt
        ladder = migration.downtime_steps(
            state.data_gb, lvconf.live_migration_downtime,
            lvconf.live_migration_downtime_steps,
            lvconf.live_migration_downtime_delay)
        seen = False
        while True:
            info = guest.get_job_info()
            now = self._clock.now()
            running = migration.is_job_running(info)
            # The call returning ends it too: after a post-copy failure
            # libvirt keeps reporting the stalled job as running.
            if operation.ready() or (seen and not running):
                break               # it ended: read the outcome below
            if (give_up_at is not None and now >= give_up_at and
                    state.postcopy_broken):
                return libvirt_guest.JOB_FAILED, exception.LiveMigrationFailed(
                    instance_id=instance.uuid,
                    reason='the resumed post-copy migration moved no data '
                           'before live_migration_postcopy_recovery_timeout')
            if not running:
                self._clock.sleep(MONITOR_POLL_INTERVAL)
                continue            # the job has not started yet
            seen = True
            if state.started_at is None:
                state.started_at = now
                state.progress = migration.ProgressTracker(started_at=now)
            elapsed = now - state.started_at
            state.last_info = info
            state.samples.append((elapsed, info))
            state.progress.observe(now, info.memory_iteration,
                                   info.data_remaining,
                                   info.memory_dirty_bps, info.memory_bps)
            migration.run_tasks(active.tasks, guest, state, now)
            self._take_decisions(guest, info, state, now, elapsed)
            state.downtime_step = migration.update_downtime(
                guest, ladder, state.downtime_step, elapsed)
            self._save_progress(instance, mig, info, state, now)
            self._clock.sleep(MONITOR_POLL_INTERVAL)
        return self._outcome(guest, state, operation)

    def _take_decisions(self, guest, info, state, now, elapsed):
        """Timeouts, the automatic post-copy switch, a stalled post-copy."""
        lvconf = self._conf.libvirt
        if state.postcopy_active:
            self._watch_postcopy_stream(guest, info, state, now)
            return
        if state.timeout_action_taken is None:
            due = migration.timeout_action_due(
                elapsed,
                migration.completion_timeout_seconds(
                    lvconf.live_migration_completion_timeout, state.data_gb),
                state.progress.stalled_for(now),
                lvconf.live_migration_progress_timeout,
                state.postcopy_active)
            if due is not None:
                if self._timeout_action(guest, state, now, due):
                    state.timeout_action_taken = due
                return
        reason = migration.should_switch_to_postcopy(
            info, state.progress, state.postcopy_enabled,
            state.postcopy_active)
        if reason is not None:
            try:
                migration.force_complete(guest, state, now, reason)
            except Exception as exc:
                LOG.warning('Switch to post-copy failed: %s', exc)

    def _watch_postcopy_stream(self, guest, info, state, now):
        """Pause a post-copy stream that stopped moving, to resume it."""
        if state.stall is None:
            state.stall = postcopy_recovery.StallWatch()
        state.stall.observe(now, info.memory_processed)
        if state.postcopy_broken and state.stall.stalled_for(now) == 0:
            LOG.info('Post-copy data is moving again')
            state.postcopy_broken = False
            state.broken_since = None
        lvconf = self._conf.libvirt
        stalled = state.stall.stalled_for(now)
        if not postcopy_recovery.should_pause_stream(
                stalled, lvconf.live_migration_postcopy_stall_timeout,
                state.postcopy_recoverable, state.postcopy_broken):
            return
        state.record(now, postcopy_recovery.ACTION_PAUSE,
                     'no data moved for %.1f s' % stalled)
        state.postcopy_broken = True
        state.broken_since = now
        try:
            guest.pause_postcopy()
        except Exception as exc:
            LOG.warning('Could not pause the stalled post-copy stream: %s',
                        exc)

    def _timeout_action(self, guest, state, now, which):
        """Take the configured action; False when libvirt refused it.

        A refused action is tried again at the next poll.
        """
        action = self._conf.libvirt.live_migration_timeout_action
        reason = '%s timeout reached' % which
        try:
            if action == 'force_complete':
                migration.force_complete(guest, state, now, reason)
            else:
                migration.abort(guest, state, now, reason)
        except Exception as exc:
            LOG.warning('Live migration timeout action %s failed, will '
                        'retry: %s', action, exc)
            return False
        return True

    def _save_progress(self, instance, mig, info, state, now):
        if mig is None:
            return
        status = postcopy_recovery.status_for(state.postcopy_active,
                                              state.postcopy_broken)
        if state.postcopy_active and mig.status != status:
            mig.status = status
            state.stats_saved_at = None     # save the new status now
        interval = self._conf.libvirt.live_migration_monitor_interval
        if (state.stats_saved_at is None or
                now - state.stats_saved_at >= interval):
            migration.save_stats(instance, mig, info)
            state.stats_saved_at = now
            LOG.info('Instance %s: %s', instance.uuid,
                     migration.progress_summary(info, state, now))

    def _outcome(self, guest, state, operation):
        """Wait for the operation thread and classify how the job ended."""
        error = None
        try:
            operation.wait()
        except self._lv.libvirtError as exc:
            error = exc
        except Exception as exc:  # anything else is a failure too
            error = exc
        job_type = migration.find_job_type(guest, error,
                                           state.cancelled_by_operator)
        return job_type, error
