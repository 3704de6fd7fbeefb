"""A guest domain: the only place, with host.py, that calls libvirt.

``Guest`` wraps one ``virDomain`` and turns libvirt's answers into plain
values (``JobInfo``, power states) so that the migration decisions in
``migration.py`` never see a libvirt object.
"""

import dataclasses

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# Job types, with the values of libvirt's VIR_DOMAIN_JOB_* constants.
JOB_NONE = 0
JOB_BOUNDED = 1
JOB_UNBOUNDED = 2
JOB_COMPLETED = 3
JOB_FAILED = 4
JOB_CANCELLED = 5

JOB_TYPE_NAMES = {
    JOB_NONE: 'none', JOB_BOUNDED: 'bounded', JOB_UNBOUNDED: 'unbounded',
    JOB_COMPLETED: 'completed', JOB_FAILED: 'failed',
    JOB_CANCELLED: 'cancelled',
}

# Power states as Nova reports them (nova.compute.power_state).
NOSTATE = 0x00
RUNNING = 0x01
PAUSED = 0x03
SHUTDOWN = 0x04
CRASHED = 0x06
SUSPENDED = 0x07

# libvirt VIR_DOMAIN_* state -> Nova power state.
_LIBVIRT_POWER_STATE = {
    0: NOSTATE,     # NOSTATE
    1: RUNNING,     # RUNNING
    2: RUNNING,     # BLOCKED: running, waiting for a resource
    3: PAUSED,      # PAUSED
    4: SHUTDOWN,    # SHUTDOWN: being shut down
    5: SHUTDOWN,    # SHUTOFF
    6: CRASHED,     # CRASHED
    7: SUSPENDED,   # PMSUSPENDED
}


