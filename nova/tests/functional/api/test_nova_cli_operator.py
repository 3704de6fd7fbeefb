"""Draining a host with the real ``nova`` CLI, and the server power actions.

Against nova-all on the simulated hypervisors, the unmodified
python-novaclient negotiates this service's maximum microversion (2.88):

* ``nova service-disable`` / ``service-enable`` (PUT /os-services, 2.53
  form) and the scheduler skipping the disabled host;
* ``nova host-evacuate-live HOST``: the CLI live-migrates every server off
  a host;
* ``nova pause`` / ``unpause`` / ``suspend`` / ``resume``;
* ``nova hypervisor-show`` and ``hypervisor-uptime`` at their ranges.
"""

from nova.tests.functional.api import test_nova_cli


class OperatorCLITestCase(test_nova_cli.CloudTestCase):

    def service_id(self, host):
        status, body = self.cloud.rest('GET', '/v2.1/os-services?host=%s'
                                       % host)
        return body['services'][0]['id']

    def test_service_disable_then_host_evacuate_live(self):
        servers = [self.boot(host='lab-a') for _i in range(2)]
        # From 2.53 the CLI names the service by its UUID.
        lab_a = self.service_id('lab-a')
        self.ok(self.admin.nova('service-disable', '--reason', 'maintenance',
                                lab_a))
        try:
            services = {row['Host']: row for row in self.ok(
                self.admin.nova('service-list')).table()}
            self.assertEqual('disabled', services['lab-a']['Status'])
            self.assertEqual('maintenance',
                             services['lab-a']['Disabled Reason'])
            # The scheduler skips the disabled host...
            self.assertEqual('lab-b', self.cloud.server(
                self.boot(host=None))['OS-EXT-SRV-ATTR:host'])
            # ... and the operator drains it with the real CLI.
            table = self.ok(self.admin.nova('host-evacuate-live',
                                            'lab-a')).table()
            moved = {row['Server UUID']: row for row in table}
            self.assertTrue(set(servers) <= set(moved), table)
            for server_id, row in moved.items():
                self.assertEqual('True', row['Live Migration Accepted'], row)
                self.cloud.wait_for_server(
                    server_id, self.cloud.server(server_id)['status']
                    .replace('MIGRATING', 'ACTIVE'), host='lab-b')
            status, body = self.cloud.rest(
                'GET', '/v2.1/servers/detail?all_tenants=1&host=lab-a')
            self.assertEqual([], body['servers'])
        finally:
            self.ok(self.admin.nova('service-enable', lab_a))
        services = {row['Host']: row for row in self.ok(
            self.admin.nova('service-list')).table()}
        self.assertEqual('enabled', services['lab-a']['Status'])

    def test_pause_unpause_suspend_resume(self):
        server_id = self.boot(host='lab-a')
        for command, status in (('pause', 'PAUSED'), ('unpause', 'ACTIVE'),
                                ('suspend', 'SUSPENDED'),
                                ('resume', 'ACTIVE')):
            self.ok(self.admin.nova(command, server_id))
            self.cloud.wait_for_server(server_id, status)
        self.fails(self.admin.nova('unpause', server_id), 409,
                   "Cannot 'unpause' instance")

    def test_paused_server_live_migrates_and_stays_paused(self):
        server_id = self.boot(host='lab-a')
        self.ok(self.admin.nova('pause', server_id))
        self.cloud.wait_for_server(server_id, 'PAUSED')
        self.ok(self.admin.nova('live-migration', server_id, 'lab-b'))
        self.cloud.wait_for_server(server_id, 'PAUSED', host='lab-b')

    def test_hypervisor_show_and_uptime(self):
        # By id: by name novaclient shows the list entry.
        status, body = self.cloud.rest(
            'GET', '/v2.1/os-hypervisors?hypervisor_hostname_pattern=lab-a')
        hyp_id = body['hypervisors'][0]['id']
        show = self.ok(self.admin.nova('hypervisor-show', hyp_id)
                       ).properties()
        # 2.88: the uptime is part of show, the resource figures are gone.
        # (the CLI's table wraps the line)
        self.assertIn(' up ', show['uptime'])
        self.assertNotIn('vcpus', show)
        old = self.ok(self.admin.nova('--os-compute-api-version', '2.87',
                                      'hypervisor-show', 'lab-a')
                      ).properties()
        self.assertEqual('4', old['vcpus'])
        self.assertIn('Intel', old['cpu_info_vendor'])
        uptime = self.ok(self.admin.nova('--os-compute-api-version', '2.87',
                                         'hypervisor-uptime', 'lab-a')
                         ).properties()
        self.assertIn(' up ', uptime['uptime'])
