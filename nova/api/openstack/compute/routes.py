"""The compute API v2.1 routes."""

from nova.api.openstack.compute import flavors
from nova.api.openstack.compute import hypervisors
from nova.api.openstack.compute import images
from nova.api.openstack.compute import instance_actions
from nova.api.openstack.compute import migration_progress
from nova.api.openstack.compute import migrations
from nova.api.openstack.compute import server_migrations
from nova.api.openstack.compute import servers
from nova.api.openstack.compute import services
from nova.api.openstack import versions
from nova.api.openstack import wsgi


def build_router(compute_api, conf):
    router = wsgi.Router(wants_version=True)

    def version_doc(req):
        return versions.version_response(req, conf)

    srv = servers.ServersController(compute_api, conf)
    smig = server_migrations.ServerMigrationsController(compute_api, conf)
    mig = migrations.MigrationsController(compute_api, conf)
    svc = services.ServicesController(compute_api, conf)
    hyp = hypervisors.HypervisorsController(compute_api, conf)
    flv = flavors.FlavorsController(compute_api, conf)
    img = images.ImagesController(compute_api, conf)

    router.add('GET', '/', version_doc)
    router.add('GET', '/servers', srv.index)
    router.add('POST', '/servers', srv.create)
    router.add('GET', '/servers/detail', srv.detail)
    router.add('GET', '/servers/{server_id}', srv.show)
    router.add('DELETE', '/servers/{server_id}', srv.delete)
    router.add_action('/servers/{server_id}', 'os-migrateLive',
                      srv.migrate_live)
    router.add_action('/servers/{server_id}', 'pause', srv.pause)
    router.add_action('/servers/{server_id}', 'unpause', srv.unpause)
    router.add_action('/servers/{server_id}', 'suspend', srv.suspend)
    router.add_action('/servers/{server_id}', 'resume', srv.resume)
    router.add_action('/servers/{server_id}', 'os-resetState',
                      srv.reset_state)
    router.add('GET', '/servers/{server_id}/migrations', smig.index)
    router.add('GET', '/servers/{server_id}/migrations/{migration_id}',
               smig.show)
    router.add('DELETE', '/servers/{server_id}/migrations/{migration_id}',
               smig.delete)
    router.add_action('/servers/{server_id}/migrations/{migration_id}',
                      'force_complete', smig.force_complete)
    router.add('GET', '/os-migrations', mig.index)
    acts = instance_actions.InstanceActionsController(compute_api, conf)
    router.add('GET', '/servers/{server_id}/os-instance-actions', acts.index)
    router.add('GET', '/servers/{server_id}/os-instance-actions/{request_id}',
               acts.show)
    # A project extension (doc/source/admin/api.rst).
    progress = migration_progress.MigrationProgressController(compute_api,
                                                              conf)
    router.add('GET', '/os-migration-progress/{migration_id}', progress.show)
    router.add('GET', '/os-services', svc.index)
    router.add('PUT', '/os-services/{service_id}', svc.update_legacy,
               svc.update)
    router.add('GET', '/os-hypervisors', hyp.index)
    router.add('GET', '/os-hypervisors/detail', hyp.detail)
    # Before /{hypervisor_id}: these names are no hypervisor ids.
    router.add('GET', '/os-hypervisors/statistics', hyp.statistics)
    router.add('GET', '/os-hypervisors/{hypervisor_id}/uptime', hyp.uptime)
    router.add('GET', '/os-hypervisors/{hypervisor_hostname}/search',
               hyp.search)
    router.add('GET', '/os-hypervisors/{hypervisor_hostname}/servers',
               hyp.servers)
    router.add('GET', '/os-hypervisors/{hypervisor_id}', hyp.show)
    router.add('GET', '/flavors', flv.index)
    router.add('GET', '/flavors/detail', flv.detail)
    router.add('GET', '/flavors/{flavor_id}', flv.show)
    router.add('GET', '/images', img.index)
    router.add('GET', '/images/detail', img.detail)
    router.add('GET', '/images/{image_id}', img.show)
    return router
