"""Decisions for a post-copy migration whose stream broke.

Once a migration is in post-copy the guest's vCPUs run on the destination
and part of its memory is still on the source: neither half can run alone,
so the only safe ways out are to finish the copy or to leave both halves
for an operator. When the stream breaks, libvirt (>= 8.5) marks the source
domain paused with reason ``post-copy failed`` and the migration call
returns an error; QEMU keeps the stalled stream until told to pause it
(``migrate-pause``, libvirt's ``abortJobFlags(VIR_DOMAIN_ABORT_JOB_POSTCOPY)``)
and only a paused migration can be resumed, with ``migrateToURI3`` and
``VIR_MIGRATE_POSTCOPY_RESUME``, once the hosts can reach each other again.

Pure functions over plain values; the driver does the libvirt calls.
"""

import dataclasses
import itertools
from typing import Optional

from nova.virt.libvirt import migration

STATUS_POSTCOPY_PAUSED = 'running (post-copy paused)'

# Waits between resume attempts: 1 s, doubling, capped (seconds).
FIRST_RESUME_DELAY = 1.0
# Bytes the stream must move between two polls to count as moving.
MOVING_BYTES = 1024 * 1024

ACTION_PAUSE = 'postcopy-pause'
ACTION_BROKEN = 'postcopy-broken'
ACTION_RESUME = 'postcopy-resume'
ACTION_RESUMED = 'postcopy-resumed'
ACTION_GAVE_UP = 'postcopy-recovery-failed'


def resume_delays(max_delay, first=FIRST_RESUME_DELAY):
    """Endless waits before each resume attempt: first, doubling, capped."""
    delay = min(first, max_delay)
    while True:
        yield delay
        delay = min(delay * 2, max_delay)


def attempt_schedule(timeout, max_delay, first=FIRST_RESUME_DELAY):
    """Seconds after the break at which to try resuming, within timeout.

    Bounded: an operator knows when the driver stops trying.
    """
    times = []
    at = 0.0
    for delay in itertools.islice(resume_delays(max_delay, first), 10000):
        at += delay
        if at > timeout:
            break
        times.append(at)
    return times


@dataclasses.dataclass
class StallWatch(object):
    """When did the post-copy stream last move data?

    jobStats keeps reporting a running job while the network is cut, with
    counters that no longer grow: "no bytes for N seconds" is the signal.
    """

    last_processed: int = -1
    moved_at: Optional[float] = None

    def observe(self, now, processed):
        # A stalled stream can still drain a few KiB of socket buffer:
        # only a real step counts as moving.
        if (self.moved_at is None or
                processed - self.last_processed >= MOVING_BYTES):
            self.last_processed = processed
            self.moved_at = now

    def stalled_for(self, now):
        return 0.0 if self.moved_at is None else now - self.moved_at


def should_pause_stream(stalled_for, stall_timeout, recoverable,
                        already_broken):
    """Pause a stalled post-copy stream so that it can be resumed.

    Waiting for libvirt's keepalive (about 30 s with its defaults) would
    also work; pausing earlier starts recovery sooner. Pointless when the
    hosts cannot resume it, or once it is broken already.
    """
    return (recoverable and not already_broken and stall_timeout > 0 and
            stalled_for >= stall_timeout)


def status_for(postcopy_active, broken):
    """The Migration status that says where a post-copy migration is."""
    if broken:
        return STATUS_POSTCOPY_PAUSED
    if postcopy_active:
        return migration.STATUS_POSTCOPY
    return migration.STATUS_RUNNING


def manual_resume_hint(source_uri, domain_name, dest_uri, migrate_uri):
    """The command an operator runs once the hosts see each other again."""
    command = ('virsh -c %s migrate --live --p2p --postcopy '
               '--postcopy-resume %s %s' % (source_uri or 'qemu:///system',
                                            domain_name, dest_uri))
    if migrate_uri:
        command += ' --migrateuri %s' % migrate_uri
    return command
