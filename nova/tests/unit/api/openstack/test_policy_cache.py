"""Policy decisions are taken once per request (context) and target."""

from unittest import mock

import testtools

from nova.api.openstack import policy
from nova import context as nova_context
from nova import exception
from nova.tests.unit.api import base


def _context(user='demo', project='proj', admin=False):
    return nova_context.RequestContext(
        user_id=user, project_id=project, is_admin=admin,
        roles=['admin'] if admin else ['member'])


class DecisionCacheTestCase(testtools.TestCase):

    def setUp(self):
        super(DecisionCacheTestCase, self).setUp()
        policy.reset()
        self.addCleanup(policy.reset)
        enforcer = policy.get_enforcer()
        self.enforce = mock.patch.object(
            enforcer, 'enforce', wraps=enforcer.enforce).start()
        self.addCleanup(mock.patch.stopall)

    def test_same_question_asked_once(self):
        ctx = _context()
        for _i in range(5):
            self.assertTrue(policy.authorize(ctx, policy.SERVERS % 'detail'))
        self.assertEqual(1, self.enforce.call_count)

    def test_refusal_is_cached_and_still_raises(self):
        ctx = _context()
        for _i in range(3):
            self.assertRaises(exception.PolicyNotAuthorized,
                              policy.authorize, ctx, policy.MIGRATIONS_INDEX)
            self.assertFalse(policy.authorize(ctx, policy.MIGRATIONS_INDEX,
                                              fatal=False))
        self.assertEqual(1, self.enforce.call_count)

    def test_target_and_rule_are_part_of_the_key(self):
        ctx = _context()
        rule = policy.SERVERS % 'show'
        self.assertTrue(policy.authorize(ctx, rule, {'project_id': 'proj'}))
        self.assertFalse(policy.authorize(ctx, rule, {'project_id': 'other'},
                                          fatal=False))
        self.assertTrue(policy.authorize(ctx, policy.SERVERS % 'index'))
        self.assertEqual(3, self.enforce.call_count)

    def test_each_request_decides_afresh(self):
        policy.authorize(_context(), policy.SERVERS % 'detail')
        policy.authorize(_context(), policy.SERVERS % 'detail')
        self.assertEqual(2, self.enforce.call_count)

    def test_unhashable_target_not_cached(self):
        ctx = _context()
        target = {'project_id': 'proj', 'tags': ['a']}
        policy.authorize(ctx, policy.SERVERS % 'detail', target)
        policy.authorize(ctx, policy.SERVERS % 'detail', target)
        self.assertEqual(2, self.enforce.call_count)


class ServerListTestCase(base.APITestCase):

    def test_detail_asks_each_question_once(self):
        for index in range(5):
            resp = self.request('POST', '/v2.1/servers', {'server': {
                'name': 'vm%d' % index, 'imageRef': 'img-1',
                'flavorRef': '1', 'networks': 'none'}}, version='2.79')
            self.assertEqual(202, resp.status_int, resp.body)
        enforcer = policy.get_enforcer()
        with mock.patch.object(enforcer, 'enforce',
                               wraps=enforcer.enforce) as enforce:
            resp = self.request('GET', '/v2.1/servers/detail',
                                version='2.79')
        self.assertEqual(200, resp.status_int)
        self.assertEqual(5, len(resp.json_body_or_none['servers']))
        keys = [(c.args[0], tuple(sorted(c.args[1].items())))
                for c in enforce.call_args_list]
        self.assertEqual(len(set(keys)), len(keys), keys)