@dataclasses.dataclass
class JobInfo(object):
    """Every field of virDomainGetJobStats, under libvirt's key names.

    Missing keys are 0: libvirt omits what the hypervisor does not report.
    """

    type: int = JOB_NONE
    time_elapsed: int = 0          # ms
    time_remaining: int = 0        # ms
    downtime: int = 0              # ms, of a finished migration
    setup_time: int = 0            # ms
    data_total: int = 0            # bytes, memory + disk
    data_processed: int = 0
    data_remaining: int = 0
    memory_total: int = 0
    memory_processed: int = 0
    memory_remaining: int = 0
    memory_constant: int = 0       # pages
    memory_normal: int = 0         # pages
    memory_normal_bytes: int = 0
    memory_bps: int = 0            # bytes/s
    memory_dirty_rate: int = 0     # pages/s
    memory_page_size: int = 0      # bytes
    memory_iteration: int = 0
    memory_postcopy_requests: int = 0
    disk_total: int = 0
    disk_processed: int = 0
    disk_remaining: int = 0
    disk_bps: int = 0
    compression_cache: int = 0
    compression_bytes: int = 0
    compression_pages: int = 0
    compression_cache_misses: int = 0
    compression_overflow: int = 0
    auto_converge_throttle: int = 0  # percent

    @classmethod
    def from_stats(cls, stats):
        """Build from a jobStats() dict, ignoring keys this code predates."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: int(v) for k, v in stats.items()
                      if k in known and isinstance(v, (int, float))})

    @classmethod
    def from_legacy(cls, values):
        """Build from the 12 values of the old virDomainGetJobInfo()."""
        (jtype, elapsed, remaining, data_total, data_processed,
         data_remaining, mem_total, mem_processed, mem_remaining,
         disk_total, disk_processed, disk_remaining) = values[:12]
        return cls(type=jtype, time_elapsed=elapsed,
                   time_remaining=remaining, data_total=data_total,
                   data_processed=data_processed,
                   data_remaining=data_remaining, memory_total=mem_total,
                   memory_processed=mem_processed,
                   memory_remaining=mem_remaining, disk_total=disk_total,
                   disk_processed=disk_processed,
                   disk_remaining=disk_remaining)

    @property
    def memory_dirty_bps(self):
        """Dirty rate in bytes/s (libvirt reports pages/s)."""
        return self.memory_dirty_rate * (self.memory_page_size or 4096)


class Guest(object):
    """One libvirt domain on one host."""

    def __init__(self, domain, libvirt_module):
        self._domain = domain
        self._libvirt = libvirt_module

    @property
    def uuid(self):
        return self._domain.UUIDString()

    @property
    def name(self):
        return self._domain.name()

    def _error_code(self, exc):
        return exc.get_error_code()

    # -- state ------------------------------------------------------------

    def get_state(self):
        """(libvirt state, reason) of the domain."""
        state, reason = self._domain.state(0)[:2]
        return state, reason

    def get_power_state(self):
        return _LIBVIRT_POWER_STATE.get(self.get_state()[0], NOSTATE)

    def is_active(self):
        return bool(self._domain.isActive())

    def is_postcopy_paused_here(self):
        """True when this (source) domain is paused by a post-copy switch."""
        lv = self._libvirt
        state, reason = self.get_state()
        return (state == lv.VIR_DOMAIN_PAUSED and
                reason == lv.VIR_DOMAIN_PAUSED_POSTCOPY)

    def is_postcopy_failed_here(self):
        """True when libvirt marked this domain's post-copy as broken."""
        lv = self._libvirt
        failed = getattr(lv, 'VIR_DOMAIN_PAUSED_POSTCOPY_FAILED', None)
        state, reason = self.get_state()
        return failed is not None and (state, reason) == (
            lv.VIR_DOMAIN_PAUSED, failed)

    def exists_active(self):
        """(exists, active) without raising when the domain vanished."""
        try:
            return True, self.is_active()
        except self._libvirt.libvirtError as exc:
            if self._error_code(exc) == self._libvirt.VIR_ERR_NO_DOMAIN:
                return False, False
            raise

    # -- lifecycle --------------------------------------------------------

    def launch(self, pause=False):
        flags = self._libvirt.VIR_DOMAIN_START_PAUSED if pause else 0
        self._domain.createWithFlags(flags)

    def pause(self):
        self._domain.suspend()

    def resume(self):
        self._domain.resume()

    def destroy(self):
        self._domain.destroy()

    def undefine(self):
        self._domain.undefine()

    def get_xml_desc(self, flags=0):
        return self._domain.XMLDesc(flags)

    # -- migration --------------------------------------------------------

    def migrate(self, destination_uri, params, flags):
        """Blocking peer-to-peer migration; returns when the job ends."""
        self._domain.migrateToURI3(destination_uri, params, flags)

    def abort_job(self):
        self._domain.abortJob()

    def pause_postcopy(self):
        """Pause a post-copy migration's stream (QEMU migrate-pause).

        The only way to get a stalled stream into the state from which
        ``VIR_MIGRATE_POSTCOPY_RESUME`` can resume it (libvirt >= 8.5).
        """
        self._domain.abortJobFlags(
            self._libvirt.VIR_DOMAIN_ABORT_JOB_POSTCOPY)

    def migrate_start_postcopy(self):
        self._domain.migrateStartPostCopy(0)

    def migrate_configure_max_downtime(self, milliseconds):
        self._domain.migrateSetMaxDowntime(int(milliseconds), 0)

    def get_job_info(self):
        """The current job's statistics as a ``JobInfo``.

        Copes with hypervisors that have no jobStats (falls back to the old
        jobInfo call) and with a domain that has left this host: libvirt then
        answers "no domain" or "domain is not running", which after a
        migration means the job completed (``find_job_type`` double-checks).
        """
        lv = self._libvirt
        try:
            return JobInfo.from_stats(self._domain.jobStats(0))
        except lv.libvirtError as exc:
            code = self._error_code(exc)
            if code == lv.VIR_ERR_NO_SUPPORT:
                LOG.debug('jobStats not supported, using jobInfo: %s', exc)
                return self._get_legacy_job_info()
            if code in (lv.VIR_ERR_NO_DOMAIN, lv.VIR_ERR_OPERATION_INVALID):
                LOG.debug('Domain gone or stopped while reading job '
                          'stats: %s', exc)
                return JobInfo(type=JOB_COMPLETED)
            raise

    def get_completed_job_info(self):
        """Statistics of the last finished job (downtime of a migration).

        On the destination after a migration; None where libvirt keeps none.
        """
        lv = self._libvirt
        try:
            return JobInfo.from_stats(self._domain.jobStats(
                lv.VIR_DOMAIN_JOB_STATS_COMPLETED))
        except lv.libvirtError as exc:
            LOG.debug('No completed job statistics: %s', exc)
            return None

    def _get_legacy_job_info(self):
        lv = self._libvirt
        try:
            return JobInfo.from_legacy(self._domain.jobInfo())
        except lv.libvirtError as exc:
            if self._error_code(exc) in (lv.VIR_ERR_NO_DOMAIN,
                                         lv.VIR_ERR_OPERATION_INVALID):
                return JobInfo(type=JOB_COMPLETED)
            raise
