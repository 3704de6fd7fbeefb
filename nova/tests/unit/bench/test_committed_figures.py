"""The benchmark figures in the admin guide are those of the code.

A quick subset of the matrix is run again and compared, cell by cell, with
``doc/source/admin/bench/runs.csv`` and ``oracle.csv`` (written by
``tox -e bench -- --doc-dir doc/source/admin/bench``). A change that moves
a number fails here until the guide's figures are regenerated in the same
commit.
"""

import csv
import os

import fixtures
import testtools

from nova.bench import matrix
from nova.bench import metrics
from nova.bench import oracle
from nova.bench import report
from nova.bench import simulated

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'doc',
                   'source', 'admin', 'bench')
# Cheap cells (floors under 4 s) that cover converging, hot and bursty
# guests, and strategies that act differently on them.
WORKLOADS = ('1GiB-x0.1-10Gbit', '1GiB-x1.5-10Gbit', '4GiB-x0.9-25Gbit',
             '4GiB-x3-25Gbit', '1GiB-x3-1Gbit')
STRATEGIES = ('defaults', 'post-copy', 'auto-converge', 'nova-today+operator',
              'kubevirt-uncapped', 'ovirt-post-copy')


def _committed(name):
    with open(os.path.join(DOC, name)) as f:
        return list(csv.reader(f))


class CommittedFiguresTestCase(testtools.TestCase):

    def setUp(self):
        super(CommittedFiguresTestCase, self).setUp()
        self.useFixture(fixtures.FakeLogger(level='ERROR'))
        specs = {s.name: s for s in matrix.default_matrix()}
        self.specs = [specs[name] for name in WORKLOADS]

    def test_runs_match_the_guide(self):
        rows = _committed('runs.csv')
        header, committed = rows[0], {(r[0], r[1]): r for r in rows[1:]}
        self.assertEqual(list(metrics.RUN_COLUMNS), header)
        strategies = matrix.strategies_named(list(STRATEGIES))
        oracles = {s.name: oracle.oracle(s) for s in self.specs}
        backend = simulated.SimulatedBackend()
        for strategy in strategies:
            for spec in self.specs:
                result = backend.run(strategy, spec)
                metrics.attach_oracle([result], oracles)
                fresh = next(csv.reader([report.runs_csv([result])
                                         .splitlines()[1]]))
                self.assertEqual(committed[(strategy.name, spec.name)],
                                 fresh, '%s on %s: regenerate the guide\'s '
                                 'figures (tox -e bench -- --doc-dir '
                                 'doc/source/admin/bench)'
                                 % (strategy.name, spec.name))

    def test_oracle_matches_the_guide(self):
        rows = {r[0]: r for r in _committed('oracle.csv')[1:]}
        fresh = report.oracle_csv({s.name: oracle.oracle(s)
                                   for s in self.specs}, self.specs)
        for line in list(csv.reader(fresh.splitlines()))[1:]:
            self.assertEqual(rows[line[0]], line)
