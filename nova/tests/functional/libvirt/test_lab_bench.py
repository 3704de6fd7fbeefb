"""One cell of the lab benchmark, end to end, on the real lab.

``nova-migration-bench lab`` runs a dozen or two of these for the tables in
doc/source/admin/migration-benchmark.rst; this test runs the shortest one
(post-copy on a 256 MiB guest dirtying 1.5 times the cap, about 20 s)
through the same backend, runner and table code, and checks that the row
has the real outcome and the model's prediction beside it.
"""

import csv
import io

import testtools

from nova.bench import lab as lab_backend
from nova.bench import lab_matrix
from nova.bench import labreport
from nova.bench import metrics
from nova.bench import runner
from nova.tests.functional.libvirt import lab

WORKLOAD = '256MiB-x1.5-32MiBps'


class LabBenchTestCase(testtools.TestCase):

    def setUp(self):
        super(LabBenchTestCase, self).setUp()
        self.env = lab.env_for_test(self)

    def test_one_cell_beside_the_model(self):
        pairs = lab_matrix.find_cell_pairs(
            lab_matrix.pairs(strategies=['post-copy']), [WORKLOAD])
        self.assertEqual(1, len(pairs))
        backend = lab_backend.LabBackend(env=self.env)
        [run] = runner.run_pairs(backend, pairs,
                                 timeline_workloads=[WORKLOAD])

        # The real run: the guest dirtied, the monitor switched to
        # post-copy, the guest landed on lab-b and kept counting.
        self.assertEqual(metrics.OUTCOME_COMPLETED, run.lab.outcome,
                         run.lab)
        self.assertEqual('post-copy', run.lab.mode)
        self.assertEqual('postcopy', run.lab.first_action)
        self.assertTrue(run.guest_ok)
        self.assertGreater(run.guest_rate_mib_s, 20)
        self.assertGreater(run.lab.polls, 2)
        self.assertTrue(run.lab.timeline['t'])

        # The model's prediction of the same run, beside it.
        self.assertEqual(metrics.OUTCOME_COMPLETED, run.model.outcome)
        self.assertEqual('postcopy', run.model.first_action)
        self.assertGreater(run.model_figures['time_s'], 0)
        ratios = run.ratios
        self.assertIsNotNone(ratios['time_s'])
        self.assertIsNotNone(ratios['first_action'])

        # The table row and the CSV carry both sides.
        row = labreport.table_row(run)
        self.assertEqual('completed / completed', row[4])
        [fields] = list(csv.DictReader(io.StringIO(
            labreport.lab_csv([run]))))
        self.assertEqual(WORKLOAD, fields['workload'])
        self.assertEqual('completed', fields['lab_outcome'])
        self.assertEqual('completed', fields['model_outcome'])
        self.assertTrue(fields['lab_time_s'])
        self.assertTrue(fields['model_time_s'])
