"""The host-name rule (nova.hostnames): RFC 1123, nothing a URI reads."""

import re

import testtools

from nova import hostnames


class HostnameProblemTestCase(testtools.TestCase):

    def test_valid_names(self):
        for name in ('lab-a', 'lab-b.example.org', 'a', 'A1', '1a',
                     'x' * 63, '.'.join(['x' * 63] * 3) + '.' + 'y' * 61,
                     '198.18.0.1', 'compute-01.dc1.example.com'):
            self.assertIsNone(hostnames.hostname_problem(name), name)
            self.assertTrue(hostnames.is_valid_hostname(name))

    def test_characters_a_uri_would_read(self):
        for char in '/@:?#% \t\n\x00[]\\_\'"&;,=+*~\u00e9':
            name = 'lab%sa' % char
            problem = hostnames.hostname_problem(name)
            self.assertIsNotNone(problem, repr(name))
            self.assertIn(repr(char), problem)

    def test_labels(self):
        for name, part in (('-lab', "'-lab' starts or ends with '-'"),
                           ('lab-', "'lab-' starts or ends with '-'"),
                           ('a.-b.c', "'-b'"),
                           ('a..b', 'empty label'),
                           ('.lab', 'empty label'),
                           ('lab.', 'empty label'),
                           ('x' * 64, 'longer than 63')):
            self.assertIn(part, hostnames.hostname_problem(name), name)

    def test_lengths(self):
        self.assertIn('cannot be empty', hostnames.hostname_problem(''))
        name = '.'.join(['x' * 63] * 4)  # 255 characters
        self.assertIn('at most 253', hostnames.hostname_problem(name))

    def test_not_a_string(self):
        for value in (None, 5, b'lab-a', ['lab-a']):
            self.assertIn('is a string', hostnames.hostname_problem(value))

    def test_pattern_says_the_same(self):
        pattern = re.compile(hostnames.PATTERN)
        for name in ('lab-a', 'a.b.c', '1.2.3.4', 'x' * 63):
            self.assertTrue(pattern.search(name), name)
        for name in ('lab_a', 'a..b', '-a', 'a-', 'a/b', 'x' * 64, '',
                     'a b', 'user@host', 'host:22'):
            self.assertFalse(pattern.search(name), name)


class AddressTestCase(testtools.TestCase):

    def test_ipv6(self):
        self.assertIsNone(hostnames.address_problem('fd00::1'))
        self.assertEqual('[fd00::1]', hostnames.uri_host('fd00::1'))
        self.assertIn('not an IPv6 address',
                      hostnames.address_problem('host:22'))

    def test_names_and_ipv4(self):
        self.assertEqual('198.18.0.2', hostnames.uri_host('198.18.0.2'))
        self.assertEqual('lab-b', hostnames.uri_host('lab-b'))

    def test_uri_host_refuses(self):
        for value in ('lab-b/system?x', 'root@lab-b', '', 'a b'):
            self.assertRaises(ValueError, hostnames.uri_host, value)
