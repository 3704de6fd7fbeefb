"""A live migration record: status and the memory/disk byte counters."""

import collections
import functools

from nova.compute import migration_timeline as mtl
from nova.db import api as db_api
from nova.objects import base
from nova.objects import fields

# Statuses (``fields.MigrationStatus``), under the names the code uses.
QUEUED = fields.MigrationStatus.QUEUED
PREPARING = fields.MigrationStatus.PREPARING
RUNNING = fields.MigrationStatus.RUNNING
POSTCOPY = fields.MigrationStatus.POSTCOPY
POSTCOPY_PAUSED = fields.MigrationStatus.POSTCOPY_PAUSED
POST_MIGRATING = fields.MigrationStatus.POST_MIGRATING
COMPLETED = fields.MigrationStatus.COMPLETED
FAILED = fields.MigrationStatus.FAILED
ERROR = fields.MigrationStatus.ERROR
CANCELLED = fields.MigrationStatus.CANCELLED

IN_PROGRESS = fields.MIGRATION_IN_PROGRESS
FINAL = fields.MIGRATION_FINAL

# Rows one migration's timeline keeps: the first TIMELINE_HEAD points as
# sampled, the later ones thinned to stay under TIMELINE_POINTS_MAX; the
# same for decisions (a migration takes a handful).
TIMELINE_POINTS_MAX = 600
TIMELINE_HEAD = 120
TIMELINE_EVENTS_MAX = 200
TIMELINE_EVENTS_HEAD = 100

Timeline = collections.namedtuple('Timeline', 'points events')

_POINT_FIELDS = tuple(mtl.TimelinePoint.__dataclass_fields__)


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
        record = cls.from_values(values, saver=saver)
        record._db = db
        return record

    # -- timeline (nova.compute.migration_timeline) ---------------------------

    def _memory_timeline(self):
        """Where a record without a database keeps its timeline."""
        if getattr(self, '_timeline', None) is None:
            self._timeline = Timeline([], [])
        return self._timeline

    def add_timeline_points(self, points):
        """Save monitor samples (TimelinePoints), bounded per migration."""
        points = list(points)
        if not points:
            return
        db = getattr(self, '_db', None)
        if db is None or self.id is None:
            kept = self._memory_timeline().points
            kept.extend(points)
            kept[:] = mtl.bounded(kept, TIMELINE_POINTS_MAX, TIMELINE_HEAD)
            return
        db_api.migration_timeline_add(
            db, self.id, db_api.TIMELINE_POINT,
            [p.as_dict() for p in points],
            thin=lambda ids: mtl.bounded(ids, TIMELINE_POINTS_MAX,
                                         TIMELINE_HEAD))

    def add_timeline_event(self, event):
        """Save one decision (a TimelineEvent) with its reason."""
        db = getattr(self, '_db', None)
        if db is None or self.id is None:
            kept = self._memory_timeline().events
            kept.append(event)
            kept[:] = mtl.bounded(kept, TIMELINE_EVENTS_MAX,
                                  TIMELINE_EVENTS_HEAD)
            return
        db_api.migration_timeline_add(
            db, self.id, db_api.TIMELINE_EVENT,
            [{'elapsed': event.elapsed, 'action': event.action[:64],
              'reason': event.reason}],
            thin=lambda ids: mtl.bounded(ids, TIMELINE_EVENTS_MAX,
                                         TIMELINE_EVENTS_HEAD))

    def timeline(self):
        """Timeline(points, events) as saved, each in time order."""
        db = getattr(self, '_db', None)
        if db is None or self.id is None:
            kept = self._memory_timeline()
            return Timeline(list(kept.points), list(kept.events))
        return timeline_from_rows(db_api.migration_timeline_get(db, self.id))

    def assess(self):
        """The verdict and ETA of this migration's saved timeline."""
        points, events = self.timeline()
        return mtl.assess(points, events)

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


def timeline_from_rows(rows):
    """Timeline(points, events) from ``migration_timeline`` rows."""
    points, events = [], []
    for row in rows:
        if row['kind'] == db_api.TIMELINE_EVENT:
            events.append(mtl.TimelineEvent(
                elapsed=row['elapsed'], action=row['action'] or '',
                reason=row['reason'] or ''))
        else:
            values = {name: row[name] for name in _POINT_FIELDS
                      if row.get(name) is not None}
            points.append(mtl.TimelinePoint(**values))
    return Timeline(points, events)
