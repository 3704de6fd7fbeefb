"""GET /os-migration-progress/{id} (a project extension) and
/servers/{id}/os-instance-actions with one event per decision."""

import datetime

from nova.api.openstack import app as app_mod
from nova.compute import api as compute_api
from nova.compute import migration_timeline as mtl
from nova.db import api as db_api
from nova.objects import migration as migration_obj
from nova.tests.unit.api import base
from nova.tests.unit.compute import cloud

MiB = mtl.MiB
T0 = datetime.datetime(2026, 11, 25, 12, 0, 5)


def point_row(elapsed, remaining, phase='pre-copy'):
    return dict(mtl.TimelinePoint(
        elapsed=elapsed, iteration=3, memory_remaining=remaining * MiB,
        memory_total=256 * MiB, data_remaining=remaining * MiB,
        dirty_bps=48.0 * MiB, transfer_bps=32.0 * MiB, throttle=0,
        downtime_ms=50, phase=phase).as_dict(), kind='point',
        action=None, reason=None,
        created_at=T0 + datetime.timedelta(seconds=elapsed))


def event_row(elapsed, action, reason):
    return {'kind': 'event', 'elapsed': elapsed, 'action': action,
            'reason': reason,
            'created_at': T0 + datetime.timedelta(seconds=elapsed)}


class MigrationProgressTestCase(base.APITestCase):

    def setUp(self):
        super(MigrationProgressTestCase, self).setUp()
        self.inst = self.compute.add_instance(task_state='migrating')
        self.mig = self.compute.add_migration(self.inst, status='running')
        self.compute.timelines[self.mig.id] = [
            point_row(5.0, 200), event_row(5.5, 'downtime', 'step 2: 75 ms'),
            point_row(6.0, 230)]
        self.path = '/v2.1/os-migration-progress/%s' % self.mig.id

    def test_show_not_converging(self):
        resp = self.request('GET', self.path)
        self.assertEqual(200, resp.status_int, resp.body)
        body = resp.json_body_or_none['migration_progress']
        self.assertEqual(self.mig.id, body['id'])
        self.assertEqual(self.inst.uuid, body['server_uuid'])
        self.assertEqual(('pre-copy', 3, 'not converging', None),
                         (body['phase'], body['memory_iteration'],
                          body['verdict'], body['eta_seconds']))
        self.assertEqual(230 * MiB, body['memory_remaining_bytes'])
        self.assertEqual(48 * MiB, body['dirty_rate_bytes_per_second'])
        self.assertIn('dirties 48.0 MiB/s', body['reason'])
        self.assertEqual('auto-converge', body['would_finish'][0]['option'])
        self.assertEqual([{'elapsed': 5.5, 'action': 'downtime',
                           'reason': 'step 2: 75 ms',
                           'time': '2026-11-25T12:00:10.500000'}],
                         body['events'])
        self.assertEqual(6.0, body['elapsed_seconds'])
        self.assertNotIn('timeline', body)

    def test_timeline_on_request(self):
        resp = self.request('GET', self.path + '?timeline=true')
        body = resp.json_body_or_none['migration_progress']
        self.assertEqual([5.0, 6.0], [p['elapsed'] for p in body['timeline']])

    def test_post_copy_eta_and_finished(self):
        self.compute.timelines[self.mig.id].append(
            point_row(7.0, 64, phase='post-copy'))
        body = self.request('GET', self.path).json_body_or_none[
            'migration_progress']
        # 64 MiB at 32 MiB/s, then the job's finish.
        self.assertEqual(('in post-copy', 2.0 + mtl.FINISH_S),
                         (body['verdict'], body['eta_seconds']))
        self.mig.status = 'completed'
        body = self.request('GET', self.path).json_body_or_none[
            'migration_progress']
        self.assertEqual((None, None, []), (body['verdict'],
                                            body['eta_seconds'],
                                            body['would_finish']))

    def test_admin_only_and_404(self):
        resp = self.request('GET', self.path, token=base.DEMO)
        self.assertFault(resp, 403, 'forbidden',
                         'os_compute_api:os-migration-progress:show')
        for bad in ('999', 'abc'):
            resp = self.request('GET', '/v2.1/os-migration-progress/' + bad)
            self.assertFault(resp, 404, 'itemNotFound')


