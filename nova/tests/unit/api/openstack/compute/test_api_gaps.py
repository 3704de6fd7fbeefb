"""Flavor paging, the v2.0 endpoint, PUT /os-services, pause/suspend,
the 2.80 migration filters and the 2.83 server filters."""

from nova.tests.unit.api import base
from nova.tests.unit.api import fakes


class FlavorPagingTestCase(base.APITestCase):

    def setUp(self):
        super(FlavorPagingTestCase, self).setUp()
        for fid, name, ram in (('3', 'm1.medium', 4096),
                               ('10', 'm1.large', 8192)):
            self.compute.flavors[fid] = fakes._record(
                flavorid=fid, name=name, memory_mb=ram, vcpus=2, root_gb=0,
                ephemeral_gb=0, swap=0, is_public=True, description=None,
                extra_specs={})

    def ids(self, query, detail=False):
        path = '/v2.1/flavors%s?%s' % ('/detail' if detail else '', query)
        resp = self.request('GET', path)
        self.assertEqual(200, resp.status_int, resp.body)
        body = resp.json_body_or_none
        return [f['id'] for f in body['flavors']], body.get('flavors_links')

    def test_default_order_is_flavorid(self):
        self.assertEqual(['1', '2', '3', '10'], self.ids('')[0])

    def test_limit_and_next_link(self):
        ids, links = self.ids('limit=2')
        self.assertEqual(['1', '2'], ids)
        self.assertEqual('next', links[0]['rel'])
        self.assertTrue(links[0]['href'].endswith(
            '/v2.1/flavors?limit=2&marker=2'), links)
        ids, links = self.ids('limit=2', detail=True)
        self.assertIn('/v2.1/flavors/detail?limit=2&marker=2',
                      links[0]['href'])

    def test_marker(self):
        ids, links = self.ids('limit=2&marker=2')
        self.assertEqual(['3', '10'], ids)
        ids, links = self.ids('marker=10')
        self.assertEqual([], ids)
        self.assertIsNone(links)

    def test_unknown_marker_400(self):
        resp = self.request('GET', '/v2.1/flavors?marker=99')
        self.assertFault(resp, 400, 'badRequest', 'marker [99] not found')

    def test_sort(self):
        self.assertEqual(['10', '3', '2', '1'],
                         self.ids('sort_key=memory_mb&sort_dir=desc')[0])
        self.assertEqual(['10', '3', '2', '1'],
                         self.ids('sort_key=name')[0])
        self.assertEqual(['1', '2', '3', '10'],
                         self.ids('sort_key=memory_mb&sort_dir=asc')[0])

    def test_bad_sort_400(self):
        for query in ('sort_key=nope', 'sort_dir=up'):
            resp = self.request('GET', '/v2.1/flavors?' + query)
            self.assertFault(resp, 400, 'badRequest', 'sort_')


class LegacyV2TestCase(base.APITestCase):

    def test_v2_document(self):
        for path in ('/v2', '/v2/'):
            resp = self.request('GET', path, token=None)
            self.assertEqual(200, resp.status_int)
            doc = resp.json_body_or_none['version']
            self.assertEqual('v2.0', doc['id'])
            self.assertEqual('', doc['version'])
            self.assertEqual('http://localhost/v2/', doc['links'][0]['href'])

    def test_v2_serves_2_1_without_version_headers(self):
        resp = self.request('GET', '/v2/flavors', version='2.55')
        self.assertEqual(200, resp.status_int)
        self.assertNotIn('OpenStack-API-Version', resp.headers)
        # 2.1 body: no description even though 2.55 was asked for.
        self.assertNotIn('description',
                         resp.json_body_or_none['flavors'][0])
        self.assertEqual(200, self.request(
            'GET', '/v2.1/flavors', version='2.55').status_int)

    def test_v2_needs_a_token(self):
        self.assertEqual(401, self.request('GET', '/v2/flavors',
                                           token=None).status_int)


