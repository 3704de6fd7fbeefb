"""GET /os-migrations."""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova import exception

attr = common.attr

# What GET /os-migrations reads (others are ignored, as in Nova);
# user_id and project_id from 2.80.
QUERY_PARAMS = ('host', 'status', 'instance_uuid', 'source_compute',
                'migration_type', 'changes-since', 'changes-before',
                'limit', 'marker', 'user_id', 'project_id')
FILTERS = ('host', 'status', 'instance_uuid', 'source_compute',
           'migration_type')
FILTERS_2_80 = ('user_id', 'project_id')


class MarkerNotFound(exception.NovaException):
    msg_fmt = 'Marker %(marker)s could not be found.'
    code = 400


class MigrationsController(base.Controller):

    @validation.query_params(QUERY_PARAMS)
    @policy.authorizes(policy.MIGRATIONS_INDEX)
    def index(self, req):
        params = req.GET
        filters = {}
        keys = FILTERS + (FILTERS_2_80 if req.is_version('2.80') else ())
        for key in keys:
            if params.get(key):
                filters[key] = params[key]
        migrations = list(self.compute_api.list_migrations(
            req.context, dict(filters)) or [])
        migrations = [m for m in migrations if _matches(m, filters)]
        paged = req.is_version('2.59')
        if paged:
            if params.get('changes-since'):
                since = common.parse_time_param('changes-since',
                                                params['changes-since'])
                migrations = [m for m in migrations
                              if (_updated(m) or since) >= since]
            if req.is_version('2.66') and params.get('changes-before'):
                before = common.parse_time_param('changes-before',
                                                 params['changes-before'])
                migrations = [m for m in migrations
                              if (_updated(m) or before) <= before]
            # Newest first, as Nova pages them.
            migrations.sort(key=lambda m: (_created(m), attr(m, 'id') or 0),
                            reverse=True)
            marker = params.get('marker')
            if marker:
                uuids = [attr(m, 'uuid') for m in migrations]
                if marker not in uuids:
                    raise MarkerNotFound(marker=marker)
                migrations = migrations[uuids.index(marker) + 1:]
            limit = common.get_limit(req, self.conf)
            has_more = len(migrations) > limit
            migrations = migrations[:limit]
        v = views.Views(req, self.conf)
        body = {'migrations': [v.migration(m) for m in migrations]}
        if paged and 'limit' in params and has_more and migrations:
            body['migrations_links'] = [{
                'rel': 'next',
                'href': '%s?limit=%s&marker=%s' % (
                    common.link(req, self.conf, 'os-migrations'),
                    params['limit'], attr(migrations[-1], 'uuid'))}]
        return body


def _updated(migration):
    return common._naive_utc(common._to_datetime(
        attr(migration, 'updated_at') or attr(migration, 'created_at')))


def _created(migration):
    import datetime
    return common._naive_utc(common._to_datetime(
        attr(migration, 'created_at'))) or datetime.datetime.min


def _matches(migration, filters):
    host = filters.get('host')
    if host and host not in (attr(migration, 'source_compute'),
                             attr(migration, 'dest_compute')):
        return False
    for key in ('status', 'instance_uuid', 'source_compute',
                'migration_type') + FILTERS_2_80:
        if filters.get(key) and str(attr(migration, key)) != filters[key]:
            return False
    return True
