"""GET /os-migration-progress/{migration_id}: a project extension.

Nova's server-migration body has byte counters only. This resource gives
an administrator what the monitor knows about a live migration: its
phase, memory pass, rates, throttle and allowed downtime, an ETA and a
verdict with the reason (``nova.compute.migration_timeline.assess``), and
every automatic decision with its reason. ``?timeline=true`` adds the
saved samples. Not part of Nova's API: clients that do not know it never
see it (doc/source/admin/api.rst).
"""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova.compute import api as compute_api
from nova.compute import migration_timeline as mtl
from nova import exception
from nova.objects import migration as migration_obj

attr = common.attr
FINAL = ('completed', 'failed', 'error', 'cancelled', 'done', 'accepted',
         'confirmed', 'reverted')
_TRUE = ('1', 'true', 'yes', 'on')


def progress_body(migration, rows, with_points=False):
    """The response body of one migration and its timeline rows."""
    timeline = migration_obj.timeline_from_rows(rows)
    result = mtl.assess(timeline.points, timeline.events)
    finished = attr(migration, 'status') in FINAL
    last = timeline.points[-1] if timeline.points else None
    when = [common.dbtime(r.get('created_at')) for r in rows
            if r['kind'] == 'event']
    body = {
        'id': attr(migration, 'id'),
        'uuid': attr(migration, 'uuid'),
        'server_uuid': attr(migration, 'instance_uuid'),
        'source_compute': attr(migration, 'source_compute'),
        'dest_compute': attr(migration, 'dest_compute'),
        'status': attr(migration, 'status'),
        'created_at': common.dbtime(attr(migration, 'created_at')),
        'updated_at': common.dbtime(attr(migration, 'updated_at')),
        'elapsed_seconds': (max([p.elapsed for p in timeline.points] +
                                [e.elapsed for e in timeline.events])
                            if rows else None),
        'phase': result.phase,
        'memory_iteration': last.iteration if last else None,
        'memory_total_bytes': last.memory_total if last else attr(
            migration, 'memory_total'),
        'memory_remaining_bytes': last.memory_remaining if last else attr(
            migration, 'memory_remaining'),
        'progress_percent': round(100.0 * result.progress, 1),
        'dirty_rate_bytes_per_second': int(result.dirty_bps),
        'transfer_rate_bytes_per_second': int(result.transfer_bps),
        'throttle_percent': result.throttle,
        'allowed_downtime_ms': last.downtime_ms if last else None,
        'verdict': None if finished else result.verdict,
        'eta_seconds': (None if finished or result.eta_s is None
                        else round(result.eta_s, 1)),
        'reason': None if finished else result.why,
        'would_finish': [] if finished else [
            {'option': name, 'how': how}
            for name, how in result.would_finish],
        'events': [dict(e.as_dict(), time=t)
                   for e, t in zip(timeline.events, when)],
    }
    if with_points:
        body['timeline'] = [p.as_dict() for p in timeline.points]
    return body


class MigrationProgressController(base.Controller):

    @validation.query_params(('timeline',))
    @policy.authorizes(policy.MIGRATION_PROGRESS)
    def show(self, req, migration_id):
        """A live migration's progress, ETA, verdict and decisions."""
        try:
            number = int(migration_id)
        except (TypeError, ValueError):
            raise exception.MigrationNotFound(migration_id=migration_id)
        if not 0 < number <= compute_api.MAX_MIGRATION_ID:
            # No row has it; the database driver would raise (a 500).
            raise exception.MigrationNotFound(migration_id=migration_id)
        migration, rows = self.compute_api.get_migration_progress(
            req.context, number)
        with_points = req.GET.get('timeline', '').lower() in _TRUE
        return {'migration_progress': progress_body(migration, rows,
                                                    with_points)}
