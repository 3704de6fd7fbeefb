"""Draining a real lab host with the real ``nova`` CLI.

``nova-all --lab-env`` runs the API and one compute service per lab host
(real libvirt and QEMU). The operator disables lab-a (``nova
service-disable``, PUT /os-services at 2.53), then ``nova
host-evacuate-live lab-a`` live-migrates every server off it; the guests
end up running on lab-b, which libvirt on each host confirms.
"""

import testtools

from nova.tests.functional.api import cloud as cloud_lib
from nova.tests.functional.libvirt import lab
from nova.virt.libvirt import host as libvirt_host


class HostEvacuateLiveTestCase(testtools.TestCase):

    def setUp(self):
        super(HostEvacuateLiveTestCase, self).setUp()
        self.env = lab.env_for_test(self)
        if cloud_lib.find_script('nova') is None:
            self.skipTest('the nova client is not installed '
                          '(test-requirements.txt)')
        self.cloud = cloud_lib.NovaAll(lab_env=lab.env_path())
        self.addCleanup(self.cloud.cleanup)
        self.addOnException(self._attach_log)
        self.cloud.start()
        self.cli = cloud_lib.CLI(self.cloud)
        self.cloud.wait_for(self._services_up, 60,
                            what='both compute services up')

    def _attach_log(self, exc_info):
        self.addDetail('nova-all.log', testtools.content.text_content(
            self.cloud.log()[-30000:]))

    def _services_up(self):
        status, body = self.cloud.rest('GET', '/v2.1/os-services')
        return status == 200 and {'lab-a', 'lab-b'} <= {
            s['host'] for s in body['services'] if s['state'] == 'up'}

    def ok(self, result):
        self.assertEqual(0, result.returncode, result)
        return result

    def boot(self, name):
        result = self.ok(self.cli.nova(
            'boot', '--flavor', 'lab.small', '--image', 'lab-guest',
            '--availability-zone', 'nova:lab-a', name))
        server_id = result.properties()['id']
        self.addCleanup(self._delete, server_id)
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-a',
                                   timeout=120)
        return server_id

    def _delete(self, server_id):
        self.cli.nova('delete', server_id)
        self.cloud.wait_for(
            lambda: self.cloud.rest('GET', '/v2.1/servers/%s'
                                    % server_id)[0] == 404, 120,
            what='server %s deleted' % server_id)

    def guests_on(self, letter):
        # With the event loop: the connection registers lifecycle events.
        host = libvirt_host.Host(lab.host_env(self.env, letter)['uri'])
        return {g.uuid for g in host.list_guests() if g.is_active()}

    def test_service_disable_and_host_evacuate_live(self):
        servers = [self.boot('evac-%d' % i) for i in range(2)]
        status, body = self.cloud.rest('GET', '/v2.1/os-services?host=lab-a')
        lab_a = body['services'][0]['id']
        self.ok(self.cli.nova('service-disable', '--reason', 'maintenance',
                              lab_a))
        self.addCleanup(self.cli.nova, 'service-enable', lab_a)

        table = self.ok(self.cli.nova('host-evacuate-live', 'lab-a')).table()
        self.assertEqual(sorted(servers),
                         sorted(row['Server UUID'] for row in table))
        self.assertEqual({'True'}, {row['Live Migration Accepted']
                                    for row in table})
        for server_id in servers:
            self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b',
                                       timeout=300)
        self.assertTrue(set(servers) <= self.guests_on('B'))
        self.assertFalse(set(servers) & self.guests_on('A'))
        migrations = self.ok(self.cli.nova('migration-list', '--host',
                                           'lab-a')).table()
        self.assertEqual({'completed'}, {
            row['Status'] for row in migrations
            if (row.get('Server UUID') or row.get('Instance UUID'))
            in servers})
        # Disabled: nothing new lands there until it is enabled again.
        new_id = self.ok(self.cli.nova(
            'boot', '--flavor', 'lab.small', '--image', 'lab-guest',
            'evac-new')).properties()['id']
        self.addCleanup(self._delete, new_id)
        self.assertEqual('lab-b', self.cloud.wait_for_server(
            new_id, 'ACTIVE', timeout=120)['OS-EXT-SRV-ATTR:host'])
