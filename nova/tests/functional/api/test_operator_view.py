"""What an operator reads after a live migration, with the real clients:
``nova instance-action-list`` / ``instance-action`` (one event per
decision, with its reason) and ``nova-manage live-migration show`` on the
same database, against nova-all on the simulated hypervisors.
"""

import glob
import os
import subprocess
import sys

from nova.tests.functional.api import test_nova_cli as base


class OperatorViewTestCase(base.CloudTestCase):
    """Post-copy not permitted: force-complete pauses the guest."""

    config = {'libvirt': {'live_migration_permit_post_copy': 'false',
                          'live_migration_permit_auto_converge': 'false'}}

    def manage(self, *args):
        (database,) = glob.glob(os.path.join(self.cloud.state_dir,
                                             '*.sqlite'))
        return subprocess.run(
            [sys.executable, '-m', 'nova.cmd.manage',
             '--database-connection', 'sqlite:///%s' % database] +
            list(args), capture_output=True, text=True, timeout=60)

    def test_actions_events_and_manage_show(self):
        server_id = self.boot(busy=True)
        self.ok(self.admin.nova('live-migration', server_id))
        mid = self.migration_id(server_id)
        self.ok(self.admin.nova('live-migration-force-complete', server_id,
                                str(mid)))
        self.cloud.wait_for_server(server_id, 'ACTIVE', host='lab-b')
        migration = self.cloud.wait_for_migration(server_id, 'completed')

        actions = self.ok(self.admin.nova('instance-action-list',
                                          server_id)).table()
        self.assertEqual(['live-migration'], [a['Action'] for a in actions])
        request_id = actions[0]['Request_ID']
        self.assertEqual('req-%s' % migration['uuid'], request_id)

        shown = self.ok(self.admin.nova('instance-action', server_id,
                                        request_id)).output
        self.assertIn('compute_live_migration', shown)
        self.assertIn('live_migration_pause', shown)
        # The operator's reason for the pause, as the monitor recorded it.
        self.assertIn('pause after', shown)

        out = self.manage('live-migration', 'show', str(mid))
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertIn('Status            completed', out.stdout)
        self.assertIn('pause', out.stdout.split('Decisions')[1])
        self.assertNotIn('(0 samples saved)', out.stdout)

        out = self.manage('live-migration', 'watch', str(mid))
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertEqual(1, len(out.stdout.splitlines()), out.stdout)
        self.assertIn('completed  after', out.stdout)
