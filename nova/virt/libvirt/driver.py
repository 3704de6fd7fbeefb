"""The libvirt compute driver: guests, and live migration with its monitor.

The driver starts the blocking ``migrateToURI3`` in an operation thread and
hands the job to a ``monitor.MigrationMonitor``, which watches it from the
calling thread (every decision is ``migration.decide``'s). Operator
requests (force-complete, abort) and libvirt events do not touch the
monitor's state: they go on the migration's channel, which only the
monitor's loop drains.
"""

import dataclasses
import subprocess
import threading
from typing import Any

from oslo_log import log as logging

import nova.conf
from nova.compute import migration_timeline
from nova.compute import power_state
from nova import exception
from nova.objects import fields
from nova.objects import migrate_data as migrate_data_obj
from nova import utils
from nova.virt import driver
from nova.virt.libvirt import config as libvirt_config
from nova.virt.libvirt import disk as libvirt_disk
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host
from nova.virt.libvirt import host_facts
from nova.virt.libvirt import libnfs
from nova.virt.libvirt import machine_type
from nova.virt.libvirt import migration
from nova.virt.libvirt import migration_flags
from nova.virt.libvirt import monitor as migration_monitor
from nova.virt.libvirt import postcopy_recovery

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

# How long a broken monitor waits for the cancelled operation to return.
ABANDON_WAIT = 60.0
# How long a question to the destination's libvirt may take.
PEER_TIMEOUT = 3.0


