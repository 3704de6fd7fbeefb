"""The concurrency seam works in the mode the test run selected."""

import os

import testtools

from nova import utils


class ConcurrencyTestCase(testtools.TestCase):

    def test_mode_matches_the_test_run(self):
        expected = os.environ.get('NOVA_TEST_CONCURRENCY', 'native')
        self.assertEqual(expected, utils.concurrency_mode())

    def test_spawn_returns_result(self):
        handle = utils.spawn(lambda a, b: a + b, 2, b=3)
        self.assertEqual(5, handle.wait())
        self.assertTrue(handle.ready())

    def test_spawn_blocking_reraises(self):
        def boom():
            raise ValueError('bad')
        handle = utils.spawn_blocking(boom)
        self.assertRaises(ValueError, handle.wait)

    def test_spawn_blocking_runs_in_an_os_thread(self):
        native = utils.native_threading()
        handle = utils.spawn_blocking(lambda: native.get_ident())
        self.assertNotEqual(native.get_ident(), handle.wait())

    def test_wait_timeout(self):
        event = utils.native_threading().Event()
        handle = utils.spawn_blocking(event.wait, 5)
        self.assertRaises(TimeoutError, handle.wait, 0.05)
        event.set()
        self.assertTrue(handle.wait())

    def test_real_clock(self):
        clock = utils.RealClock()
        before = clock.now()
        clock.sleep(0.01)
        self.assertGreaterEqual(clock.now() - before, 0.009)
