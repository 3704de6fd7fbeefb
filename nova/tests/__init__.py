"""Tests. NOVA_TEST_CONCURRENCY=eventlet runs them monkey-patched."""

import os

if os.environ.get('NOVA_TEST_CONCURRENCY') == 'eventlet':
    import eventlet
    eventlet.monkey_patch()