@dataclasses.dataclass
class ActiveMigration(object):
    """One running migration.

    Any thread may put on its channel; only the monitor loop writes its
    state.
    """

    instance_uuid: str
    channel: Any = dataclasses.field(default_factory=utils.Channel)
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
        # Instances whose images pre_live_migration created here (a block
        # migration): only those are removed again by a rollback.
        self._incoming_disks = set()
        self._host.register_lifecycle_handler(self._on_lifecycle_event)
        self._host.register_iteration_handler(self._on_migration_iteration)

    @property
    def host(self):
        return self._host

    @property
    def _lv(self):
        return self._host.libvirt

    def init_host(self, host):
        """Check the connection and versions; say which features are usable.

        Refuses (as Nova does) a libvirt or QEMU older than the minimum.
        """
        self._host.get_connection()
        problem = migration_flags.version_problem(
            self._host.get_libvirt_version(),
            self._host.get_hypervisor_version())
        if problem:
            raise exception.InternalError(
                'The libvirt driver needs libvirt >= %s and QEMU >= %s: '
                '%s' % (
                    '.'.join(map(str, migration_flags.MIN_LIBVIRT_VERSION)),
                    '.'.join(map(str, migration_flags.MIN_QEMU_VERSION)),
                    problem))
        plan = self._migration_plan(block_migration=False)
        for note in plan.notes:
            LOG.info('Live migration: %s', note)
        lvconf = self._conf.libvirt
        warning = migration_flags.control_link_warning(
            lvconf.live_migration_with_native_tls,
            lvconf.live_migration_scheme, lvconf.live_migration_uri)
        if warning:
            LOG.warning('Live migration: %s', warning)

    # -- guests -----------------------------------------------------------

    def spawn(self, context, instance, image):
        """Define and start the guest of ``instance`` from a BootImage.

        ``instance.metadata`` may carry workload parameters for the guest
        command line (``config.WORKLOAD_PARAMS``), and ``net_ip``: the
        guest then gets a virtio NIC on ``[libvirt] guest_bridge``.
        """
        lvconf = self._conf.libvirt
        metadata = getattr(instance, 'metadata', None)
        interfaces: tuple = ()
        if libvirt_config.network_address(metadata):
            if not lvconf.guest_bridge:
                raise exception.InternalError(
                    'Instance metadata net_ip asks for a network, but '
                    '[libvirt] guest_bridge names no bridge on this host')
            interfaces = (libvirt_config.GuestInterface(
                bridge=lvconf.guest_bridge,
                mac=libvirt_config.guest_mac(instance.uuid)),)
        disks = self._create_root_disk(instance, metadata)
        console = None
        if lvconf.guest_console_dir:
            console = '%s/%s.log' % (lvconf.guest_console_dir.rstrip('/'),
                                     instance.uuid)
        xml = libvirt_config.guest_xml(libvirt_config.GuestConfig(
            name=instance.name or 'instance-%s' % instance.uuid[:8],
            uuid=instance.uuid, memory_mib=instance.memory_mb,
            vcpus=instance.vcpus or 1, virt_type=lvconf.virt_type,
            image=image,
            extra_cmdline=libvirt_config.workload_cmdline(metadata),
            console_path=console, interfaces=interfaces, disks=disks,
            machine_type=self._machine_type(metadata)))
        LOG.info('Starting guest', instance=instance)
        return self._host.create_guest(xml)

    def _machine_type(self, metadata):
        try:
            return machine_type.for_guest(
                'x86_64', self._conf.libvirt.hw_machine_type, metadata)
        except ValueError as exc:
            raise exception.InternalError(str(exc))

    # -- instance disks ------------------------------------------------------

    def _instances_pool(self):
        return self._host.instances_pool(
            libvirt_disk.pool_xml(self._conf.libvirt.instances_path),
            libvirt_disk.POOL_NAME)

    def _create_root_disk(self, instance, metadata):
        """The instance's root image, or none: metadata ``disk_mib`` MiB,
        else the flavor's ``root_gb`` GiB recorded at create (0: none).
        """
        size = libvirt_disk.root_disk_bytes(
            metadata, getattr(instance, 'root_gb', 0) or 0)
        if not size:
            return ()
        name = libvirt_disk.volume_name(instance.uuid)
        try:
            share = libvirt_disk.parse_nfs_share(
                self._conf.libvirt.images_nfs_share)
        except ValueError as exc:
            raise exception.InternalError(str(exc))
        if share:
            # Shared storage QEMU opens itself: no pool, no mount here.
            host, path = libvirt_disk.nfs_image(share, name)
            self._run_qemu_img('create', '-q', '-f', 'qcow2',
                               libvirt_disk.nfs_url(host, path), str(size))
            LOG.info('Root disk nfs://%s%s: %d MiB qcow2', host, path,
                     size // libvirt_disk.MiB, instance=instance)
            return (libvirt_config.GuestDisk(
                path=path, target=libvirt_disk.ROOT_TARGET, nfs_host=host),)
        pool = self._instances_pool()
        # A leftover of an earlier guest with this uuid is not this one's.
        self._host.delete_volume(pool, name)
        path = self._host.create_volume(pool, libvirt_disk.volume_xml(
            name, size))
        LOG.info('Root disk %s: %d MiB qcow2', path, size // libvirt_disk.MiB,
                 instance=instance)
        return (libvirt_config.GuestDisk(path=path,
                                         target=libvirt_disk.ROOT_TARGET),)

    def _run_qemu_img(self, *args):
        """qemu-img on this machine (the NFS share's images)."""
        try:
            subprocess.run(('qemu-img',) + args, check=True, timeout=120,
                           capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            raise exception.InternalError('qemu-img %s failed: %s' % (
                args[0], (exc.stderr or '').strip()))

    def _delete_disks(self, instance_uuid):
        """Remove the instance's images from this host's pool."""
        try:
            pool = self._instances_pool()
            return self._host.delete_volume(
                pool, libvirt_disk.volume_name(instance_uuid))
        except self._lv.libvirtError as exc:
            LOG.warning('Could not delete the disk of %s: %s', instance_uuid,
                        exc)
            return False

    def get_instance_disk_info(self, instance):
        """The guest's local disks as the destination must re-create them
        before a block migration: [DiskInfo] with virtual sizes and backing
        files, read from this host's libvirt (Nova's disk_info).
        """
        guest = self._guest_of(instance)
        disks = libvirt_disk.disks_from_domain_xml(guest.get_xml_desc())
        if not disks:
            return []
        pool = self._instances_pool()
        for info in disks:
            found = self._host.find_volume(
                pool, info.path.rsplit('/', 1)[-1])
            if found is None:
                raise exception.InternalError(
                    'Disk %s of %s is not in the %s storage pool at %s' % (
                        info.path, instance.uuid, libvirt_disk.POOL_NAME,
                        self._conf.libvirt.instances_path))
            info.virt_size = found[1]
        return disks

    def _create_incoming_disks(self, instance, disks):
        """Destination side of a block migration: an empty image of the same
        virtual size, format and backing file for every disk of the source,
        at the same path, for QEMU's NBD server to receive the copy.
        """
        pool = self._instances_pool()
        for info in disks:
            name = info.path.rsplit('/', 1)[-1]
            if self._host.find_volume(pool, name) is not None:
                raise exception.MigrationPreCheckError(
                    reason='%s already exists on this host: shared storage '
                           'needs no block migration, and a leftover must '
                           'not be overwritten' % info.path)
            path = self._host.create_volume(pool, libvirt_disk.volume_xml(
                name, info.virt_size, fmt=info.format,
                backing_file=info.backing_file))
            if path != info.path:
                self._host.delete_volume(pool, name)
                raise exception.MigrationPreCheckError(
                    reason='the destination keeps instance disks at %s, the '
                           'source at %s: [libvirt] instances_path must be '
                           'the same on both' % (path, info.path))
            LOG.info('Created %s (%d MiB) for the incoming block migration',
                     path, info.virt_size // libvirt_disk.MiB,
                     instance=instance)
        self._incoming_disks.add(instance.uuid)

    def destroy(self, context, instance, destroy_disks=True):
        """Stop and undefine the guest here, if this host has it.

        With ``destroy_disks`` (Nova's argument, the default) its images go
        too: the local ones in this host's pool and its root image on the
        ``[libvirt] images_nfs_share`` export. Only the compute manager's
        delete of the instance on its current host calls this; the clean-ups
        of a live migration never do (Nova's rule for shared storage: the
        source after a success leaves the image to the destination's guest,
        the destination's rollback leaves it to the source's), they undefine
        the guest and remove only the local copies a block migration made.
        """
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            return False
        try:
            xml = guest.get_xml_desc()
        except self._lv.libvirtError:
            xml = '<domain/>'
        exists, active = guest.exists_active()
        if active:
            guest.destroy()
        if exists:
            try:
                # libvirt refuses to undefine a suspended (saved) domain.
                guest.remove_managed_save()
                guest.undefine()
            except self._lv.libvirtError as exc:
                if exc.get_error_code() != self._lv.VIR_ERR_NO_DOMAIN:
                    raise
        if destroy_disks:
            if libvirt_disk.disks_from_domain_xml(xml):
                self._delete_disks(instance.uuid)
            self._delete_nfs_images(instance, xml)
        return True

    def _delete_nfs_images(self, instance, xml):
        """Remove the guest's root image from the NFS export; a failure is
        logged, never raised: the instance's delete goes on.
        """
        try:
            share = libvirt_disk.parse_nfs_share(
                self._conf.libvirt.images_nfs_share)
        except ValueError:
            share = None
        delete, keep = libvirt_disk.nfs_images_to_delete(xml, share,
                                                         instance.uuid)
        for host, path in keep:
            LOG.warning('Left nfs://%s%s on its export: it is not this '
                        "instance's root image on [libvirt] "
                        'images_nfs_share', host, path, instance=instance)
        for host, path in delete:
            try:
                removed = self._unlink_nfs_image(host, path)
            except Exception as exc:
                LOG.warning('Could not delete the root disk nfs://%s%s: %s; '
                            'remove it through an NFS client (not on the '
                            "server's disk directly)", host, path, exc,
                            instance=instance)
                continue
            LOG.info('Deleted the root disk nfs://%s%s' if removed else
                     'Root disk nfs://%s%s was already gone', host, path,
                     instance=instance)

    @staticmethod
    def _unlink_nfs_image(host, path):
        """Remove an image from the export over NFS (libnfs, no mount)."""
        return libnfs.unlink(host, path)

    def _guest_of(self, instance):
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        return guest

    def pause(self, context, instance):
        """Pause the guest: its vCPUs stop, its memory stays in place."""
        self._guest_of(instance).pause()

    def unpause(self, context, instance):
        self._guest_of(instance).resume()

    def suspend(self, context, instance):
        """Suspend the guest: libvirt's managed save writes its memory to
        disk and stops it (Nova's libvirt suspend).
        """
        self._guest_of(instance).save_memory_state()

    def resume(self, context, instance):
        """Start the suspended guest again from its managed-save image."""
        self._guest_of(instance).launch()

    def get_host_uptime(self):
        """This host's ``uptime`` line (os-hypervisors uptime)."""
        return host_facts.read_uptime_line()

    def get_power_state(self, instance):
        """NOSTATE when the guest is not here, or left while we asked."""
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            return power_state.NOSTATE
        try:
            return guest.get_power_state()
        except self._lv.libvirtError as exc:
            if exc.get_error_code() != self._lv.VIR_ERR_NO_DOMAIN:
                raise
            return power_state.NOSTATE

    def list_instance_uuids(self):
        return [guest.uuid for guest in self._host.list_guests()]

    def get_available_resource(self):
        """Host facts for the compute node record (os-hypervisors)."""
        model, memory_mb, cpus = self._host.get_info()[:3]
        return {
            'hypervisor_hostname': self._host.get_hostname(),
            'hypervisor_type': 'QEMU',
            'hypervisor_version': libvirt_host.version_to_int(
                self._host.get_hypervisor_version()),
            'vcpus': cpus, 'memory_mb': memory_mb,
            'cpu_info': host_facts.cpu_info_json(
                self._host.get_capabilities(), fallback_arch=model),
            'virt_type': self._conf.libvirt.virt_type,
        }

    # -- destination side of a live migration -----------------------------

    def pre_live_migration(self, context, instance, migrate_data=None):
        """Runs on the destination: say where the source should send to."""
        data = migrate_data or migrate_data_obj.LibvirtLiveMigrateData()
        data.target_connect_addr = (
            self._conf.libvirt.live_migration_inbound_addr or None)
        disks = [libvirt_disk.DiskInfo.from_dict(d) for d in data.disks or ()]
        if data.block_migration == 'auto':
            # API microversion 2.25: copy the disks unless this host already
            # sees the source's images at the same paths (shared storage).
            data.block_migration = bool(disks) and not self._disks_here(disks)
            LOG.info('block_migration auto: %s', 'the disks are copied'
                     if data.block_migration else 'shared storage, or no '
                     'local disk: no copy', instance=instance)
        if data.block_migration and disks:
            self._create_incoming_disks(instance, disks)
        return data

    def _disks_here(self, disks):
        """True when this host's pool has every one of these images.

        The instances directory is then shared with the source.
        """
        pool = self._instances_pool()
        return all(self._host.find_volume(pool, d.path.rsplit('/', 1)[-1])
                   is not None for d in disks)

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
                guest.get_power_state() == power_state.PAUSED):
            LOG.info('Resuming the guest paused to complete its migration',
                     instance=instance)
            guest.resume()
        return guest.get_power_state()

    def rollback_live_migration_at_destination(self, context, instance):
        """Runs on the destination after a failure: drop a stopped leftover.

        A guest that runs here (post-copy failed half-way) is left alone:
        destroying it could lose the only running half. Only the images a
        block migration created here are removed; shared storage (an
        ``images_nfs_share`` image) is the source's guest's and stays.
        """
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            if instance.uuid in self._incoming_disks:
                self._incoming_disks.discard(instance.uuid)
                self._delete_disks(instance.uuid)
            return
        exists, active = guest.exists_active()
        if exists and not active:
            guest.undefine()
            if instance.uuid in self._incoming_disks:
                self._incoming_disks.discard(instance.uuid)
                self._delete_disks(instance.uuid)

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
            parallel_connections=lvconf.live_migration_parallel_connections,
            parallel_with_postcopy_supported=has(
                hv_ver=migration_flags.MIN_QEMU_PARALLEL_WITH_POSTCOPY),
            native_tls=lvconf.live_migration_with_native_tls)
        note = migration_flags.postcopy_recovery_note(
            plan, has(migration_flags.MIN_LIBVIRT_POSTCOPY_RESUME,
                      migration_flags.MIN_QEMU_POSTCOPY_RESUME),
            lvconf.live_migration_postcopy_recovery_timeout)
        if note:
            plan.notes.append(note)
        return plan

    def _migration_policy(self, plan, data_gb):
        """The monitor's view of the options, read once per migration."""
        lvconf = self._conf.libvirt
        return migration.Policy(
            completion_timeout=migration.completion_timeout_seconds(
                lvconf.live_migration_completion_timeout, data_gb),
            progress_timeout=lvconf.live_migration_progress_timeout,
            timeout_action=lvconf.live_migration_timeout_action,
            postcopy_enabled=plan.postcopy,
            postcopy_start=lvconf.live_migration_post_copy_start,
            postcopy_recoverable=plan.postcopy_recoverable,
            postcopy_stall_timeout=(
                lvconf.live_migration_postcopy_stall_timeout),
            stats_interval=lvconf.live_migration_monitor_interval,
            ladder=tuple(migration.downtime_steps(
                data_gb, lvconf.live_migration_downtime,
                lvconf.live_migration_downtime_steps,
                lvconf.live_migration_downtime_delay)),
            downtime_schedule=lvconf.live_migration_downtime_schedule)

    # -- operator requests and events: onto the migration's channel -------

    def _put(self, uuid, kind, value=None):
        with self._active_lock:
            active = self._active.get(uuid)
        if active is None:
            return False
        active.channel.put(migration_monitor.MonitorEvent(
            kind, self._clock.now(), value))
        return True

    def _queue_task(self, instance, task):
        if not self._put(instance.uuid, migration_monitor.EVENT_TASK, task):
            raise exception.NoActiveMigrationForInstance(
                instance_id=instance.uuid)
        LOG.info('Queued live migration task %s', task, instance=instance)

    def live_migration_force_complete(self, instance):
        self._queue_task(instance, migration.TASK_FORCE_COMPLETE)

    def live_migration_abort(self, instance, for_delete=False):
        self._queue_task(instance, migration.TASK_DELETE if for_delete
                         else migration.TASK_ABORT)

    def active_migration(self, instance_uuid):
        """The ActiveMigration of an instance, or None."""
        with self._active_lock:
            return self._active.get(instance_uuid)

    def _on_lifecycle_event(self, uuid, event, detail):
        """Runs on libvirt's event thread: only puts on the channel."""
        lv = self._lv
        if event != lv.VIR_DOMAIN_EVENT_SUSPENDED:
            return
        if detail == lv.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
            self._put(uuid, migration_monitor.EVENT_POSTCOPY_STARTED)
        elif detail == getattr(lv, 'VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED',
                               None):
            self._put(uuid, migration_monitor.EVENT_POSTCOPY_FAILED)

    def _on_migration_iteration(self, uuid, iteration):
        """Runs on libvirt's event thread: a new memory pass began."""
        self._put(uuid, migration_monitor.EVENT_ITERATION, iteration)

    def cancel_unmonitored_migration(self, instance):
        """Cancel a pre-copy job nobody watches (left by a previous run).

        Returns True while libvirt still runs a migration job for the guest
        here (a post-copy one is left to finish).
        """
        guest = self._host.find_guest(instance.uuid)
        if guest is None:
            return False
        try:
            info = guest.get_job_info()
        except self._lv.libvirtError:
            return False
        if not migration.is_job_running(info):
            return False
        if guest.get_power_state() == power_state.RUNNING:
            LOG.warning('Cancelling the unwatched migration job left by the '
                        'previous run', instance=instance)
            try:
                guest.abort_job()
            except Exception as exc:
                LOG.warning('Could not cancel it: %s', exc,
                            instance=instance)
        return True

    # -- live migration ---------------------------------------------------

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        guest = self._host.get_guest(instance.uuid)
        mig = migrate_data.migration if migrate_data else None
        plan = self._migration_plan(block_migration)
        for note in plan.notes:
            LOG.info('%s', note, instance=instance)
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
                lvconf.live_migration_bandwidth, plan.parallel_connections,
                postcopy=plan.postcopy)
            if block_migration:
                disks = [libvirt_disk.DiskInfo.from_dict(d) for d in
                         (migrate_data.disks if migrate_data else None) or
                         []] or self.get_instance_disk_info(instance)
                if disks:
                    # Nova's migrate_disks: only the local disks are copied.
                    params[self._lv.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = [
                        d.target for d in disks]
                if migrate_data is not None:
                    migrate_data.disk_bytes = libvirt_disk.data_bytes(disks)
                    migrate_data.disks = [d.to_dict() for d in disks] or None
        except ValueError as exc:
            # Nothing has started: the guest has not been touched.
            raise exception.MigrationPreCheckError(reason=str(exc))
        disk_bytes = migrate_data.disk_bytes if migrate_data else 0
        data_gb = migration.guest_data_gb(instance.memory_mb, disk_bytes)
        state = migration_monitor.MonitorState(
            data_gb=data_gb, policy=self._migration_policy(plan, data_gb),
            recorder=migration_timeline.Recorder(
                mig, lvconf.live_migration_monitor_interval))
        active = ActiveMigration(instance.uuid, state=state)
        with self._active_lock:
            self._active[instance.uuid] = active
        LOG.info('Live migration to %s (%s), flags %#x', dest, dest_uri,
                 plan.flags, instance=instance)
        peer = _Peer(dest_uri, self._lv)
        monitor = migration_monitor.MigrationMonitor(
            guest, instance, state, active.channel, self._clock,
            save_progress=lambda info, status: self._save_progress(
                instance, mig, info, status),
            lv_error=self._lv.libvirtError, probe_destination=peer.answers)
        try:
            if mig is not None:
                mig.status = fields.MigrationStatus.RUNNING
                mig.save()
            operation = utils.spawn_blocking(
                guest.migrate, dest_uri, params, plan.flags)
            try:
                job_type, error = monitor.run(operation)
                if (state.postcopy.confirmed and
                        job_type != libvirt_guest.JOB_COMPLETED):
                    job_type, error = self._recover_postcopy(
                        guest, instance, mig, monitor, dest_uri, params,
                        plan, error, peer)
            except Exception:
                LOG.exception('Live migration monitor failed',
                              instance=instance)
                self._abandon(guest, state, operation)
                raise
        finally:
            with self._active_lock:
                self._active.pop(instance.uuid, None)
        self._finish(context, instance, dest, monitor, job_type, error,
                     post_method, recover_method, block_migration,
                     migrate_data)
        return MigrationResult(job_type, state, error)

    def _recover_postcopy(self, guest, instance, mig, monitor, dest_uri,
                          params, plan, error, peer):
        """The post-copy stream broke: resume it, or leave it for a human.

        Returns (job type, error) like the monitor.
        """
        state = monitor.state
        lvconf = self._conf.libvirt
        # The recovery time counts from when the stream was first seen
        # broken: libvirt's call may only have returned much later.
        broke_at = state.postcopy.broken_since or self._clock.now()
        state.postcopy.broken = True
        state.record(broke_at, postcopy_recovery.ACTION_BROKEN, str(error))
        self._save_status(mig, fields.MigrationStatus.POSTCOPY_PAUSED)
        timeout = lvconf.live_migration_postcopy_recovery_timeout
        LOG.warning('Post-copy migration stream broke (%s). The guest '
                    'waits, split between this host and the destination; '
                    '%s', error, 'trying to resume it for up to %d s' %
                    timeout if plan.postcopy_recoverable else
                    'it cannot be resumed automatically', instance=instance)
        if plan.postcopy_recoverable:
            recovery = migration_monitor.PostcopyRecovery(
                monitor,
                lambda flags: utils.spawn_blocking(guest.migrate, dest_uri,
                                                   params, flags),
                plan.flags | self._lv.VIR_MIGRATE_POSTCOPY_RESUME, timeout,
                lvconf.live_migration_postcopy_resume_max_interval,
                destination_failed=lambda: peer.postcopy_failed(
                    instance.uuid))
            job_type, error = recovery.run(broke_at, error)
            if job_type == libvirt_guest.JOB_COMPLETED:
                return job_type, error
        else:
            state.postcopy.unrecovered = True
        hint = postcopy_recovery.manual_resume_hint(
            self._host.uri, guest.name, dest_uri,
            params.get(self._lv.VIR_MIGRATE_PARAM_URI))
        LOG.error('Post-copy migration NOT recovered after %.0f s and %d '
                  'attempts (last error: %s). The guest is not lost but '
                  'split: its vCPUs and part of its memory are on the '
                  'destination, the rest on this host; nothing was destroyed '
                  'on either. Once the hosts reach each other again, resume '
                  'it with: %s', self._clock.now() - broke_at,
                  state.postcopy.resume_attempts, error, hint,
                  instance=instance)
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
        if not state.postcopy.confirmed:
            try:
                guest.abort_job()
            except Exception as exc:
                LOG.warning('Could not cancel the unmonitored migration: '
                            '%s', exc)
        try:
            operation.wait(timeout=ABANDON_WAIT)
        except Exception as exc:
            LOG.warning('Migration operation ended with: %s', exc)

    def _finish(self, context, instance, dest, monitor, job_type, error,
                post_method, recover_method, block_migration, migrate_data):
        state = monitor.state
        if state.postcopy.unrecovered:
            # Split between the hosts: nothing to undo, nothing to resume on
            # the source; the records must say it needs an operator.
            if migrate_data is not None:
                migrate_data.postcopy_unrecovered = True
            recover_method(context, instance, dest, migrate_data,
                           migration_status=fields.MigrationStatus.ERROR)
            return
        if job_type == libvirt_guest.JOB_COMPLETED:
            LOG.info('Live migration completed', instance=instance)
            self._save_final_stats(instance, migrate_data, state)
            if block_migration and migrate_data is not None and \
                    migrate_data.disks:
                # The destination has its own copy now (Nova's cleanup of
                # the source after a migration without shared storage). An
                # image on the NFS share is not among the local disks: the
                # destination's guest uses it, it stays.
                self._delete_disks(instance.uuid)
            if migrate_data is not None:
                migrate_data.paused_for_completion = state.paused_by_monitor
            post_method(context, instance, dest, block_migration,
                        migrate_data)
            return
        status = (fields.MigrationStatus.CANCELLED
                  if job_type == libvirt_guest.JOB_CANCELLED
                  else fields.MigrationStatus.FAILED)
        LOG.warning('Live migration %s: %s', status,
                    error or 'guest still on the source', instance=instance)
        monitor.recover()
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
        _save_stats(instance, mig, info)

    @staticmethod
    def _save_progress(instance, mig, info, status):
        if mig is None:
            return
        if mig.status != status:
            mig.status = status
        _save_stats(instance, mig, info)


class _Peer(object):
    """The destination's libvirt, as a broken post-copy migration needs it.

    Its own connection (the source daemon's peer-to-peer link is libvirt's
    business): "does it answer?" and "does its domain know its post-copy
    failed?", each bounded so that a silently dropping network cannot hang
    the monitor. Whether this process can see the destination at all is
    learnt at the start of the migration, while the network is known good:
    a compute service that cannot (the lab's run outside the hosts'
    network namespaces) gets "cannot tell" (None), never "unreachable".
    """

    def __init__(self, uri, libvirt_module):
        self._host = libvirt_host.Host(uri, libvirt_module=libvirt_module,
                                       event_loop=False)
        self._seen = utils.spawn_blocking(self._look)

    def _look(self):
        # Said once per migration: whether recovery of a broken post-copy
        # stream will be able to ask the destination (a compute service
        # on the hypervisor's own network can; one outside it cannot).
        try:
            seen = self._host.get_hostname() is not None
        except Exception as exc:
            LOG.info('Destination libvirt %s is not reachable from this '
                     'compute service (%s): post-copy recovery will not '
                     'ask it', self._host.uri, exc)
            return False
        LOG.info('Destination libvirt %s is reachable from this compute '
                 'service: post-copy recovery can ask it', self._host.uri)
        return seen

    def _visible(self):
        # Asked only once a post-copy stream stalled, long after the look
        # began; waiting for it (bounded) keeps the answer independent of
        # thread scheduling.
        try:
            return self._seen.wait(timeout=PEER_TIMEOUT)
        except TimeoutError:
            return None

    def _bounded(self, func):
        call = utils.spawn_blocking(func)
        try:
            return call.wait(timeout=PEER_TIMEOUT)
        except Exception as exc:  # timeout, refused, unreachable: no answer
            LOG.debug('Destination %s does not answer: %s', self._host.uri,
                      exc)
            return None

    def answers(self):
        """True/False; None when this process cannot see the destination."""
        if not self._visible():
            return None
        return self._bounded(self._host.get_hostname) is not None

    def postcopy_failed(self, uuid):
        """True/False: the destination's domain state; None: cannot tell."""
        if not self._visible():
            return None

        def state():
            guest = self._host.find_guest(uuid)
            return guest.get_state() if guest is not None else None
        found = self._bounded(state)
        if found is None:
            return None
        lv = self._host.libvirt
        return tuple(found) == (lv.VIR_DOMAIN_RUNNING, getattr(
            lv, 'VIR_DOMAIN_RUNNING_POSTCOPY_FAILED', -1))


def _save_stats(instance, mig, info):
    """Copy job statistics onto the Migration record and the instance."""
    for name, value in migration.migration_stats(info).items():
        setattr(mig, name, value)
    mig.save()
    instance.progress = migration.progress_percent(info)
    instance.save()
