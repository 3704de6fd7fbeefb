"""Requests that used to make the API answer 500 (found by fuzzing), and
the order of the policy check on migration actions.

They run against the real compute API over a seeded database
(``nova.fuzz.world``), where each one failed.
"""

import json

import fixtures
from oslo_config import fixture as config_fixture
import testtools
import webob

import nova.conf
from nova.api.openstack import policy
from nova.fuzz import world as fuzz_world

CONF = nova.conf.CONF


class WorldTestCase(testtools.TestCase):

    def setUp(self):
        super(WorldTestCase, self).setUp()
        self.useFixture(config_fixture.Config(CONF)).config(
            group='api', auth_strategy='noauth2')
        policy.reset()
        self.addCleanup(policy.reset)
        tmp = self.useFixture(fixtures.TempDir()).path
        self.world = fuzz_world.World(CONF, tmp)
        self.addCleanup(self.world.close)
        self.ids = self.world.ids
        # The server with migrations in every state (see fuzz_world).
        self.migrating = self.ids['server_id'][5]
        self.running = self.ids['migration_id'][2]

    def call(self, method, path, body=None, raw=None,
             token=fuzz_world.ADMIN_TOKEN, version='2.79'):
        req = webob.Request.blank(path, method=method)
        req.headers['X-Auth-Token'] = token
        req.headers['OpenStack-API-Version'] = 'compute %s' % version
        if raw is not None:
            req.body = raw
        elif body is not None:
            req.body = json.dumps(body).encode('utf-8')
        resp = req.get_response(self.world.app)
        return resp.status_int, json.loads(resp.body) if resp.body else None

    def assertFault(self, expected, status, body, part=None):
        self.assertEqual(expected, status, body)
        (fault,) = body.values()
        self.assertEqual(expected, fault['code'])
        if part is not None:
            self.assertIn(part, fault['message'])


class FiveHundredsTestCase(WorldTestCase):

    def test_path_not_utf8(self):
        for path in ('/%ff', '/v2.1/%ff', '/v2.1/servers/%ff'):
            status, body = self.call('GET', path)
            self.assertFault(400, status, body,
                             'The request path is not valid UTF-8.')

    def test_query_not_utf8(self):
        status, body = self.call('GET', '/v2.1/servers?name=%ff')
        self.assertFault(400, status, body,
                         'The request query string is not valid UTF-8.')

    def test_migration_id_beyond_sql_integer(self):
        base = '/v2.1/servers/%s/migrations/%s' % (self.migrating, 2 ** 64)
        for method, path, body in (
                ('GET', base, None), ('DELETE', base, None),
                ('POST', base + '/action', {'force_complete': None})):
            # Nova: 400 for an unknown migration on force_complete.
            code = 400 if method == 'POST' else 404
            for version in ('2.24', '2.88'):
                status, answer = self.call(method, path, body,
                                           version=version)
                self.assertFault(code, status, answer, 'not found')

    def test_migration_progress_id_beyond_sql_integer(self):
        # Found by nova-api-fuzz: an OverflowError in the database driver.
        for number in (2 ** 64, 2 ** 80, 0, -3):
            status, body = self.call(
                'GET', '/v2.1/os-migration-progress/%d' % number)
            self.assertFault(404, status, body)

    def test_negative_migration_id(self):
        status, body = self.call('GET', '/v2.1/servers/%s/migrations/-%s'
                                 % (self.migrating, self.running))
        self.assertFault(404, status, body)

    def test_flavor_filter_not_a_number(self):
        for query in ('minRam=%C2%B2', 'minDisk=abc'):
            status, body = self.call('GET', '/v2.1/flavors/detail?' + query)
            self.assertFault(400, status, body, 'filter [')
        status, body = self.call('GET', '/v2.1/flavors?minRam=1000')
        self.assertEqual(200, status)
        self.assertEqual(['3'], [f['id'] for f in body['flavors']])

    def test_time_without_utc_datetime(self):
        for path in ('/v2.1/servers?changes-since=9999-12-31T23:59:59-01:00',
                     '/v2.1/servers?changes-before=0001-01-01T00:00:00%2B01',
                     '/v2.1/os-migrations?changes-since='
                     '9999-12-31T23:59:59-01:00'):
            status, body = self.call('GET', path)
            self.assertFault(400, status, body, "is not a 'date-time'")

    def test_deeply_nested_body(self):
        # Under the 112 KiB body limit (a larger body is a 413).
        raw = b'{"os-migrateLive": ' + b'[' * 50000 + b']' * 50000 + b'}'
        status, body = self.call('POST', '/v2.1/servers/%s/action'
                                 % self.migrating, raw=raw)
        self.assertFault(400, status, body, 'nested too deeply')
        status, body = self.call('POST', '/v2.1/servers',
                                 raw=b'[' * 50000 + b']' * 50000)
        self.assertFault(400, status, body, 'nested too deeply')

    def test_lone_surrogate_in_body(self):
        raw = ('{"server": {"name": "\\ud800x", "flavorRef": "1", '
               '"networks": "none", "imageRef": "%s"}}'
               % self.ids['image_id'][0]).encode('utf-8')
        status, body = self.call('POST', '/v2.1/servers', raw=raw)
        self.assertFault(400, status, body, 'lone UTF-16 surrogate')
        self.assertEqual([], self.world.rpcapi.casts)

    def test_zero_count_as_a_string(self):
        # The schema's minimum of 1 applies to integers only.
        server = {'name': 'none', 'flavorRef': '1', 'networks': 'none',
                  'imageRef': self.ids['image_id'][0]}
        for counts in ({'min_count': '00000'}, {'max_count': '0'},
                       {'min_count': '0', 'max_count': '0'}):
            status, body = self.call('POST', '/v2.1/servers',
                                     {'server': dict(server, **counts)})
            self.assertFault(400, status, body,
                             'is less than the minimum of 1')
        self.assertEqual([], self.world.rpcapi.casts)

    def test_max_count_is_bounded(self):
        server = {'name': 'many', 'flavorRef': '1', 'networks': 'none',
                  'imageRef': self.ids['image_id'][0],
                  'max_count': '1000000000'}
        status, body = self.call('POST', '/v2.1/servers', {'server': server})
        self.assertEqual(202, status, body)
        builds = [c for c in self.world.rpcapi.casts
                  if c[0] == 'build_and_run_instance']
        self.assertEqual(10, len(builds))
        server['min_count'] = 11
        status, body = self.call('POST', '/v2.1/servers', {'server': server})
        self.assertFault(403, status, body, 'Quota exceeded for instances')


