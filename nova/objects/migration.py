"""A live migration record: status and the memory/disk byte counters."""

import functools

from nova.db import api as db_api
from nova.objects import base

# Statuses, in the order a live migration goes through them.
QUEUED = 'queued'
PREPARING = 'preparing'
RUNNING = 'running'
POSTCOPY = 'running (post-copy)'
# The post-copy stream broke; the driver is trying to resume it.
POSTCOPY_PAUSED = 'running (post-copy paused)'
POST_MIGRATING = 'post-migrating'
COMPLETED = 'completed'
FAILED = 'failed'
ERROR = 'error'
CANCELLED = 'cancelled'

IN_PROGRESS = (QUEUED, PREPARING, RUNNING, POSTCOPY, POSTCOPY_PAUSED,
               POST_MIGRATING)
FINAL = (COMPLETED, FAILED, ERROR, CANCELLED)


class Migration(base.Record):
    FIELDS = ('id', 'uuid', 'instance_uuid', 'source_compute', 'dest_compute',
              'source_node', 'dest_node', 'dest_host', 'status',
              'migration_type', 'memory_total', 'memory_processed',
              'memory_remaining', 'disk_total', 'disk_processed',
              'disk_remaining', 'project_id', 'user_id', 'created_at',
              'updated_at')
    DEFAULTS = {'status': 'queued', 'migration_type': 'live-migration',
                'memory_total': 0, 'memory_processed': 0,
                'memory_remaining': 0, 'disk_total': 0, 'disk_processed': 0,
                'disk_remaining': 0}

    @property
    def in_progress(self):
        return self.status in IN_PROGRESS

    @classmethod
    def from_db(cls, db, values):
        """A record whose save() writes the changed fields to ``db``."""
        saver = base.DBSaver(functools.partial(db_api.migration_update, db),
                             'id')
        return cls.from_values(values, saver=saver)

    @classmethod
    def get_by_id(cls, db, migration_id):
        return cls.from_db(db, db_api.migration_get(db, migration_id))

    @classmethod
    def get_by_id_and_instance(cls, db, migration_id, instance_uuid):
        return cls.from_db(db, db_api.migration_get_by_id_and_instance(
            db, migration_id, instance_uuid))

    @classmethod
    def get_all(cls, db, filters=None, limit=None, marker=None):
        return [cls.from_db(db, row) for row in db_api.migration_get_all(
            db, filters, limit=limit, marker=marker)]
