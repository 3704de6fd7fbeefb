"""Tests. NOVA_TEST_CONCURRENCY=eventlet runs them monkey-patched.

Every test gets a time limit (OS_TEST_TIMEOUT seconds, default 180): a test
that hangs fails with a timeout instead of stalling the whole run.
"""

import os

if os.environ.get('NOVA_TEST_CONCURRENCY') == 'eventlet':
    import eventlet
    eventlet.monkey_patch()

import fixtures as fixtures_lib  # noqa: E402
import testtools  # noqa: E402

_TIMEOUT = int(os.environ.get('OS_TEST_TIMEOUT', '180') or 0)
_original_setup = testtools.TestCase.setUp


def _setup_with_timeout(self):
    _original_setup(self)
    if _TIMEOUT > 0:
        self.useFixture(fixtures_lib.Timeout(_TIMEOUT, gentle=True))


testtools.TestCase.setUp = _setup_with_timeout
