"""servers, os-migrations, os-services, os-hypervisors, flavors, images."""

from nova.tests.unit.api import base


class ServersTestCase(base.APITestCase):

    def create(self, server, version='2.79', token=base.ADMIN):
        return self.request('POST', '/v2.1/servers', {'server': server},
                            token=token, version=version)

    def test_create(self):
        resp = self.create({'name': 'vm1', 'imageRef': 'img-1',
                            'flavorRef': '1', 'networks': 'none',
                            'availability_zone': 'nova:lab-b',
                            'metadata': {'k': 'v'}})
        self.assertEqual(202, resp.status_int, resp.body)
        server = resp.json_body_or_none['server']
        self.assertIn('adminPass', server)
        self.assertTrue(resp.headers['Location'].endswith(
            '/v2.1/servers/%s' % server['id']))
        self.assertEqual(('create_server', 'vm1', '1', 'img-1', {'k': 'v'},
                          'lab-b'), self.compute.calls[-1])

    def test_create_image_and_flavor_links(self):
        resp = self.create({'name': 'vm1',
                            'imageRef': 'http://x/images/img-1',
                            'flavorRef': 'http://x/flavors/2',
                            'networks': 'auto'})
        self.assertEqual(202, resp.status_int, resp.body)
        self.assertEqual('2', self.compute.calls[-1][2])
        self.assertEqual('img-1', self.compute.calls[-1][3])

    def test_create_2_74_host(self):
        resp = self.create({'name': 'vm1', 'imageRef': 'img-1',
                            'flavorRef': '1', 'networks': 'none',
                            'host': 'lab-a'})
        self.assertEqual(202, resp.status_int)
        self.assertEqual('lab-a', self.compute.calls[-1][5])
        resp = self.create({'name': 'vm1', 'imageRef': 'img-1',
                            'flavorRef': '1', 'networks': 'none',
                            'host': 'lab-a'}, version='2.73')
        self.assertFault(resp, 400, 'badRequest', "'host' was unexpected")

    def test_create_networks_required_from_2_37(self):
        resp = self.create({'name': 'vm1', 'imageRef': 'img-1',
                            'flavorRef': '1'})
        self.assertFault(resp, 400, 'badRequest',
                         "'networks' is a required property")
        resp = self.create({'name': 'vm1', 'imageRef': 'img-1',
                            'flavorRef': '1'}, version='2.36')
        self.assertEqual(202, resp.status_int)

    def test_create_bad_name(self):
        resp = self.create({'name': '', 'imageRef': 'img-1',
                            'flavorRef': '1', 'networks': 'none'})
        self.assertFault(resp, 400, 'badRequest', 'field/attribute name')

    def test_create_unknown_flavor_400(self):
        resp = self.create({'name': 'vm', 'imageRef': 'img-1',
                            'flavorRef': '77', 'networks': 'none'})
        self.assertFault(resp, 400, 'badRequest',
                         'Flavor 77 could not be found.')

    def test_create_forced_host_is_admin_only(self):
        resp = self.create({'name': 'vm', 'imageRef': 'img-1',
                            'flavorRef': '1', 'networks': 'none',
                            'availability_zone': 'nova:lab-a'},
                           token=base.DEMO)
        self.assertFault(resp, 403, 'forbidden',
                         'os_compute_api:servers:create:forced_host')
        resp = self.create({'name': 'vm', 'imageRef': 'img-1',
                            'flavorRef': '1', 'networks': 'none'},
                           token=base.DEMO)
        self.assertEqual(202, resp.status_int)

    def test_show_admin(self):
        inst = self.compute.add_instance(project_id='admin',
                                         task_state='migrating',
                                         progress=42)
        resp = self.request('GET', '/v2.1/servers/%s' % inst.uuid,
                            version='2.79')
        server = resp.json_body_or_none['server']
        self.assertEqual('MIGRATING', server['status'])
        self.assertEqual(42, server['progress'])
        self.assertEqual('lab-a', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('lab-a',
                         server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        self.assertEqual('migrating', server['OS-EXT-STS:task_state'])
        self.assertEqual('active', server['OS-EXT-STS:vm_state'])
        self.assertEqual(1, server['OS-EXT-STS:power_state'])
        self.assertEqual('UP', server['host_status'])
        self.assertEqual(512, server['flavor']['ram'])
        self.assertEqual('m1.tiny', server['flavor']['original_name'])
        self.assertEqual([], server['server_groups'])
        self.assertIsNone(server['locked_reason'])
        self.assertEqual('2026-11-25T12:00:00Z', server['created'])

    def test_show_2_1_flavor_link(self):
        inst = self.compute.add_instance(project_id='admin')
        server = self.request('GET', '/v2.1/servers/%s' % inst.uuid
                              ).json_body_or_none['server']
        self.assertEqual('1', server['flavor']['id'])
        self.assertNotIn('host_status', server)
        self.assertNotIn('locked', server)

    def test_show_non_admin_hides_host(self):
        inst = self.compute.add_instance(project_id='proj')
        resp = self.request('GET', '/v2.1/servers/%s' % inst.uuid,
                            token=base.DEMO, version='2.79')
        self.assertEqual(200, resp.status_int)
        server = resp.json_body_or_none['server']
        self.assertNotIn('OS-EXT-SRV-ATTR:host', server)
        self.assertNotIn('host_status', server)
        self.assertIn('OS-EXT-STS:task_state', server)

    def test_other_project_404(self):
        inst = self.compute.add_instance(project_id='other')
        resp = self.request('GET', '/v2.1/servers/%s' % inst.uuid,
                            token=base.DEMO)
        self.assertFault(resp, 404, 'itemNotFound')

    def test_list_scoped_to_project(self):
        mine = self.compute.add_instance(project_id='proj', name='mine')
        self.compute.add_instance(project_id='other', name='theirs')
        body = self.request('GET', '/v2.1/servers',
                            token=base.DEMO).json_body_or_none
        self.assertEqual([mine.uuid], [s['id'] for s in body['servers']])
        body = self.request('GET', '/v2.1/servers?all_tenants=1'
                            ).json_body_or_none
        self.assertEqual(2, len(body['servers']))
        resp = self.request('GET', '/v2.1/servers?all_tenants=1',
                            token=base.DEMO)
        self.assertFault(resp, 403, 'forbidden')

    def test_detail_filters(self):
        self.compute.add_instance(project_id='admin', name='a1', host='lab-a')
        self.compute.add_instance(project_id='admin', name='b1', host='lab-b')
        body = self.request('GET', '/v2.1/servers/detail?host=lab-b',
                            version='2.79').json_body_or_none
        self.assertEqual(['b1'], [s['name'] for s in body['servers']])
        body = self.request('GET', '/v2.1/servers/detail?name=^a',
                            version='2.79').json_body_or_none
        self.assertEqual(['a1'], [s['name'] for s in body['servers']])

    def test_unknown_query_param_from_2_75(self):
        resp = self.request('GET', '/v2.1/servers?colour=red',
                            version='2.75')
        self.assertFault(resp, 400, 'badRequest', 'colour')
        resp = self.request('GET', '/v2.1/servers?colour=red',
                            version='2.74')
        self.assertEqual(200, resp.status_int)

    def test_delete(self):
        inst = self.compute.add_instance(project_id='admin')
        resp = self.request('DELETE', '/v2.1/servers/%s' % inst.uuid)
        self.assertEqual(204, resp.status_int)
        self.assertNotIn(inst.uuid, self.compute.instances)


class MigrationsTestCase(base.APITestCase):

    def setUp(self):
        super(MigrationsTestCase, self).setUp()
        inst = self.compute.add_instance()
        self.running = self.compute.add_migration(inst, status='running')
        self.done = self.compute.add_migration(inst, status='completed')

    def test_fields_2_1(self):
        body = self.request('GET', '/v2.1/os-migrations').json_body_or_none
        mig = body['migrations'][0]
        self.assertNotIn('migration_type', mig)
        self.assertNotIn('links', mig)
        self.assertNotIn('uuid', mig)
        for key in ('id', 'instance_uuid', 'source_compute', 'dest_compute',
                    'source_node', 'dest_node', 'dest_host', 'status',
                    'old_instance_type_id', 'new_instance_type_id',
                    'created_at', 'updated_at'):
            self.assertIn(key, mig)

    def test_fields_2_23_links_for_in_progress(self):
        body = self.request('GET', '/v2.1/os-migrations',
                            version='2.23').json_body_or_none
        by_id = {m['id']: m for m in body['migrations']}
        running = by_id[self.running.id]
        self.assertEqual('live-migration', running['migration_type'])
        self.assertTrue(running['links'][0]['href'].endswith(
            '/v2.1/servers/%s/migrations/%s' % (self.running.instance_uuid,
                                                self.running.id)))
        self.assertNotIn('links', by_id[self.done.id])

    def test_2_59_uuid_and_paging(self):
        body = self.request('GET', '/v2.1/os-migrations?limit=1',
                            version='2.59').json_body_or_none
        (first,) = body['migrations']
        self.assertIn('uuid', first)
        self.assertIn('migrations_links', body)
        body = self.request(
            'GET', '/v2.1/os-migrations?limit=1&marker=%s' % first['uuid'],
            version='2.59').json_body_or_none
        self.assertEqual(1, len(body['migrations']))
        self.assertNotEqual(first['id'], body['migrations'][0]['id'])
        resp = self.request('GET', '/v2.1/os-migrations?marker=nope',
                            version='2.59')
        self.assertFault(resp, 400, 'badRequest', 'Marker nope')

    def test_filters(self):
        body = self.request('GET', '/v2.1/os-migrations?status=completed'
                            ).json_body_or_none
        self.assertEqual([self.done.id],
                         [m['id'] for m in body['migrations']])

    def test_non_admin_403(self):
        resp = self.request('GET', '/v2.1/os-migrations', token=base.DEMO)
        self.assertFault(resp, 403, 'forbidden',
                         "Policy doesn't allow os_compute_api:"
                         "os-migrations:index to be performed.")


class ServicesHypervisorsTestCase(base.APITestCase):

    def test_services(self):
        body = self.request('GET', '/v2.1/os-services').json_body_or_none
        a, b = body['services']
        self.assertEqual(1, a['id'])
        self.assertEqual('up', a['state'])
        self.assertEqual('enabled', a['status'])
        self.assertEqual('down', b['state'])
        self.assertEqual('disabled', b['status'])
        self.assertEqual('maintenance', b['disabled_reason'])
        self.assertEqual('nova', a['zone'])
        self.assertNotIn('forced_down', a)
        body = self.request('GET', '/v2.1/os-services',
                            version='2.53').json_body_or_none
        self.assertEqual('svc-a-uuid', body['services'][0]['id'])
        self.assertIs(False, body['services'][0]['forced_down'])

    def test_hypervisors(self):
        body = self.request('GET', '/v2.1/os-hypervisors').json_body_or_none
        self.assertEqual([{'id': 1, 'hypervisor_hostname': 'lab-a',
                           'state': 'up', 'status': 'enabled'},
                          {'id': 2, 'hypervisor_hostname': 'lab-b',
                           'state': 'down', 'status': 'disabled'}],
                         body['hypervisors'])
        body = self.request('GET', '/v2.1/os-hypervisors/detail',
                            version='2.53').json_body_or_none
        node = body['hypervisors'][0]
        self.assertEqual('node-a-uuid', node['id'])
        self.assertEqual(7168, node['free_ram_mb'])
        self.assertEqual('svc-a-uuid', node['service']['id'])
        body = self.request('GET', '/v2.1/os-hypervisors/node-b-uuid',
                            version='2.53').json_body_or_none
        self.assertEqual('lab-b', body['hypervisor']['hypervisor_hostname'])
        resp = self.request('GET', '/v2.1/os-hypervisors/99')
        self.assertFault(resp, 404, 'itemNotFound')

    def test_admin_only(self):
        for path, rule in (('/v2.1/os-services', 'os-services:list'),
                           ('/v2.1/os-hypervisors', 'os-hypervisors:list'),
                           ('/v2.1/os-hypervisors/detail',
                            'os-hypervisors:list-detail'),
                           ('/v2.1/os-hypervisors/1',
                            'os-hypervisors:show')):
            resp = self.request('GET', path, token=base.DEMO)
            self.assertFault(resp, 403, 'forbidden',
                             'os_compute_api:%s' % rule)


class FlavorsImagesTestCase(base.APITestCase):

    def test_flavors(self):
        body = self.request('GET', '/v2.1/flavors',
                            token=base.DEMO).json_body_or_none
        self.assertEqual(['1', '2'], [f['id'] for f in body['flavors']])
        self.assertNotIn('description', body['flavors'][0])
        body = self.request('GET', '/v2.1/flavors/detail',
                            version='2.61').json_body_or_none
        small = body['flavors'][1]
        self.assertEqual(2048, small['ram'])
        self.assertEqual('', small['swap'])
        self.assertEqual('small', small['description'])
        self.assertEqual({'hw:cpu_policy': 'shared'}, small['extra_specs'])
        body = self.request('GET', '/v2.1/flavors/2',
                            version='2.75').json_body_or_none
        self.assertEqual(0, body['flavor']['swap'])
        resp = self.request('GET', '/v2.1/flavors/9')
        self.assertFault(resp, 404, 'itemNotFound',
                         'Flavor 9 could not be found.')

    def test_compute_image_proxy_until_2_35(self):
        body = self.request('GET', '/v2.1/images/detail',
                            version='2.35').json_body_or_none
        self.assertEqual('busybox', body['images'][0]['name'])
        self.assertEqual('ACTIVE', body['images'][0]['status'])
        resp = self.request('GET', '/v2.1/images', version='2.36')
        self.assertFault(resp, 404, 'itemNotFound')
        resp = self.request('GET', '/v2.1/images/nope')
        self.assertFault(resp, 404, 'itemNotFound', 'Image not found.')
