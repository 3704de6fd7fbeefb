"""The per-test time limit of nova/tests/__init__.py really fires."""

import os
import subprocess
import sys
import textwrap

import testtools


class TimeoutGuardTestCase(testtools.TestCase):

    def test_hanging_test_fails_instead_of_hanging(self):
        code = textwrap.dedent('''
            import time, unittest, testtools
            import nova.tests

            class Hang(testtools.TestCase):
                def test_hang(self):
                    time.sleep(30)

            result = unittest.TextTestRunner().run(
                unittest.defaultTestLoader.loadTestsFromTestCase(Hang))
            raise SystemExit(0 if result.errors else 3)
        ''')
        env = dict(os.environ, OS_TEST_TIMEOUT='1')
        proc = subprocess.run([sys.executable, '-c', code], env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr[-2000:])
        self.assertIn('TimeoutException', proc.stderr)