class ServiceUpdateTestCase(base.APITestCase):

    def put(self, path, body, version='2.53', token=base.ADMIN):
        return self.request('PUT', '/v2.1/os-services/' + path, body,
                            version=version, token=token)

    def test_disable_by_uuid_with_reason(self):
        resp = self.put('svc-a-uuid', {'status': 'disabled',
                                       'disabled_reason': 'maintenance'})
        self.assertEqual(200, resp.status_int, resp.body)
        svc = resp.json_body_or_none['service']
        self.assertEqual(('svc-a-uuid', 'disabled', 'maintenance'),
                         (svc['id'], svc['status'], svc['disabled_reason']))
        self.assertEqual(('update_service', 1, 'disabled', 'maintenance',
                          None), self.compute.calls[-1])

    def test_enable_and_force_down(self):
        resp = self.put('svc-b-uuid', {'status': 'enabled',
                                       'forced_down': True})
        svc = resp.json_body_or_none['service']
        self.assertEqual('enabled', svc['status'])
        self.assertIsNone(svc['disabled_reason'])
        self.assertTrue(svc['forced_down'])

    def test_bad_bodies_400(self):
        for body, text in (
                ({}, 'At least one of status or forced_down'),
                ({'status': 'enabled', 'disabled_reason': 'x'},
                 "Specifying 'disabled_reason' with status 'enabled'"),
                ({'status': 'off'}, 'status'),
                ({'forced_down': 'yes'}, 'forced_down'),
                ({'status': 'enabled', 'host': 'lab-a'}, 'host')):
            self.assertFault(self.put('svc-a-uuid', body), 400,
                             'badRequest', text)
        self.assertEqual([], self.compute.calls)

    def test_unknown_service_404(self):
        self.assertFault(self.put('nope', {'status': 'enabled'}), 404,
                         'itemNotFound', 'Service nope could not be found')

    def test_non_admin_403(self):
        self.assertFault(self.put('svc-a-uuid', {'status': 'disabled'},
                                  token=base.DEMO), 403, 'forbidden',
                         'os_compute_api:os-services:update')

    def test_legacy_actions_before_2_53(self):
        resp = self.put('disable-log-reason',
                        {'host': 'lab-a', 'binary': 'nova-compute',
                         'disabled_reason': 'fan'}, version='2.52')
        self.assertEqual({'host': 'lab-a', 'binary': 'nova-compute',
                          'status': 'disabled', 'disabled_reason': 'fan'},
                         resp.json_body_or_none['service'])
        resp = self.put('enable', {'host': 'lab-a',
                                   'binary': 'nova-compute'}, version='2.1')
        self.assertEqual('enabled',
                         resp.json_body_or_none['service']['status'])
        resp = self.put('force-down', {'host': 'lab-a',
                                       'binary': 'nova-compute',
                                       'forced_down': True}, version='2.11')
        self.assertTrue(resp.json_body_or_none['service']['forced_down'])
        self.assertFault(self.put('force-down', {
            'host': 'lab-a', 'binary': 'nova-compute', 'forced_down': True},
            version='2.10'), 404, 'itemNotFound')
        self.assertFault(self.put('enable', {'host': 'nope',
                                             'binary': 'nova-compute'},
                                  version='2.1'), 404, 'itemNotFound')


class ServerPowerActionsTestCase(base.APITestCase):

    def action(self, inst, name, token=base.ADMIN):
        return self.request('POST', '/v2.1/servers/%s/action' % inst.uuid,
                            {name: None}, token=token)

    def test_pause_unpause_suspend_resume(self):
        inst = self.compute.add_instance(project_id='proj')
        for name, state in (('pause', 'paused'), ('unpause', 'active'),
                            ('suspend', 'suspended'), ('resume', 'active')):
            resp = self.action(inst, name, token=base.DEMO)
            self.assertEqual(202, resp.status_int, resp.body)
            self.assertEqual(state, inst.vm_state)
        self.assertEqual(['pause', 'unpause', 'suspend', 'resume'],
                         [c[0] for c in self.compute.calls])

    def test_wrong_state_409(self):
        inst = self.compute.add_instance(project_id='proj')
        for name in ('unpause', 'resume'):
            self.assertFault(self.action(inst, name), 409,
                             'conflictingRequest',
                             "Cannot '%s' instance %s while it is in "
                             "vm_state active" % (name, inst.uuid))
        inst.task_state = 'migrating'
        self.assertFault(self.action(inst, 'pause'), 409,
                         'conflictingRequest', 'task_state migrating')

    def test_other_project_404(self):
        inst = self.compute.add_instance(project_id='other')
        self.assertFault(self.action(inst, 'pause', token=base.DEMO), 404,
                         'itemNotFound')
        self.assertEqual('active', inst.vm_state)


class FiltersTestCase(base.APITestCase):

    def test_migrations_user_and_project_filters_from_2_80(self):
        inst = self.compute.add_instance()
        self.compute.add_migration(inst, user_id='u1', project_id='p1')
        self.compute.add_migration(inst, user_id='u2', project_id='p2')

        def users(query, version):
            body = self.request('GET', '/v2.1/os-migrations?' + query,
                                version=version).json_body_or_none
            return sorted(str(m.get('user_id')) for m in body['migrations'])
        self.assertEqual(['u1'], users('user_id=u1', '2.80'))
        self.assertEqual(['u2'], users('project_id=p2', '2.80'))
        # Before 2.80 the filters are ignored, as in Nova.
        self.assertEqual(['None', 'None'], users('user_id=u1', '2.79'))

    def test_server_state_filters_for_non_admin_from_2_83(self):
        self.compute.add_instance(project_id='proj', name='a')
        self.compute.add_instance(project_id='proj', name='p',
                                  vm_state='paused')

        def names(version):
            body = self.request(
                'GET', '/v2.1/servers?vm_state=paused', token=base.DEMO,
                version=version).json_body_or_none
            return sorted(s['name'] for s in body['servers'])
        self.assertEqual(['a', 'p'], names('2.82'))
        self.assertEqual(['p'], names('2.83'))


