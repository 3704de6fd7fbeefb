"""A guest domain: the only place, with host.py, that calls libvirt.

``Guest`` wraps one ``virDomain`` and turns libvirt's answers into plain
values (``JobInfo``, power states) so that the migration decisions in
``migration.py`` never see a libvirt object.
"""

import dataclasses
import enum

from oslo_log import log as logging

from nova.compute import power_state

LOG = logging.getLogger(__name__)


class JobType(enum.IntEnum):
    """A libvirt job's type, with the values of VIR_DOMAIN_JOB_*."""

    NONE = 0
    BOUNDED = 1
    UNBOUNDED = 2
    COMPLETED = 3
    FAILED = 4
    CANCELLED = 5


JOB_NONE = JobType.NONE
JOB_BOUNDED = JobType.BOUNDED
JOB_UNBOUNDED = JobType.UNBOUNDED
JOB_COMPLETED = JobType.COMPLETED
JOB_FAILED = JobType.FAILED
JOB_CANCELLED = JobType.CANCELLED

JOB_TYPE_NAMES = {job: job.name.lower() for job in JobType}

# libvirt VIR_DOMAIN_* state -> Nova power state.
_LIBVIRT_POWER_STATE = {
    0: power_state.NOSTATE,     # NOSTATE
    1: power_state.RUNNING,     # RUNNING
    2: power_state.RUNNING,     # BLOCKED: running, waiting for a resource
    3: power_state.PAUSED,      # PAUSED
    4: power_state.SHUTDOWN,    # SHUTDOWN: being shut down
    5: power_state.SHUTDOWN,    # SHUTOFF
    6: power_state.CRASHED,     # CRASHED
    7: power_state.SUSPENDED,   # PMSUSPENDED
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
        return _LIBVIRT_POWER_STATE.get(self.get_state()[0],
                                        power_state.NOSTATE)

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

    def save_memory_state(self):
        """Managed save: memory to a file libvirt owns, the domain stops;
        the next start restores it (Nova's suspend).
        """
        self._domain.managedSave(0)

    def has_managed_save(self):
        return bool(self._domain.hasManagedSaveImage(0))

    def remove_managed_save(self):
        """Drop a managed-save image, if any (before undefining)."""
        if self.has_managed_save():
            self._domain.managedSaveRemove(0)

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
        """The current job's statistics as a ``JobInfo``, or None.

        What a libvirt error means here (``stats_error_meaning``):

        ==================================  =========  ====================
        libvirt error                       meaning    returned
        ==================================  =========  ====================
        VIR_ERR_NO_SUPPORT                  old API    the legacy jobInfo
        VIR_ERR_NO_DOMAIN                   finished   JobInfo(COMPLETED)
        VIR_ERR_OPERATION_INVALID           finished   JobInfo(COMPLETED)
        ("domain is not running")
        VIR_ERR_INTERNAL_ERROR "migration   not yet    None: no sample
        was active, but no RAM info was
        set"
        VIR_ERR_OPERATION_TIMEOUT           not yet    None: no sample
        ("cannot acquire state change
        lock")
        anything else                       failed     raised
        ==================================  =========  ====================

        "Finished" is only a hint: ``find_job_type`` reads the real outcome
        off the domain and the migration call. "Not yet" happens at the
        edges of a migration (QEMU between set-up and the first pass, or
        finishing) and while another thread holds the domain's job lock; it
        must never end a healthy migration.
        """
        lv = self._libvirt
        try:
            return JobInfo.from_stats(self._domain.jobStats(0))
        except lv.libvirtError as exc:
            meaning = stats_error_meaning(lv, exc)
            if meaning == STATS_OLD_API:
                LOG.debug('jobStats not supported, using jobInfo: %s', exc)
                return self._get_legacy_job_info()
            if meaning == STATS_FINISHED:
                LOG.debug('Domain gone or stopped while reading job '
                          'stats: %s', exc)
                return JobInfo(type=JOB_COMPLETED)
            if meaning == STATS_NOT_YET:
                LOG.debug('No job statistics this time: %s', exc)
                return None
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
            meaning = stats_error_meaning(lv, exc)
            if meaning == STATS_FINISHED:
                return JobInfo(type=JOB_COMPLETED)
            if meaning == STATS_NOT_YET:
                return None
            raise


STATS_OLD_API = 'old-api'
STATS_FINISHED = 'finished'
STATS_NOT_YET = 'not-yet'
STATS_FAILED = 'failed'

# libvirt's words when QEMU has no RAM figures yet (or any more).
_NO_RAM_INFO = 'migration was active, but no RAM info was set'


def stats_error_meaning(lv, exc):
    """What a libvirt error from jobStats/jobInfo says about the job."""
    code = exc.get_error_code()
    if code == lv.VIR_ERR_NO_SUPPORT:
        return STATS_OLD_API
    if code in (lv.VIR_ERR_NO_DOMAIN, lv.VIR_ERR_OPERATION_INVALID):
        return STATS_FINISHED
    if code == getattr(lv, 'VIR_ERR_OPERATION_TIMEOUT', None):
        return STATS_NOT_YET
    if (code == lv.VIR_ERR_INTERNAL_ERROR and
            _NO_RAM_INFO in (exc.get_error_message() or '')):
        return STATS_NOT_YET
    return STATS_FAILED