class HostNameTestCase(WorldTestCase):

    def migrate(self, host, token=fuzz_world.ADMIN_TOKEN):
        return self.call('POST', '/v2.1/servers/%s/action'
                         % self.ids['server_id'][0],
                         {'os-migrateLive': {'host': host,
                                             'block_migration': 'auto'}},
                         token=token)

    def test_refused_before_compute(self):
        for host in ('lab-b/system', 'root@lab-b', 'lab-b:16509',
                     'lab-b?transport=ssh', 'lab b', 'lab_b', 'lab-b\n',
                     '-lab', 'a..b', 'x' * 64):
            status, body = self.migrate(host)
            self.assertFault(400, status, body,
                             'is not a valid host name: ')
        self.assertEqual([], self.world.rpcapi.casts)

    def test_message(self):
        status, body = self.migrate('root@lab-b')
        self.assertFault(
            400, status, body,
            "Invalid input for field/attribute host. Value: root@lab-b. "
            "'root@lab-b' is not a valid host name: character '@' is not "
            "allowed")

    def test_valid_name_goes_on(self):
        status, body = self.migrate('lab-b')
        self.assertEqual(202, status, body)
        self.assertEqual(['live_migration'],
                         [c[0] for c in self.world.rpcapi.casts])

    def test_server_create_host(self):
        server = {'name': 'vm', 'flavorRef': '1', 'networks': 'none',
                  'imageRef': self.ids['image_id'][0]}
        for extra in ({'host': 'lab-a/x'}, {'hypervisor_hostname': 'a@b'},
                      {'availability_zone': 'nova:lab a'},
                      {'availability_zone': 'nova:lab-a:no/de'}):
            status, body = self.call('POST', '/v2.1/servers',
                                     {'server': dict(server, **extra)})
            self.assertFault(400, status, body, 'is not a valid host name')


class PolicyFirstTestCase(WorldTestCase):
    """A non-admin gets 403 on a migration action, whatever it sends."""

    def test_invalid_body_and_unknown_server(self):
        for server, body in (
                (self.ids['server_id'][0], {'os-migrateLive': {}}),
                ('no-such-server', {'os-migrateLive': {
                    'host': 'a/b', 'block_migration': 'maybe'}})):
            status, answer = self.call('POST', '/v2.1/servers/%s/action'
                                       % server, body,
                                       token=fuzz_world.OWNER_TOKEN)
            self.assertFault(403, status, answer,
                             "Policy doesn't allow "
                             "os_compute_api:os-migrate-server:migrate_live")

    def test_server_migrations(self):
        base = '/v2.1/servers/%s/migrations' % self.migrating
        for method, path, body, rule in (
                ('GET', base, None, 'index'),
                ('GET', base + '/zzz', None, 'show'),
                ('DELETE', base + '/%s' % self.running, None, 'delete'),
                ('POST', base + '/%s/action' % self.running,
                 {'force_complete': 'not null'}, 'force_complete')):
            status, answer = self.call(method, path, body,
                                       token=fuzz_world.OWNER_TOKEN)
            self.assertFault(403, status, answer,
                             'os_compute_api:servers:migrations:%s' % rule)
        self.assertEqual([], self.world.rpcapi.casts)

    def test_os_migrations(self):
        status, body = self.call('GET', '/v2.1/os-migrations?marker=x',
                                 token=fuzz_world.OTHER_TOKEN)
        self.assertFault(403, status, body, 'os-migrations:index')
