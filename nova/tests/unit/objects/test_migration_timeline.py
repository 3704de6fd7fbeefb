"""A migration's timeline through the Migration object: saved in the
database, bounded per migration, read back, purged with the migration."""

import datetime

import testtools

from nova.compute import migration_timeline as mtl
from nova.db import api as db_api
from nova.objects import migration as migration_obj
from nova.tests.unit.compute import cloud


def points(start, count, phase=mtl.PRE_COPY):
    return [mtl.TimelinePoint(elapsed=start + 0.5 * i, iteration=1 + i // 10,
                              memory_remaining=1000 - i, memory_total=1000,
                              data_remaining=1000 - i, dirty_bps=10.0 * i,
                              transfer_bps=100.0, throttle=i % 100,
                              downtime_ms=50, phase=phase)
            for i in range(count)]


class MemoryTimelineTestCase(testtools.TestCase):
    """A record without a database (the benchmark, unit tests) keeps it."""

    def test_points_and_events(self):
        mig = migration_obj.Migration(status='running')
        mig.add_timeline_points(points(0, 3))
        mig.add_timeline_event(mtl.TimelineEvent(1.0, 'postcopy', 'stuck'))
        mig.add_timeline_points([])
        got = mig.timeline()
        self.assertEqual(points(0, 3), got.points)
        self.assertEqual([mtl.TimelineEvent(1.0, 'postcopy', 'stuck')],
                         got.events)
        self.assertEqual(mtl.CONVERGING, mig.assess().verdict)

    def test_bounded(self):
        mig = migration_obj.Migration(status='running')
        for i in range(20):
            mig.add_timeline_points(points(i * 50, 100))
        kept = mig.timeline().points
        self.assertLessEqual(len(kept), migration_obj.TIMELINE_POINTS_MAX)
        self.assertEqual(points(0, 100) + points(50, 20),
                         kept[:migration_obj.TIMELINE_HEAD])


class DBTimelineTestCase(testtools.TestCase):

    def setUp(self):
        super(DBTimelineTestCase, self).setUp()
        self.db = self.useFixture(cloud.DatabaseFixture()).db

    def _migration(self, status='running', **values):
        row = db_api.migration_create(self.db, dict(
            instance_uuid='u', status=status,
            migration_type='live-migration', **values))
        return migration_obj.Migration.get_by_id(self.db, row['id'])

    def test_round_trip(self):
        mig = self._migration()
        other = self._migration()
        mig.add_timeline_points(points(0, 5))
        mig.add_timeline_points(points(2.5, 2, phase=mtl.POST_COPY))
        mig.add_timeline_event(mtl.TimelineEvent(
            2.4, 'postcopy', 'no progress over 3 passes'))
        other.add_timeline_points(points(0, 1))
        # A fresh copy of the record reads what the first one wrote.
        again = migration_obj.Migration.get_by_id(self.db, mig.id)
        got = again.timeline()
        self.assertEqual(points(0, 5) + points(2.5, 2, phase=mtl.POST_COPY),
                         got.points)
        self.assertEqual([mtl.TimelineEvent(
            2.4, 'postcopy', 'no progress over 3 passes')], got.events)
        self.assertEqual(1, len(other.timeline().points))
        self.assertEqual(mtl.IN_POST_COPY, again.assess().verdict)

    def test_rows_are_bounded_per_migration(self):
        mig = self._migration()
        for i in range(10):
            mig.add_timeline_points(points(i * 100, 200))
        for i in range(migration_obj.TIMELINE_EVENTS_MAX + 20):
            mig.add_timeline_event(mtl.TimelineEvent(float(i), 'downtime',
                                                     'step %d' % i))
        got = mig.timeline()
        self.assertLessEqual(len(got.points),
                             migration_obj.TIMELINE_POINTS_MAX)
        self.assertEqual(points(0, migration_obj.TIMELINE_HEAD),
                         got.points[:migration_obj.TIMELINE_HEAD])
        self.assertEqual(points(900, 200)[-1], got.points[-1])
        self.assertLessEqual(len(got.events),
                             migration_obj.TIMELINE_EVENTS_MAX)
        self.assertEqual('step 0', got.events[0].reason)
        self.assertEqual('step %d' % (migration_obj.TIMELINE_EVENTS_MAX + 19),
                         got.events[-1].reason)

    def test_purge_takes_the_timeline(self):
        old = self._migration(status='completed')
        live = self._migration(status='running')
        for mig in (old, live):
            mig.add_timeline_points(points(0, 3))
            mig.add_timeline_event(mtl.TimelineEvent(1.0, 'pause', 'asked'))
        later = db_api.utcnow() + datetime.timedelta(days=1)
        finished = db_api.migration_get_finished_before(
            self.db, later, migration_obj.FINAL)
        self.assertEqual([old.id], [m['id'] for m in finished])
        self.assertEqual((1, 4), db_api.migration_purge(self.db, [old.id]))
        self.assertEqual([], db_api.migration_timeline_get(self.db, old.id))
        self.assertEqual(4, len(db_api.migration_timeline_get(self.db,
                                                              live.id)))
        self.assertEqual((0, 0), db_api.migration_purge(self.db, []))
        self.assertEqual([], db_api.migration_get_finished_before(
            self.db, db_api.utcnow() - datetime.timedelta(days=1),
            migration_obj.FINAL))
