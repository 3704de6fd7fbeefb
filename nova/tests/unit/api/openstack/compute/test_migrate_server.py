"""os-migrateLive: schemas per microversion, errors, policy."""

from nova.tests.unit.api import base


class MigrateLiveTestCase(base.APITestCase):

    def setUp(self):
        super(MigrateLiveTestCase, self).setUp()
        self.inst = self.compute.add_instance()
        self.path = '/v2.1/servers/%s/action' % self.inst.uuid

    def migrate(self, args, version='2.79', token=base.ADMIN):
        return self.request('POST', self.path, {'os-migrateLive': args},
                            token=token, version=version)

    def last_call(self):
        return self.compute.calls[-1]

    def test_auto_host_null(self):
        resp = self.migrate({'host': None, 'block_migration': 'auto'})
        self.assertEqual(202, resp.status_int)
        self.assertEqual(b'', resp.body)
        self.assertEqual(('live_migrate', self.inst.uuid, None, 'auto'),
                         self.last_call())

    def test_named_host_boolean_string(self):
        resp = self.migrate({'host': 'lab-b', 'block_migration': 'false'})
        self.assertEqual(202, resp.status_int)
        self.assertEqual(('live_migrate', self.inst.uuid, 'lab-b', False),
                         self.last_call())

    def test_block_migration_true(self):
        resp = self.migrate({'host': None, 'block_migration': True})
        self.assertEqual(202, resp.status_int)
        self.assertIs(True, self.last_call()[3])

    def test_block_migration_required(self):
        resp = self.migrate({'host': None})
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn('os-migrateLive', msg)
        self.assertIn("'block_migration' is a required property", msg)

    def test_host_required(self):
        resp = self.migrate({'block_migration': 'auto'})
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn("'host' is a required property", msg)

    def test_bad_block_migration_value(self):
        resp = self.migrate({'host': None, 'block_migration': 'maybe'})
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn('Invalid input for field/attribute block_migration.',
                      msg)
        self.assertIn('Value: maybe.', msg)

    def test_bad_host_value(self):
        resp = self.migrate({'host': 'no/slash', 'block_migration': 'auto'})
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn('field/attribute host', msg)

    def test_auto_before_2_25(self):
        resp = self.migrate({'host': None, 'block_migration': 'auto',
                             'disk_over_commit': False}, version='2.24')
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn('block_migration', msg)

    def test_disk_over_commit_required_before_2_25(self):
        resp = self.migrate({'host': None, 'block_migration': False},
                            version='2.24')
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn("'disk_over_commit' is a required property", msg)
        resp = self.migrate({'host': None, 'block_migration': False,
                             'disk_over_commit': False}, version='2.1')
        self.assertEqual(202, resp.status_int)

    def test_disk_over_commit_rejected_from_2_25(self):
        resp = self.migrate({'host': None, 'block_migration': 'auto',
                             'disk_over_commit': False}, version='2.25')
        msg = self.assertFault(resp, 400, 'badRequest')
        self.assertIn("Additional properties are not allowed "
                      "('disk_over_commit' was unexpected)", msg)

    def test_force_between_2_30_and_2_67(self):
        resp = self.migrate({'host': 'lab-b', 'block_migration': 'auto',
                             'force': True}, version='2.29')
        self.assertFault(resp, 400, 'badRequest', "'force' was unexpected")
        resp = self.migrate({'host': 'lab-b', 'block_migration': 'auto',
                             'force': True}, version='2.30')
        self.assertEqual(202, resp.status_int)

    def test_force_removed_in_2_68(self):
        resp = self.migrate({'host': 'lab-b', 'block_migration': 'auto',
                             'force': False}, version='2.68')
        self.assertFault(resp, 400, 'badRequest', "'force' was unexpected")

    def test_unknown_server_404(self):
        resp = self.request('POST', '/v2.1/servers/nope/action',
                            {'os-migrateLive': {'host': None,
                                                'block_migration': 'auto'}},
                            version='2.79')
        self.assertFault(resp, 404, 'itemNotFound', 'nope')

    def test_unknown_host_400(self):
        resp = self.migrate({'host': 'lab-z', 'block_migration': 'auto'})
        self.assertFault(resp, 400, 'badRequest',
                         'Compute host lab-z could not be found.')

    def test_migrating_server_409(self):
        self.inst.task_state = 'migrating'
        resp = self.migrate({'host': None, 'block_migration': 'auto'})
        self.assertFault(
            resp, 409, 'conflictingRequest',
            "Cannot 'os-migrateLive' instance %s while it is in task_state "
            "migrating" % self.inst.uuid)

    def test_non_admin_403(self):
        resp = self.migrate({'host': None, 'block_migration': 'auto'},
                            token=base.DEMO)
        self.assertFault(
            resp, 403, 'forbidden',
            "Policy doesn't allow os_compute_api:os-migrate-server:"
            "migrate_live to be performed.")
        self.assertEqual([], self.compute.calls)

    def test_malformed_json(self):
        resp = self.request('POST', self.path, raw=b'{"os-migrateLive": ',
                            version='2.79')
        self.assertFault(resp, 400, 'badRequest', 'Malformed request body')

    def test_unknown_action(self):
        resp = self.request('POST', self.path, {'os-fly': None})
        self.assertFault(resp, 400, 'badRequest',
                         'There is no such action: os-fly')

    def test_no_token_401(self):
        resp = self.migrate({'host': None, 'block_migration': 'auto'},
                            token=None)
        self.assertFault(resp, 401, 'unauthorized')
