"""tools/tempest's lists: well formed, and no listed test is excluded."""

import os
import re

import testtools

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
TEMPEST = os.path.join(ROOT, 'tools', 'tempest')


def _entries(name):
    """(regex, comment) of each non-blank, non-comment line."""
    with open(os.path.join(TEMPEST, name)) as handle:
        for line in handle:
            regex, _sep, comment = line.partition('#')
            if regex.strip():
                yield regex.strip(), comment.strip()


class TempestListsTestCase(testtools.TestCase):

    def test_include_list_names_single_tests(self):
        entries = [regex for regex, _c in _entries('include-list.txt')]
        self.assertGreaterEqual(len(entries), 119)
        self.assertEqual(len(entries), len(set(entries)))
        for regex in entries:
            re.compile(regex)
            # One test each: the name is closed by the id's '[' and the
            # dots are literal.
            self.assertTrue(regex.startswith('tempest\\.api\\.compute\\.'),
                            regex)
            self.assertTrue(regex.endswith('\\['), regex)
            self.assertNotIn('.*', regex)

    def test_every_exclusion_has_a_reason(self):
        for regex, reason in _entries('exclude-list.txt'):
            re.compile(regex)
            self.assertGreater(len(reason), 15, regex)

    def test_no_listed_test_is_excluded(self):
        excludes = [re.compile(regex) for regex, _r in
                    _entries('exclude-list.txt')]
        for regex, _c in _entries('include-list.txt'):
            # The test id the entry names, as Tempest prints it.
            test_id = regex.replace('\\.', '.').replace('\\[', '[id-0]')
            for exclude in excludes:
                self.assertIsNone(exclude.search(test_id),
                                  '%s is excluded by %s'
                                  % (test_id, exclude.pattern))
