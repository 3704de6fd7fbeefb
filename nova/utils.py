"""The one concurrency seam of the project, and the injected clock.

Nova historically ran under eventlet with the standard library
monkey-patched. This project runs on native threads by default, and the very
same code also runs when the process has been monkey-patched: the functions
here pick the right primitive at call time, so no other module needs to know
which mode it is in.

Blocking calls into libvirt (a live migration can block for minutes) must
never run on the eventlet hub; ``spawn_blocking`` runs them in a real OS
thread in both modes.
"""

import collections
import sys
import threading
import time


def _eventlet_patched():
    """True when eventlet has monkey-patched the thread module."""
    if 'eventlet' not in sys.modules:
        return False
    from eventlet import patcher
    return patcher.is_monkey_patched('thread')


def native_threading():
    """The real ``threading`` module, even when eventlet patched it.

    For threads that must be OS threads in both modes: libvirt's event loop,
    and waits inside calls that already run in an OS thread.
    """
    if _eventlet_patched():
        from eventlet import patcher
        return patcher.original('threading')
    return threading


def concurrency_mode():
    """'eventlet' when running monkey-patched, else 'native'."""
    return 'eventlet' if _eventlet_patched() else 'native'


class _NativeHandle(object):
    """Result holder of a function run in a native thread."""

    def __init__(self, func, args, kwargs, name):
        self._result = None
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(func, args, kwargs), name=name,
            daemon=True)
        self._thread.start()

    def _run(self, func, args, kwargs):
        try:
            self._result = func(*args, **kwargs)
        except BaseException as exc:  # handed to wait()
            self._error = exc

    def ready(self):
        return not self._thread.is_alive()

    def wait(self, timeout=None):
        """Return the function's result or raise its exception."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError('thread %s still running' % self._thread.name)
        if self._error is not None:
            raise self._error
        return self._result


class _GreenHandle(object):
    """Result holder of a function run by eventlet (possibly via tpool)."""

    def __init__(self, greenthread):
        self._gt = greenthread

    def ready(self):
        return self._gt.dead

    def wait(self, timeout=None):
        import eventlet
        if timeout is None:
            return self._gt.wait()
        with eventlet.Timeout(timeout, TimeoutError('green thread running')):
            return self._gt.wait()


def spawn(func, *args, **kwargs):
    """Run ``func`` concurrently; return a handle with ready() and wait()."""
    if _eventlet_patched():
        import eventlet
        return _GreenHandle(eventlet.spawn(func, *args, **kwargs))
    return _NativeHandle(func, args, kwargs, getattr(func, '__name__', 'op'))


def spawn_blocking(func, *args, **kwargs):
    """Run a call that blocks in C code (libvirt) in a real OS thread.

    Under eventlet the call goes through ``eventlet.tpool`` so that the hub
    keeps serving other green threads while it blocks.
    """
    if _eventlet_patched():
        import eventlet
        from eventlet import tpool
        return _GreenHandle(eventlet.spawn(tpool.execute, func, *args,
                                           **kwargs))
    return _NativeHandle(func, args, kwargs, getattr(func, '__name__', 'op'))


def yield_now():
    """Let other threads (or green threads) run.

    Under eventlet a green sleep only switches green threads: the OS
    threads of ``tpool`` (libvirt calls) still wait for the GIL, which a
    busy loop on a virtual clock would hardly ever give up. A very short
    real sleep hands it over.
    """
    time.sleep(0)
    if _eventlet_patched():
        from eventlet import patcher
        patcher.original('time').sleep(0.0002)


class RealClock(object):
    """Wall-clock time for the monitor loop: monotonic, immune to NTP steps.

    The loop only ever calls ``now()``, ``sleep()`` and ``wait()``; tests
    and the benchmark inject a virtual clock with the same three methods.
    """

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)

    def wait(self, channel, seconds):
        """Sleep until something arrives on ``channel`` or ``seconds``."""
        return channel.wait(seconds)


# How often a green thread looks at a channel that a native thread fills.
GREEN_CHANNEL_POLL = 0.05


class Channel(object):
    """Items handed from any thread to one consumer, which can wait on it.

    libvirt's event thread (a native thread) and the API side put here; only
    the migration monitor's loop takes, so only the loop writes what the
    items change. The lock is native and held only for a list operation,
    so a green thread may take it too.
    """

    def __init__(self):
        self._items = collections.deque()
        self._cond = native_threading().Condition()

    def put(self, item):
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def drain(self):
        """Everything put since the last drain, oldest first."""
        with self._cond:
            items = list(self._items)
            self._items.clear()
        return items

    def __len__(self):
        return len(self._items)

    def wait(self, seconds):
        """Block until an item is there or ``seconds`` pass; True if one is.

        Under eventlet the consumer is a green thread: it must not block the
        hub on a native condition, so it looks every GREEN_CHANNEL_POLL.
        """
        if _eventlet_patched():
            deadline = time.monotonic() + seconds
            while not self._items:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, GREEN_CHANNEL_POLL))
            return bool(self._items)
        with self._cond:
            if not self._items and seconds > 0:
                self._cond.wait(seconds)
            return bool(self._items)
