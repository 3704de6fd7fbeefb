"""A real migration followed with ``nova-manage live-migration watch`` on
a terminal, then drawn with ``plot``: what the monitor saved through the
Migration record is what an operator sees.

A busy guest (60 MiB/s over a 32 MiB/s cap) cannot finish in pre-copy;
post-copy is permitted, so the monitor switches and says why. The
migration record lives in a database (SQLite); ``watch`` runs as the real
command in a child process whose output is a pseudo-terminal.
"""

import os
import subprocess
import sys

import fixtures

from nova.cmd import live_migration
from nova.compute import migration_timeline as mtl
from nova.db import api as db_api
from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova.tests.functional.libvirt import test_live_migration as base
from nova.tests.unit.cmd import test_live_migration as cmd_tests
from nova.tests.unit.compute import cloud
from nova import utils


class MigrationProgressLabTestCase(base.LabTestCase):

    def setUp(self):
        super(MigrationProgressLabTestCase, self).setUp()
        fixture = self.useFixture(cloud.DatabaseFixture())
        self.db, self.url = fixture.db, fixture.url
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.flags(live_migration_permit_post_copy=True)

    def test_watch_then_plot(self):
        instance = self.boot(metadata=base.BUSY)
        row = db_api.migration_create(self.db, {
            'instance_uuid': instance.uuid, 'status': 'running',
            'migration_type': 'live-migration', 'source_compute': 'lab-a',
            'dest_compute': 'lab-b'})
        mig = migration_obj.Migration.get_by_id(self.db, row['id'])
        data = migrate_data_obj.LibvirtLiveMigrateData(
            migration=mig, target_connect_addr=self.b['addr'])
        master, slave = cmd_tests.terminal(columns=160)
        self.addCleanup(os.close, master)
        watch = subprocess.Popen(
            [sys.executable, '-m', 'nova.cmd.manage',
             '--database-connection', self.url, 'live-migration', 'watch',
             str(mig.id), '--interval', '0.5', '--timeout', '240'],
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
            close_fds=True)
        os.close(slave)
        self.addCleanup(watch.kill)

        def post(context, inst, dest, block, migrate_data):
            self.driver_b.post_live_migration_at_destination(
                context, inst, migrate_data)
            # What the compute manager records once the guest moved.
            migrate_data.migration.status = 'completed'
            migrate_data.migration.save()

        def recover(context, inst, dest, migrate_data, migration_status):
            migrate_data.migration.status = migration_status
            migrate_data.migration.save()

        seen = []

        def during(_instance):
            seen.append(cmd_tests.read_all(master, timeout=60.0,
                                           until='ETA'))

        handle = utils.spawn(self.driver_a.live_migration, None, instance,
                             'lab-b', post, recover, migrate_data=data)
        during(instance)
        result = handle.wait(timeout=300)
        self.assertTrue(result.completed)
        self.assertEqual(0, watch.wait(timeout=60))
        text = ''.join(seen) + cmd_tests.read_all(master, timeout=5.0)

        # watch redrew one line in place, with an ETA while it ran, and
        # ended on the completed migration.
        self.assertIn('\r', text)
        self.assertIn('\x1b[K', text)
        self.assertIn('ETA', text)
        self.assertIn('completed  after', text)

        # The saved timeline: samples in every phase it went through, and
        # the monitor's switch to post-copy with its reason.
        timeline = migration_obj.Migration.get_by_id(
            self.db, mig.id).timeline()
        self.assertGreater(len(timeline.points), 5)
        phases = {p.phase for p in timeline.points}
        self.assertIn(mtl.PRE_COPY, phases)
        switches = [e for e in timeline.events if e.action == 'postcopy']
        self.assertEqual(1, len(switches), timeline.events)
        self.assertTrue(switches[0].reason)
        self.assertIn('last: ', text)

        try:
            import matplotlib   # noqa: F401
        except ImportError:
            self.skipTest("matplotlib is not installed here (the optional "
                          "extra: pip install '.[plot]'); watch was checked")
        path = os.path.join(self.tmp, 'migration.png')
        out = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.manage',
             '--database-connection', self.url, 'live-migration', 'plot',
             str(mig.id), '-o', path], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertIn('Wrote %s' % path, out.stdout)
        with open(path, 'rb') as f:
            self.assertEqual(b'\x89PNG', f.read(4))
        self.assertEqual(mig.id, live_migration.summary(
            mig, timeline)['id'])
