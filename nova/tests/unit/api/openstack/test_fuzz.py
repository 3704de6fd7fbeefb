"""Schema-driven fuzzing of the compute API (bounded, deterministic).

A few hundred requests drawn from the OpenAPI description by
``nova.fuzz.fuzzer`` against the real compute API; ``tox -e
fuzz`` runs the same for thousands.
"""

import json

import fixtures
from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova.api.openstack import api_version
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.fuzz import fuzzer as fuzz
from nova.fuzz import world as fuzz_world

CONF = nova.conf.CONF

MIGRATION_OPERATIONS = ('servers.migrate_live', 'server_migrations.index',
                        'server_migrations.show',
                        'server_migrations.force_complete',
                        'server_migrations.delete', 'migrations.index')


class FuzzTestCase(testtools.TestCase):

    def setUp(self):
        super(FuzzTestCase, self).setUp()
        self.useFixture(config_fixture.Config(CONF)).config(
            group='api', auth_strategy='noauth2')
        policy.reset()
        self.addCleanup(policy.reset)
        # Expected 4xx answers log nothing worth keeping; 5xx log errors.
        self.useFixture(fixtures.FakeLogger(level=40))
        tmp = self.useFixture(fixtures.TempDir()).path
        self.world = fuzz_world.World(CONF, tmp)
        self.addCleanup(self.world.close)
        self.operations = fuzz.load_operations()

    def ops(self, *op_ids):
        return [op for op in self.operations if op.op_id in op_ids]

    def assertNoProblems(self, counts):
        if counts.failures:
            self.fail('%d of %d requests went wrong, for example:\n%s' % (
                len(counts.failures), counts.total, '\n'.join(
                    '%r -> %d: %s' % (r, status, '; '.join(found))
                    for r, status, found in counts.failures[:5])))

    def test_every_operation(self):
        counts = fuzz.run(self.world, self.operations, 300, fuzz.Counts())
        self.assertNoProblems(counts)
        self.assertEqual(300, counts.total)
        # The fuzzer gets past validation, and is refused too.
        for name in ('2xx', '4xx'):
            self.assertGreater(counts.by_class[name], 20, counts.report())
        self.assertEqual(0, counts.by_class['5xx'])

    def test_migration_operations(self):
        counts = fuzz.run(self.world, self.ops(*MIGRATION_OPERATIONS), 250,
                          fuzz.Counts())
        self.assertNoProblems(counts)
        self.assertGreater(counts.by_status[202], 0, counts.report())
        self.assertGreater(counts.by_status[409], 0, counts.report())

    def test_non_admin_gets_403_on_every_migration_action(self):
        ops = self.ops(*MIGRATION_OPERATIONS)
        self.assertEqual(len(MIGRATION_OPERATIONS), len(ops))
        self.assertTrue(all(op.admin_only for op in ops))
        strategy = fuzz.requests(ops, self.world.ids, focused=True,
                                 callers=fuzz.CALLERS[1:3])
        counts = fuzz.run(self.world, ops, 150, fuzz.Counts(),
                          strategy=strategy)
        self.assertNoProblems(counts)
        self.assertEqual({403: 150}, dict(counts.by_status))
        self.assertEqual(set(MIGRATION_OPERATIONS),
                         set(counts.by_operation))
        self.assertEqual([], self.world.rpcapi.casts)

    def test_finds_a_reintroduced_500(self):
        # Without the lone-surrogate check a server name such as "\ud800"
        # reaches the database and fails there: the fuzzer must see it.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.openstack.wsgi.has_lone_surrogate',
            lambda value: False))
        strategy = fuzz.requests(self.ops('servers.create'), self.world.ids,
                                 focused=True)
        counts = fuzz.run(self.world, self.operations, 300, fuzz.Counts(),
                          strategy=strategy)
        self.assertGreater(counts.by_class['5xx'], 0, counts.report())
        self.assertTrue(all('500' in found
                            for _r, _s, found in counts.failures))


def _request(op_id='servers.migrate_live', caller='owner', method='POST',
             version='2.30', body=b'{"os-migrateLive": {}}'):
    class Op(object):
        pass
    op = Op()
    op.op_id = op_id
    op.method = 'POST'
    op.action = 'os-migrateLive'
    op.admin_only = True
    op.versions = [(api_version.MIN_VERSION, api_version.MAX_VERSION)]
    return fuzz.Request(op, method, '/v2.1/servers/x/action', '',
                        None, api_version.APIVersion(version), caller,
                        'demo:p', body, True)


def _fault(code, message='no'):
    return json.dumps(wsgi.fault_body(code, message)).encode('utf-8')