class HostnameAndPinnedZoneTestCase(base.APITestCase):

    def create(self, server, version, token=base.DEMO):
        server = dict({'name': 'My Server_1', 'imageRef': 'img-1',
                       'flavorRef': '1', 'networks': 'none'}, **server)
        return self.request('POST', '/v2.1/servers', {'server': server},
                            token=token, version=version)

    def show(self, uuid, version, token=base.DEMO):
        return self.request('GET', '/v2.1/servers/%s' % uuid, token=token,
                            version=version).json_body_or_none['server']

    def test_hostname_from_2_90_shown_to_the_owner(self):
        resp = self.create({'hostname': 'web-1'}, '2.90')
        self.assertEqual(202, resp.status_int, resp.body)
        uuid = resp.json_body_or_none['server']['id']
        self.assertEqual('web-1', self.compute.created_with['hostname'])
        self.assertEqual('web-1',
                         self.show(uuid, '2.90')['OS-EXT-SRV-ATTR:hostname'])
        self.assertNotIn('OS-EXT-SRV-ATTR:hostname', self.show(uuid, '2.89'))

    def test_hostname_rules_by_microversion(self):
        self.assertFault(self.create({'hostname': 'web-1'}, '2.89'), 400,
                         'badRequest', "'hostname' was unexpected")
        for bad in ('web.example.org', '-web', 'a_b', 'x' * 64):
            self.assertFault(self.create({'hostname': bad}, '2.90'), 400,
                             'badRequest', 'hostname')
        resp = self.create({'hostname': 'web.example.org'}, '2.94')
        self.assertEqual(202, resp.status_int, resp.body)
        self.assertFault(self.create({'hostname': 'a_b.example'}, '2.94'),
                         400, 'badRequest', 'hostname')
        self.assertFault(self.create({'hostname': 'web', 'min_count': 2},
                                     '2.90'), 400, 'badRequest',
                         'more than one server')

    def test_default_hostname_from_the_name(self):
        inst = self.compute.add_instance(project_id='proj',
                                         name='My Server_1!')
        self.assertEqual('my-server-1',
                         self.show(inst.uuid, '2.90')[
                             'OS-EXT-SRV-ATTR:hostname'])

    def test_pinned_availability_zone_from_2_96(self):
        resp = self.create({'availability_zone': 'nova:lab-a'}, '2.96',
                           token=base.ADMIN)
        uuid = resp.json_body_or_none['server']['id']
        self.assertEqual('nova',
                         self.compute.created_with['availability_zone'])
        self.assertEqual('nova', self.show(uuid, '2.96', token=base.ADMIN)[
            'pinned_availability_zone'])
        self.assertNotIn('pinned_availability_zone',
                         self.show(uuid, '2.95', token=base.ADMIN))
        resp = self.create({}, '2.96')
        uuid = resp.json_body_or_none['server']['id']
        self.assertIsNone(self.show(uuid, '2.96')['pinned_availability_zone'])
        detail = self.request('GET', '/v2.1/servers/detail', token=base.DEMO,
                              version='2.96').json_body_or_none
        self.assertIn('pinned_availability_zone', detail['servers'][0])


class ResetStateTestCase(base.APITestCase):

    def reset(self, inst, state, token=base.ADMIN):
        return self.request('POST', '/v2.1/servers/%s/action' % inst.uuid,
                            {'os-resetState': {'state': state}},
                            token=token)

    def test_reset_to_error_and_back(self):
        inst = self.compute.add_instance(task_state='migrating')
        self.assertEqual(202, self.reset(inst, 'error').status_int)
        self.assertEqual(('error', None), (inst.vm_state, inst.task_state))
        self.assertEqual(202, self.reset(inst, 'active').status_int)
        self.assertEqual('active', inst.vm_state)

    def test_bad_state_400_non_admin_403(self):
        inst = self.compute.add_instance(project_id='proj')
        self.assertFault(self.reset(inst, 'paused'), 400, 'badRequest',
                         'state')
        self.assertFault(self.reset(inst, 'error', token=base.DEMO), 403,
                         'forbidden', 'os-admin-actions:reset_state')
        self.assertEqual('active', inst.vm_state)

    def test_tenant_filter_only_with_all_tenants(self):
        mine = self.compute.add_instance(project_id='admin', name='mine')
        theirs = self.compute.add_instance(project_id='proj', name='theirs')
        self.compute.add_instance(project_id='other', name='other')

        def names(query):
            body = self.request('GET', '/v2.1/servers?' + query
                                ).json_body_or_none
            return sorted(s['name'] for s in body['servers'])
        # Without all_tenants Nova ignores tenant_id (lp:1185290).
        self.assertEqual([mine.name], names('tenant_id=proj'))
        self.assertEqual([theirs.name], names('all_tenants=&tenant_id=proj'))
        self.assertEqual(['mine', 'other', 'theirs'], names('all_tenants=1'))
