"""The server's embedded flavor (2.47+): ``disk`` is the root disk size
the server was created with (``root_gb`` on the instance), the flavor's
for a server recorded before that column.
"""

from nova.tests.unit.api import base


class ServerFlavorDiskTestCase(base.APITestCase):

    def flavor(self, inst, version='2.79'):
        resp = self.request('GET', '/v2.1/servers/%s' % inst.uuid,
                            version=version)
        self.assertEqual(200, resp.status_int, resp.body)
        return resp.json_body_or_none['server']['flavor']

    def test_disk_is_the_server_s_root_gb(self):
        self.compute.flavors['1'].root_gb = 1
        inst = self.compute.add_instance(project_id='admin', root_gb=20)
        self.assertEqual(20, self.flavor(inst)['disk'])

    def test_zero_is_a_size_not_missing(self):
        self.compute.flavors['1'].root_gb = 5
        inst = self.compute.add_instance(project_id='admin', root_gb=0)
        self.assertEqual(0, self.flavor(inst)['disk'])

    def test_older_server_shows_its_flavor_s_disk(self):
        self.compute.flavors['1'].root_gb = 5
        for root_gb in ({}, {'root_gb': None}):
            inst = self.compute.add_instance(project_id='admin', **root_gb)
            self.assertEqual(5, self.flavor(inst)['disk'])

    def test_before_2_47_only_the_flavor_link(self):
        inst = self.compute.add_instance(project_id='admin', root_gb=20)
        self.assertNotIn('disk', self.flavor(inst, version='2.46'))
