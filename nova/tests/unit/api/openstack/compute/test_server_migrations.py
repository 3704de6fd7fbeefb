"""/servers/{id}/migrations: list/show (2.23), force_complete (2.22),
abort (2.24, queued/preparing from 2.65), policy."""

from nova.tests.unit.api import base


class ServerMigrationsTestCase(base.APITestCase):

    def setUp(self):
        super(ServerMigrationsTestCase, self).setUp()
        self.inst = self.compute.add_instance(task_state='migrating')
        self.mig = self.compute.add_migration(self.inst, status='running')
        self.base = '/v2.1/servers/%s/migrations' % self.inst.uuid

    def force(self, version='2.22', token=base.ADMIN, mid=None, body=None):
        return self.request(
            'POST', '%s/%s/action' % (self.base, mid or self.mig.id),
            {'force_complete': None} if body is None else body,
            token=token, version=version)

    def abort(self, version='2.24', token=base.ADMIN, mid=None):
        return self.request('DELETE', '%s/%s' % (self.base,
                                                 mid or self.mig.id),
                            token=token, version=version)

    # -- list / show -------------------------------------------------------

    def test_list(self):
        self.compute.add_migration(self.inst, status='completed')
        resp = self.request('GET', self.base, version='2.23')
        self.assertEqual(200, resp.status_int)
        (mig,) = resp.json_body_or_none['migrations']
        self.assertEqual(self.mig.id, mig['id'])
        self.assertEqual(self.inst.uuid, mig['server_uuid'])
        self.assertEqual(1000, mig['memory_total_bytes'])
        self.assertEqual(400, mig['memory_processed_bytes'])
        self.assertEqual(600, mig['memory_remaining_bytes'])
        self.assertEqual(0, mig['disk_total_bytes'])
        self.assertEqual('running', mig['status'])
        self.assertEqual('2026-11-25T12:00:00.000000', mig['created_at'])
        self.assertNotIn('uuid', mig)
        for key in ('source_compute', 'dest_compute', 'source_node',
                    'dest_node', 'dest_host', 'updated_at',
                    'disk_processed_bytes', 'disk_remaining_bytes'):
            self.assertIn(key, mig)

    def test_uuid_from_2_59(self):
        resp = self.request('GET', self.base, version='2.59')
        self.assertEqual(self.mig.uuid,
                         resp.json_body_or_none['migrations'][0]['uuid'])

    def test_show(self):
        resp = self.request('GET', '%s/%s' % (self.base, self.mig.id),
                            version='2.23')
        self.assertEqual(200, resp.status_int)
        self.assertEqual(self.mig.id,
                         resp.json_body_or_none['migration']['id'])

    def test_show_finished_migration_404(self):
        done = self.compute.add_migration(self.inst, status='completed')
        resp = self.request('GET', '%s/%s' % (self.base, done.id),
                            version='2.23')
        self.assertFault(resp, 404, 'itemNotFound',
                         'In-progress live migration %s is not found for '
                         'server %s.' % (done.id, self.inst.uuid))

    def test_show_unknown_404(self):
        resp = self.request('GET', '%s/99' % self.base, version='2.23')
        self.assertFault(resp, 404, 'itemNotFound')

    def test_list_and_show_need_2_23(self):
        resp = self.request('GET', self.base, version='2.22')
        self.assertFault(resp, 404, 'itemNotFound',
                         'API version 2.22 is not supported on this '
                         'method.')
        resp = self.request('GET', '%s/%s' % (self.base, self.mig.id),
                            version='2.22')
        self.assertFault(resp, 404, 'itemNotFound')

    def test_list_unknown_server(self):
        resp = self.request('GET', '/v2.1/servers/nope/migrations',
                            version='2.23')
        self.assertFault(resp, 404, 'itemNotFound')

    # -- force complete ----------------------------------------------------

    def test_force_complete(self):
        resp = self.force()
        self.assertEqual(202, resp.status_int)
        self.assertEqual(('force_complete', self.inst.uuid, str(self.mig.id)),
                         self.compute.calls[-1])

    def test_force_complete_needs_2_22(self):
        resp = self.force(version='2.21')
        self.assertFault(resp, 404, 'itemNotFound',
                         'API version 2.21 is not supported on this '
                         'method.')
        self.assertEqual([], self.compute.calls)

    def test_force_complete_body_must_be_null(self):
        resp = self.force(body={'force_complete': {'now': True}})
        self.assertFault(resp, 400, 'badRequest',
                         'field/attribute force_complete')

    def test_force_complete_finished_migration_400(self):
        self.mig.status = 'completed'
        resp = self.force()
        self.assertFault(resp, 400, 'badRequest',
                         'Migration %s state of instance %s is completed. '
                         'Cannot force complete while the migration is in '
                         'this state.' % (self.mig.id, self.inst.uuid))

    def test_force_complete_unknown_migration_400(self):
        # Nova: an unknown migration of a migrating server is a 400 here.
        resp = self.force(mid=42)
        self.assertFault(resp, 400, 'badRequest',
                         'Migration 42 not found for instance')

    # -- abort --------------------------------------------------------------

    def test_abort_running(self):
        resp = self.abort()
        self.assertEqual(202, resp.status_int)
        self.assertEqual(('abort', self.inst.uuid, str(self.mig.id)),
                         self.compute.calls[-1])

    def test_abort_needs_2_24(self):
        resp = self.abort(version='2.23')
        self.assertFault(resp, 404, 'itemNotFound')

    def test_abort_queued_before_2_65_400(self):
        for status in ('queued', 'preparing'):
            self.mig.status = status
            resp = self.abort(version='2.64')
            self.assertFault(
                resp, 400, 'badRequest',
                'Migration %s state of instance %s is %s. Cannot abort live '
                'migration while the migration is in this state.'
                % (self.mig.id, self.inst.uuid, status))

    def test_abort_finished_or_unknown_not_migrating_409(self):
        # Nova checks the server first: not migrating is a 409 whatever
        # the migration, below 2.65 as from it.
        self.mig.status = 'completed'
        self.inst.task_state = None
        for version in ('2.24', '2.64', '2.65'):
            for mid in (self.mig.id, 4242):
                resp = self.abort(version=version, mid=mid)
                self.assertFault(resp, 409, 'conflictingRequest',
                                 "Cannot 'abort live migration' instance")

    def test_migration_user_and_project_from_2_80(self):
        self.mig.user_id = 'u1'
        self.mig.project_id = 'p1'
        mig = self.request('GET', self.base, version='2.79'
                           ).json_body_or_none['migrations'][0]
        self.assertNotIn('user_id', mig)
        mig = self.request('GET', self.base, version='2.80'
                           ).json_body_or_none['migrations'][0]
        self.assertEqual(('u1', 'p1'), (mig['user_id'], mig['project_id']))

    def test_abort_queued_from_2_65(self):
        for status in ('queued', 'preparing'):
            self.mig.status = status
            resp = self.abort(version='2.65')
            self.assertEqual(202, resp.status_int)

    def test_abort_completed_400(self):
        self.mig.status = 'completed'
        resp = self.abort(version='2.79')
        self.assertFault(resp, 400, 'badRequest', 'is completed')

    # -- policy -------------------------------------------------------------

    def test_non_admin_403_everywhere(self):
        prefix = "Policy doesn't allow os_compute_api:servers:migrations:"
        calls = [
            (lambda: self.request('GET', self.base, token=base.DEMO,
                                  version='2.23'), 'index'),
            (lambda: self.request('GET', '%s/%s' % (self.base, self.mig.id),
                                  token=base.DEMO, version='2.23'), 'show'),
            (lambda: self.force(token=base.DEMO), 'force_complete'),
            (lambda: self.abort(token=base.DEMO), 'delete'),
        ]
        for call, rule in calls:
            self.assertFault(call(), 403, 'forbidden',
                             prefix + rule + ' to be performed.')
        self.assertEqual([], self.compute.calls)
