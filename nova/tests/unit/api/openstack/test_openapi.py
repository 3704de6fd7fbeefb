"""The OpenAPI description: generated from the code, committed, valid."""

import json
import os

import fixtures
import testtools

from nova.api.openstack.compute.schemas import migrate_server
from nova.api.openstack.compute.schemas import servers as servers_schema
from nova.api.openstack import openapi
from nova.api.openstack import policy

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..', '..', '..'))

# The migration actions a non-admin must never be allowed to call.
MIGRATION_OPERATIONS = (
    'servers.migrate_live', 'server_migrations.index',
    'server_migrations.show', 'server_migrations.force_complete',
    'server_migrations.delete', 'migrations.index',
)


def operations(document):
    """(path, method, operation); each action of an action URL apart."""
    for path, item in document['paths'].items():
        for method, op in item.items():
            for sub in op.get('x-openstack-actions', [op]):
                yield path, method, sub


class OpenAPITestCase(testtools.TestCase):

    def setUp(self):
        super(OpenAPITestCase, self).setUp()
        self.document = openapi.build_document()

    def test_committed_copy_is_current(self):
        path = os.path.join(ROOT, openapi.COMMITTED_COPY)
        with open(path) as f:
            committed = f.read()
        if committed != openapi.render(self.document):
            self.fail('%s differs from the API the code serves; regenerate '
                      'it with:\n    %s' % (openapi.COMMITTED_COPY,
                                            openapi.REGENERATE))

    def test_valid_openapi_3_1(self):
        from openapi_spec_validator import validate
        validate(json.loads(openapi.render(self.document)))

    def test_body_schemas_are_the_validated_ones(self):
        by_name = self.document['components']['schemas']
        self.assertEqual(migrate_server.migrate_live_v2_25,
                         by_name['servers.migrate_live.v2.25'])
        self.assertEqual(migrate_server.migrate_live_v2_68,
                         by_name['servers.migrate_live.v2.68'])
        self.assertEqual(servers_schema.create_v274,
                         by_name['servers.create.v2.74'])
        (op,) = [sub for sub in self.document['paths'][
            '/v2.1/servers/{server_id}/action']['post']['x-openstack-actions']
            if sub['operationId'] == 'servers.migrate_live']
        ranges = [(r['min_version'], r['max_version'])
                  for r in op['requestBody']['x-openstack-schemas-by-version']]
        self.assertEqual([('2.1', '2.24'), ('2.25', '2.29'),
                          ('2.30', '2.67'), ('2.68', '2.96')], ranges)

    def test_host_rule_is_documented(self):
        schema = self.document['components']['schemas'][
            'servers.migrate_live.v2.68']
        host = schema['properties']['os-migrateLive']['properties']['host']
        self.assertEqual('hostname', host['format'])
        self.assertEqual(253, host['maxLength'])
        self.assertIn('pattern', host)

    def test_every_route_is_described(self):
        from nova.api.openstack.compute import routes
        import nova.conf
        router = routes.build_router(None, nova.conf.CONF)
        described = {(p, m.upper()) for p, m, _op in
                     operations(self.document)}
        for template, method, _action, _handlers in router.routes:
            path = '/v2.1' + template if template != '/' else '/v2.1/'
            self.assertIn((path, method), described)

    def test_migration_actions_are_admin_only_and_checked_first(self):
        by_id = {op['operationId']: op for _p, _m, op in
                 operations(self.document)}
        defaults = {r.name: r.check_str for r in policy.list_rules()}
        for op_id in MIGRATION_OPERATIONS:
            rule = by_id[op_id].get('x-openstack-policy-checked-first')
            self.assertIsNotNone(rule, op_id)
            self.assertEqual(policy.ADMIN, defaults[rule], op_id)
            self.assertIn('403', by_id[op_id]['responses'])

    def test_microversion_ranges(self):
        by_id = {op['operationId']: op for _p, _m, op in
                 operations(self.document)}
        self.assertEqual(
            [{'min_version': '2.22', 'max_version': '2.96'}],
            by_id['server_migrations.force_complete']['x-openstack-versions'])
        self.assertEqual(
            [{'min_version': '2.1', 'max_version': '2.35'}],
            by_id['images.index']['x-openstack-versions'])
        self.assertEqual(
            '2.75', by_id['servers.index'][
                'x-openstack-unknown-query-rejected-from'])

    def test_check_command(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'openapi.json')
        with open(path, 'w') as f:
            f.write('{}\n')
        self.assertEqual(1, openapi.main(['--check', path]))
        self.assertEqual(0, openapi.main(['--output', path]))
        self.assertEqual(0, openapi.main(['--check', path]))

    def test_resolve(self):
        doc = {'components': {'schemas': {'A': {'type': 'integer'}}}}
        self.assertEqual({'items': {'type': 'integer'}},
                         openapi.resolve(doc, {'items': {
                             '$ref': '#/components/schemas/A'}}))
