"""Console scripts.

Services run on native threads. ``NOVA_CONCURRENCY=eventlet`` in the
environment monkey-patches the standard library first, the way Nova
services historically ran; the code works the same in both modes
(``nova.utils``).
"""

import os

if os.environ.get('NOVA_CONCURRENCY') == 'eventlet':
    import eventlet
    eventlet.monkey_patch()

import signal  # noqa: E402  (after the optional monkey-patching)
import threading  # noqa: E402

from oslo_log import log as logging  # noqa: E402

LOG = logging.getLogger(__name__)


def wait_for_signal():
    """Block until SIGTERM or SIGINT (every console script's main loop)."""
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info('Signal %d: stopping', signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stopping.wait(1.0):
        pass
