"""/servers/{id}/migrations: list, show, force_complete (2.22), abort."""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import helpers
from nova.api.openstack.compute.schemas import server_migrations as schema
from nova.api.openstack.compute import views
from nova.api.openstack import policy
from nova.api.openstack import validation
from nova.api.openstack import wsgi
from nova import exception

attr = common.attr


class InProgressLiveMigrationNotFound(exception.NovaException):
    msg_fmt = ('In-progress live migration %(id)s is not found for server '
               '%(uuid)s.')
    code = 404


# What Nova counts as no longer in progress; anything else (queued,
# preparing, running, 'running (post-copy)', post-migrating) is listed.
FINISHED = ('accepted', 'confirmed', 'reverted', 'error', 'failed',
            'completed', 'cancelled', 'done')


def _in_progress_live(migration):
    return (attr(migration, 'migration_type') in (None, 'live-migration')
            and attr(migration, 'status') not in FINISHED)


def _reraise(exc, action, server_id):
    name = type(exc).__name__
    if name == 'InstanceInvalidState':
        helpers.reraise_invalid_state(exc, action, server_id)
    if name == 'MigrationNotFoundForInstance' and action == 'force_complete':
        # Nova answers an unknown migration of a migrating server with a
        # 400 here (a bad request body of sorts), a 404 on abort.
        exc.code = 400
    raise exc


class ServerMigrationsController(base.Controller):

    @wsgi.versioned('2.23')
    @policy.authorizes(policy.SERVER_MIGRATIONS % 'index')
    def index(self, req, server_id):
        helpers.get_instance(self.compute_api, req.context, server_id)
        migrations = self.compute_api.list_server_migrations(req.context,
                                                             server_id)
        v = views.Views(req, self.conf)
        return {'migrations': [v.server_migration(m) for m in migrations
                               if _in_progress_live(m)]}

    @wsgi.versioned('2.23')
    @policy.authorizes(policy.SERVER_MIGRATIONS % 'show')
    def show(self, req, server_id, migration_id):
        helpers.get_instance(self.compute_api, req.context, server_id)
        migration = self.compute_api.get_server_migration(
            req.context, server_id, migration_id)
        if not _in_progress_live(migration):
            raise InProgressLiveMigrationNotFound(id=migration_id,
                                                  uuid=server_id)
        return {'migration':
                views.Views(req, self.conf).server_migration(migration)}

    @wsgi.versioned('2.22')
    @wsgi.response(202)
    @policy.authorizes(policy.SERVER_MIGRATIONS % 'force_complete')
    @validation.schema(schema.force_complete)
    def force_complete(self, req, server_id, migration_id, body):
        helpers.get_instance(self.compute_api, req.context, server_id)
        try:
            self.compute_api.live_migrate_force_complete(
                req.context, server_id, migration_id)
        except exception.NovaException as exc:
            _reraise(exc, 'force_complete', server_id)
        return wsgi.json_response(None, status=202)

    @wsgi.versioned('2.24')
    @wsgi.response(202)
    @policy.authorizes(policy.SERVER_MIGRATIONS % 'delete')
    def delete(self, req, server_id, migration_id):
        helpers.get_instance(self.compute_api, req.context, server_id)
        kwargs = {}
        if not req.is_version('2.65'):
            # Before 2.65 only a running live migration can be aborted;
            # the compute API checks the server's state first (409 when
            # it is not migrating), then the migration's (400).
            kwargs['allowed_statuses'] = ('running',)
        try:
            self.compute_api.live_migrate_abort(req.context, server_id,
                                                migration_id, **kwargs)
        except exception.NovaException as exc:
            _reraise(exc, 'abort live migration', server_id)
        return wsgi.json_response(None, status=202)
