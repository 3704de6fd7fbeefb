"""os-hypervisors: routes and fields bound to their microversion ranges."""

import json

from nova.tests.unit.api import base

CPU = {'arch': 'x86_64', 'model': 'Skylake-Client-IBRS', 'vendor': 'Intel',
       'topology': {'sockets': 1, 'cores': 2, 'threads': 2},
       'features': ['vmx']}


class HypervisorsTestCase(base.APITestCase):

    def setUp(self):
        super(HypervisorsTestCase, self).setUp()
        for node in self.compute.nodes:
            node.cpu_info = json.dumps(CPU)
        self.inst = self.compute.add_instance(host='lab-a', name='vm-a')

    def get(self, path, version, token=base.ADMIN):
        return self.request('GET', '/v2.1/os-hypervisors' + path,
                            version=version, token=token)

    # -- cpu_info ----------------------------------------------------------

    def test_cpu_info_string_before_2_28_object_from_it(self):
        before = self.get('/1', '2.27').json_body_or_none['hypervisor']
        self.assertIsInstance(before['cpu_info'], str)
        self.assertEqual(CPU, json.loads(before['cpu_info']))
        after = self.get('/detail', '2.28').json_body_or_none
        self.assertEqual(CPU, after['hypervisors'][0]['cpu_info'])

    def test_old_driver_arch_only_cpu_info(self):
        self.compute.nodes[0].cpu_info = 'x86_64'
        body = self.get('/1', '2.28').json_body_or_none['hypervisor']
        self.assertEqual({'arch': 'x86_64'}, body['cpu_info'])

    def test_2_88_drops_figures_and_shows_uptime(self):
        uuid = self.compute.nodes[0].uuid
        body = self.get('/%s' % uuid, '2.88').json_body_or_none['hypervisor']
        for gone in ('cpu_info', 'vcpus', 'memory_mb', 'free_ram_mb',
                     'local_gb', 'running_vms', 'disk_available_least',
                     'current_workload'):
            self.assertNotIn(gone, body)
        self.assertIn('load average', body['uptime'])
        self.assertEqual(('get_host_uptime', 'lab-a'),
                         self.compute.calls[-1])
        detail = self.get('/detail', '2.88').json_body_or_none
        self.assertNotIn('uptime', detail['hypervisors'][0])
        self.assertNotIn('vcpus', detail['hypervisors'][0])

    def test_2_88_uptime_none_when_service_down(self):
        # lab-b's service is down in the stub: no RPC, uptime null.
        uuid = self.compute.nodes[1].uuid
        body = self.get('/%s' % uuid, '2.88').json_body_or_none['hypervisor']
        self.assertIsNone(body['uptime'])

    # -- statistics and uptime (up to 2.87) --------------------------------

    def test_statistics(self):
        resp = self.get('/statistics', '2.87')
        self.assertEqual(200, resp.status_int, resp.body)
        stats = resp.json_body_or_none['hypervisor_statistics']
        self.assertEqual(2, stats['count'])
        self.assertEqual(8, stats['vcpus'])
        self.assertEqual(16384, stats['memory_mb'])
        self.assertEqual(1024, stats['memory_mb_used'])
        self.assertEqual(15360, stats['free_ram_mb'])
        self.assertEqual(1, stats['running_vms'])

    def test_statistics_gone_from_2_88(self):
        self.assertFault(self.get('/statistics', '2.88'), 404,
                         'itemNotFound')

    def test_uptime(self):
        body = self.get('/1/uptime', '2.1').json_body_or_none['hypervisor']
        self.assertEqual(1, body['id'])
        self.assertEqual('lab-a', body['hypervisor_hostname'])
        self.assertIn('up 3 days', body['uptime'])

    def test_uptime_service_down_400(self):
        self.assertFault(self.get('/2/uptime', '2.1'), 400, 'badRequest',
                         'unavailable')

    def test_uptime_unknown_404_and_gone_from_2_88(self):
        self.assertFault(self.get('/77/uptime', '2.1'), 404, 'itemNotFound')
        uuid = self.compute.nodes[0].uuid
        self.assertFault(self.get('/%s/uptime' % uuid, '2.88'), 404,
                         'itemNotFound')

    # -- search and servers (up to 2.52) -----------------------------------

    def test_search(self):
        body = self.get('/lab/search', '2.52').json_body_or_none
        self.assertEqual(['lab-a', 'lab-b'],
                         [h['hypervisor_hostname']
                          for h in body['hypervisors']])
        self.assertFault(self.get('/nope/search', '2.52'), 404,
                         'itemNotFound', "No hypervisor matching 'nope'")
        self.assertFault(self.get('/lab/search', '2.53'), 404,
                         'itemNotFound')

    def test_servers(self):
        body = self.get('/lab/servers', '2.52').json_body_or_none
        a, b = body['hypervisors']
        self.assertEqual([{'uuid': self.inst.uuid, 'name': 'vm-a'}],
                         a['servers'])
        self.assertNotIn('servers', b)
        self.assertFault(self.get('/lab/servers', '2.53'), 404,
                         'itemNotFound')

    def test_with_servers_and_pattern_from_2_53(self):
        body = self.get('?with_servers=true&hypervisor_hostname_pattern='
                        'lab-a', '2.53').json_body_or_none
        (hyp,) = body['hypervisors']
        self.assertEqual('node-a-uuid', hyp['id'])
        self.assertEqual([{'uuid': self.inst.uuid, 'name': 'vm-a'}],
                         hyp['servers'])
        self.assertFault(self.get('?hypervisor_hostname_pattern=zz',
                                  '2.53'), 404, 'itemNotFound')

    def test_paging_from_2_33(self):
        body = self.get('?limit=1', '2.33').json_body_or_none
        self.assertEqual([1], [h['id'] for h in body['hypervisors']])
        self.assertIn('marker=1', body['hypervisors_links'][0]['href'])
        body = self.get('?limit=1&marker=1', '2.33').json_body_or_none
        self.assertEqual([2], [h['id'] for h in body['hypervisors']])

    # -- policy --------------------------------------------------------------

    def test_non_admin_403_on_every_route(self):
        for path, version in (('', '2.1'), ('/detail', '2.1'), ('/1', '2.1'),
                              ('/statistics', '2.1'), ('/1/uptime', '2.1'),
                              ('/lab/search', '2.1'),
                              ('/lab/servers', '2.1'),
                              ('/nope/search', '2.1')):
            self.assertFault(self.get(path, version, token=base.DEMO), 403,
                             'forbidden', 'os_compute_api:os-hypervisors:')
        self.assertNotIn(('get_host_uptime', 'lab-a'), self.compute.calls)