class ProblemsTestCase(testtools.TestCase):
    """The checks themselves: each fails on what it must catch."""

    def test_5xx(self):
        self.assertIn('500', fuzz.problems(_request(caller='admin'), 500,
                                           _fault(500)))

    def test_4xx_needs_a_fault_body_with_a_message(self):
        request = _request(caller='admin')
        self.assertEqual([], fuzz.problems(request, 400, _fault(400)))
        self.assertTrue(fuzz.problems(request, 400, b''))
        self.assertTrue(fuzz.problems(request, 400, b'{"a": 1, "b": 2}'))
        self.assertTrue(fuzz.problems(request, 400, _fault(400, ' ')))
        self.assertTrue(fuzz.problems(request, 404, _fault(400)))
        self.assertTrue(fuzz.problems(
            request, 400, b'{"oops": {"code": 400, "message": "m"}}'))

    def test_non_admin_must_get_403(self):
        found = fuzz.problems(_request(), 400, _fault(400))
        self.assertIn('non-admin owner on admin-only servers.migrate_live '
                      'got 400, not 403', found)
        self.assertEqual([], fuzz.problems(_request(), 403, _fault(403)))
        self.assertEqual([], fuzz.problems(_request(caller='admin'), 400,
                                           _fault(400)))

    def test_403_only_when_the_router_dispatches(self):
        # Another action's body, a GET, a version the method lacks: the
        # router answers before the policy check.
        for request in (_request(body=b'{"other": {}}'),
                        _request(body=b'not json'),
                        _request(body=b'{"os-migrateLive": {"\\ud800": 1}}'),
                        _request(method='GET')):
            self.assertFalse(request.dispatches_to_operation())
            self.assertEqual([], fuzz.problems(request, 400, _fault(400)))
        self.assertTrue(_request().dispatches_to_operation())

    def test_effective_version(self):
        self.assertEqual('2.1', str(fuzz.effective_version(None)))
        self.assertEqual('2.96', str(fuzz.effective_version(
            ('OpenStack-API-Version', 'compute latest'))))
        self.assertEqual('2.25', str(fuzz.effective_version(
            ('X-OpenStack-Nova-API-Version', '2.25'))))
        self.assertIsNone(fuzz.effective_version(
            ('OpenStack-API-Version', 'compute 2.97')))
        self.assertIsNone(fuzz.effective_version(
            ('OpenStack-API-Version', 'compute x')))

    def test_effective_version_of_blank_legacy_header(self):
        # The API refuses "X-OpenStack-Nova-API-Version:  " (400); an
        # empty one is no header.
        self.assertIsNone(fuzz.effective_version(
            ('X-OpenStack-Nova-API-Version', ' ')))
        self.assertEqual('2.1', str(fuzz.effective_version(
            ('X-OpenStack-Nova-API-Version', ''))))

    def test_effective_version_of_long_numbers(self):
        self.assertIsNone(fuzz.effective_version(
            ('OpenStack-API-Version', 'compute 2.' + '1' * 5000)))
        self.assertIsNone(fuzz.effective_version(
            ('X-OpenStack-Nova-API-Version', '2.%d' % 2 ** 64)))


class HeadersTestCase(testtools.TestCase):
    """Microversion headers and content types the fuzzer draws."""

    def draw(self, strategy, count=400):
        from hypothesis import given
        drawn = []

        @fuzz.hypothesis_settings(count)
        @given(strategy)
        def collect(value):
            drawn.append(value)
        collect()
        return drawn

    def test_versions_long_malformed_out_of_range(self):
        values = [h[1].replace('compute ', '') for h in
                  self.draw(fuzz._version_headers()) if h is not None]
        self.assertTrue(any(len(v) > 4300 for v in values))
        self.assertTrue(any(v in ('2.', '2..1', '2.1.1') for v in values))
        top = api_version.MAX_VERSION.minor
        self.assertIn('2.%d' % (top + 1), values)

    def test_content_types(self):
        world_ids = {'server_id': ['s'], 'migration_id': ['1'],
                     'migration_uuid': ['u'], 'hypervisor_id': ['1'],
                     'flavor_id': ['1'], 'image_id': ['i'], 'host': ['h'],
                     'service_id': ['1']}
        requests = self.draw(fuzz.requests(fuzz.load_operations(),
                                           world_ids), 300)
        types = {r.content_type for r in requests}
        self.assertIn(None, types)
        self.assertIn('text/plain', types)
        self.assertTrue(any(r.unreadable_body() for r in requests))

    def test_readable_types(self):
        for value in (None, 'application/json', '',
                      'application/json; charset=UTF-8',
                      'application/vnd.openstack.compute+json'):
            self.assertTrue(fuzz.readable_type(value), value)
        for value in ('text/plain', 'Application/JSON', 'application/xml',
                      'application/json ;x'):
            self.assertFalse(fuzz.readable_type(value), value)

    def test_accepted_unreadable_body_is_a_problem(self):
        request = _request(caller='admin')
        request.content_type = 'text/plain'
        self.assertFalse(request.dispatches_to_operation())
        self.assertIn("a 'text/plain' body was accepted (202), not refused "
                      "with 415", fuzz.problems(request, 202, b''))
        self.assertEqual([], fuzz.problems(request, 415, _fault(415)))
        # A non-admin is refused with 415 before the policy check runs.
        request.caller = 'owner'
        self.assertEqual([], fuzz.problems(request, 415, _fault(415)))
