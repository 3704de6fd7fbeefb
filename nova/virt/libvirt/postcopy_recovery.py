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

Pure functions over plain values; the monitor (``monitor.py``) does the
libvirt calls. Pausing a stalled stream is one of ``migration.decide``'s
actions; this module holds the schedule of resume attempts and what to
tell an operator when they all fail.
"""

import itertools

from nova.virt.libvirt import migration

# Waits between resume attempts: 1 s, doubling, capped (seconds).
FIRST_RESUME_DELAY = 1.0

# Names in the monitor's action log.
ACTION_PAUSE = migration.Action.PAUSE_POSTCOPY_STREAM.value
ACTION_BROKEN = 'postcopy-broken'
ACTION_RESUME = migration.Action.RESUME_POSTCOPY.value
ACTION_RESUMED = 'postcopy-resumed'
ACTION_GAVE_UP = migration.Action.GIVE_UP.value


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


# libvirt's answers to a resume that come too early: the first migrate call
# has not returned yet, or the source QEMU has not seen its stream fail.
# Measured on the lab (libvirt 9.0): the destination took 0-19 s after the
# link came back to notice (its TCP retransmission back-off), and a resume
# made after that completed.
REFUSED_FOR_NOW = ('is being actively monitored by another thread',
                   'migration is still running')
# How soon to try again after such an answer.
RETRY_SOON = 2.0


def refused_for_now(error):
    """Whether libvirt refused a resume only because it came too early."""
    text = str(error or '')
    return any(words in text for words in REFUSED_FOR_NOW)


def with_retry_soon(schedule, now, timeout, soon=RETRY_SOON):
    """The remaining attempt times with one ``soon`` s after ``now``.

    Times are seconds after the break, as from attempt_schedule; the retry
    replaces none of the later attempts and stays within ``timeout``.
    """
    retry = now + soon
    if retry > timeout or (schedule and schedule[0] <= retry):
        return list(schedule)
    return [retry] + list(schedule)


def manual_resume_hint(source_uri, domain_name, dest_uri, migrate_uri):
    """The command an operator runs once the hosts see each other again."""
    command = ('virsh -c %s migrate --live --p2p --postcopy '
               '--postcopy-resume %s %s' % (source_uri or 'qemu:///system',
                                            domain_name, dest_uri))
    if migrate_uri:
        command += ' --migrateuri %s' % migrate_uri
    return command
