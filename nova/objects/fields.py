"""Enumerated field values shared by the objects, compute, virt and the API.

One definition each: code compares against these members, never against
copies of their strings. ``StrEnum`` members are strings, so they store in
the database and serialise to JSON unchanged.
"""

import enum


class MigrationStatus(enum.StrEnum):
    """A live migration's status, in the order it goes through them."""

    QUEUED = 'queued'
    PREPARING = 'preparing'
    RUNNING = 'running'
    # libvirt confirmed the switch: the guest runs on the destination.
    POSTCOPY = 'running (post-copy)'
    # The post-copy stream broke; the driver is trying to resume it.
    POSTCOPY_PAUSED = 'running (post-copy paused)'
    POST_MIGRATING = 'post-migrating'
    COMPLETED = 'completed'
    FAILED = 'failed'
    ERROR = 'error'
    CANCELLED = 'cancelled'


MIGRATION_IN_PROGRESS = frozenset({
    MigrationStatus.QUEUED, MigrationStatus.PREPARING,
    MigrationStatus.RUNNING, MigrationStatus.POSTCOPY,
    MigrationStatus.POSTCOPY_PAUSED, MigrationStatus.POST_MIGRATING})
MIGRATION_FINAL = frozenset({
    MigrationStatus.COMPLETED, MigrationStatus.FAILED,
    MigrationStatus.ERROR, MigrationStatus.CANCELLED})
