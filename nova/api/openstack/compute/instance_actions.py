"""GET /servers/{id}/os-instance-actions[/{request_id}].

The actions this service records are live migrations: one action per
migration of the server (request id ``req-<migration uuid>``), its events
the migration itself (``compute_live_migration``) and one event per
decision the monitor or an operator took (``live_migration_<action>``,
e.g. ``live_migration_postcopy``), with the decision's reason where an
administrator reads free text: ``traceback`` (and ``details`` from 2.84).
"""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova import exception

attr = common.attr
ACTION = 'live-migration'
REQUEST_PREFIX = 'req-'
_FAILED = ('error', 'failed')
_DONE = ('completed', 'cancelled') + _FAILED
# Decisions that are an error of the migration rather than a step of it.
_ERROR_ACTIONS = ('abort', 'postcopy-broken', 'postcopy-recovery-failed')


class InstanceActionNotFound(exception.NotFound):
    msg_fmt = ('Action for request_id %(request_id)s on instance '
               '%(instance_id)s not found')


class MarkerNotFound(exception.NovaException):
    msg_fmt = 'Marker %(marker)s could not be found.'
    code = 400


def _request_id_of(migration):
    return REQUEST_PREFIX + str(attr(migration, 'uuid'))


def _status(migration):
    return attr(migration, 'status')


class InstanceActionsController(base.Controller):

    def _action(self, req, migration):
        body = {
            'action': ACTION,
            'instance_uuid': attr(migration, 'instance_uuid'),
            'request_id': _request_id_of(migration),
            'user_id': attr(migration, 'user_id'),
            'project_id': attr(migration, 'project_id'),
            'start_time': common.dbtime(attr(migration, 'created_at')),
            'message': 'Error' if _status(migration) in _FAILED else None,
        }
        if req.is_version('2.58'):
            body['updated_at'] = common.dbtime(
                attr(migration, 'updated_at') or attr(migration,
                                                      'created_at'))
        return body

    def _events(self, req, migration, rows, see_details):
        status = _status(migration)
        host = attr(migration, 'source_compute')
        project = attr(migration, 'project_id')
        events = [{
            'event': 'compute_live_migration',
            'start_time': common.dbtime(attr(migration, 'created_at')),
            'finish_time': (common.dbtime(attr(migration, 'updated_at'))
                            if status in _DONE else None),
            'result': (None if status not in _DONE else
                       'Error' if status in _FAILED else 'Success'),
            'reason': None,
        }]
        for row in rows:
            at = common.dbtime(row.get('created_at'))
            events.append({
                'event': 'live_migration_%s' % (
                    row['action'] or 'decision').replace('-', '_'),
                'start_time': at, 'finish_time': at,
                'result': ('Error' if row['action'] in _ERROR_ACTIONS
                           else 'Success'),
                'reason': '%s after %.1f s: %s' % (
                    row['action'], row['elapsed'], row['reason'] or '-'),
            })
        for event in events:
            reason = event.pop('reason')
            if see_details:
                event['traceback'] = reason
                if req.is_version('2.84'):
                    event['details'] = reason
            if req.is_version('2.62'):
                event['hostId'] = views.host_id(project, host)
                if see_details:
                    event['host'] = host
        return events

    def _history(self, req, server_id):
        helpers.get_instance(self.compute_api, req.context, server_id)
        return self.compute_api.list_server_live_migrations(req.context,
                                                            server_id)

    @validation.query_params(('limit', 'marker', 'changes-since',
                              'changes-before'))
    @policy.authorizes(policy.INSTANCE_ACTIONS % 'list')
    def index(self, req, server_id):
        """The actions (live migrations) of a server, newest first."""
        history = self._history(req, server_id)
        migrations = [migration for migration, _rows in history]
        params = req.GET
        if req.is_version('2.58'):
            for name, keep in (('changes-since', lambda t, v: t >= v),
                               ('changes-before', lambda t, v: t <= v)):
                if name == 'changes-before' and not req.is_version('2.66'):
                    continue
                if params.get(name):
                    value = common.parse_time_param(name, params[name])
                    migrations = [m for m in migrations if keep(
                        common._naive_utc(common._to_datetime(
                            attr(m, 'updated_at') or attr(m, 'created_at'))),
                        value)]
            marker = params.get('marker')
            if marker:
                ids = [_request_id_of(m) for m in migrations]
                if marker not in ids:
                    raise MarkerNotFound(marker=marker)
                migrations = migrations[ids.index(marker) + 1:]
            migrations = migrations[:common.get_limit(req, self.conf)]
        return {'instanceActions': [self._action(req, m)
                                    for m in migrations]}

    @policy.authorizes(policy.INSTANCE_ACTIONS % 'show')
    def show(self, req, server_id, request_id):
        """One action with its events: one per decision, with reasons."""
        for migration, rows in self._history(req, server_id):
            if _request_id_of(migration) == request_id:
                break
        else:
            raise InstanceActionNotFound(request_id=request_id,
                                         instance_id=server_id)
        body = self._action(req, migration)
        see_details = policy.authorize(
            req.context, policy.INSTANCE_ACTIONS % 'events', fatal=False)
        if see_details or req.is_version('2.51'):
            body['events'] = self._events(req, migration, rows, see_details)
        return {'instanceAction': body}