class InstanceActionsTestCase(base.APITestCase):

    def setUp(self):
        super(InstanceActionsTestCase, self).setUp()
        self.inst = self.compute.add_instance()
        self.done = self.compute.add_migration(self.inst, status='completed',
                                               user_id='admin',
                                               project_id='proj')
        self.failed = self.compute.add_migration(self.inst, status='error',
                                                 user_id='admin',
                                                 project_id='proj')
        self.compute.timelines[self.failed.id] = [
            point_row(1.0, 100),
            event_row(6.5, 'postcopy', 'no progress over 3 passes'),
            event_row(9.0, 'postcopy-recovery-failed', 'gave up after 3'),
        ]
        self.path = '/v2.1/servers/%s/os-instance-actions' % self.inst.uuid

    def test_list_newest_first(self):
        resp = self.request('GET', self.path)
        self.assertEqual(200, resp.status_int, resp.body)
        actions = resp.json_body_or_none['instanceActions']
        self.assertEqual(['req-' + self.failed.uuid, 'req-' + self.done.uuid],
                         [a['request_id'] for a in actions])
        self.assertEqual(['live-migration'] * 2,
                         [a['action'] for a in actions])
        self.assertEqual(['Error', None], [a['message'] for a in actions])
        self.assertNotIn('updated_at', actions[0])
        resp = self.request('GET', self.path, version='2.58')
        self.assertIn('updated_at',
                      resp.json_body_or_none['instanceActions'][0])

    def test_paging_from_2_58(self):
        resp = self.request('GET', self.path + '?limit=1&marker=req-%s'
                            % self.failed.uuid, version='2.58')
        self.assertEqual(['req-' + self.done.uuid],
                         [a['request_id'] for a in
                          resp.json_body_or_none['instanceActions']])
        resp = self.request('GET', self.path + '?marker=req-nope',
                            version='2.58')
        self.assertFault(resp, 400, 'badRequest', 'req-nope')

    def test_show_one_event_per_decision_with_its_reason(self):
        resp = self.request('GET', '%s/req-%s' % (self.path,
                                                  self.failed.uuid))
        self.assertEqual(200, resp.status_int, resp.body)
        action = resp.json_body_or_none['instanceAction']
        events = action['events']
        self.assertEqual(['compute_live_migration', 'live_migration_postcopy',
                          'live_migration_postcopy_recovery_failed'],
                         [e['event'] for e in events])
        self.assertEqual(['Error', 'Success', 'Error'],
                         [e['result'] for e in events])
        self.assertEqual('postcopy after 6.5 s: no progress over 3 passes',
                         events[1]['traceback'])
        self.assertEqual('2026-11-25T12:00:11.500000', events[1]['start_time'])
        for event in events:
            self.assertEqual({'event', 'start_time', 'finish_time', 'result',
                              'traceback'}, set(event))

    def test_owner_sees_events_from_2_51_without_reasons(self):
        path = '%s/req-%s' % (self.path, self.failed.uuid)
        resp = self.request('GET', path, token=base.DEMO)
        self.assertEqual(200, resp.status_int, resp.body)
        self.assertNotIn('events', resp.json_body_or_none['instanceAction'])
        resp = self.request('GET', path, token=base.DEMO, version='2.62')
        events = resp.json_body_or_none['instanceAction']['events']
        self.assertEqual(3, len(events))
        for event in events:
            self.assertNotIn('traceback', event)
            self.assertNotIn('host', event)
            self.assertIn('hostId', event)

    def test_not_found(self):
        resp = self.request('GET', self.path + '/req-nope')
        self.assertFault(resp, 404, 'itemNotFound', 'req-nope')
        resp = self.request('GET', '/v2.1/servers/nope/os-instance-actions')
        self.assertFault(resp, 404, 'itemNotFound')


class RealComputeAPITestCase(base.APITestCase):
    """The same resources over the compute API and a database."""

    def setUp(self):
        super(RealComputeAPITestCase, self).setUp()
        self.db = self.useFixture(cloud.DatabaseFixture()).db
        self.app = app_mod.build_app(base.CONF, compute_api.API(
            db=self.db, conf=base.CONF))
        inst = db_api.instance_create(self.db, {
            'name': 'vm', 'host': 'lab-a', 'vm_state': 'active',
            'project_id': 'proj', 'user_id': 'u'})
        row = db_api.migration_create(self.db, {
            'instance_uuid': inst['uuid'], 'status': 'running',
            'migration_type': 'live-migration', 'source_compute': 'lab-a',
            'dest_compute': 'lab-b', 'project_id': 'proj'})
        self.mig = migration_obj.Migration.get_by_id(self.db, row['id'])
        self.points = [mtl.TimelinePoint(
            elapsed=1.0, iteration=1, memory_remaining=64 * MiB,
            memory_total=128 * MiB, transfer_bps=32.0 * MiB)]
        self.mig.add_timeline_points(self.points)
        self.mig.add_timeline_event(mtl.TimelineEvent(1.5, 'pause',
                                                      'operator asked'))
        self.uuid = inst['uuid']

    def test_progress_and_actions(self):
        body = self.request('GET', '/v2.1/os-migration-progress/%s'
                            % self.mig.id).json_body_or_none
        progress = body['migration_progress']
        self.assertEqual(
            ('converging', round(mtl.assess(self.points).eta_s, 1)),
            (progress['verdict'], progress['eta_seconds']))
        self.assertEqual('operator asked', progress['events'][0]['reason'])
        body = self.request('GET', '/v2.1/servers/%s/os-instance-actions/'
                            'req-%s' % (self.uuid, self.mig.uuid))
        events = body.json_body_or_none['instanceAction']['events']
        self.assertEqual(['compute_live_migration', 'live_migration_pause'],
                         [e['event'] for e in events])
        self.assertIsNone(events[0]['result'])


class ServerFaultTestCase(base.APITestCase):

    def test_fault_of_a_server_in_error(self):
        inst = self.compute.add_instance(
            vm_state='error', fault_message='Live migration 3 to lab-b ended '
                                            'in error: postcopy-recovery-'
                                            'failed after 30.0 s: refused')
        body = self.request('GET', '/v2.1/servers/%s' % inst.uuid)
        fault = body.json_body_or_none['server']['fault']
        self.assertEqual(500, fault['code'])
        self.assertIn('postcopy-recovery-failed', fault['message'])
        self.assertEqual('2026-11-25T12:00:00Z', fault['created'])

    def test_no_fault_while_active(self):
        inst = self.compute.add_instance(fault_message='an old one')
        body = self.request('GET', '/v2.1/servers/%s' % inst.uuid)
        self.assertNotIn('fault', body.json_body_or_none['server'])
