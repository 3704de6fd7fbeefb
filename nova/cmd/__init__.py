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
