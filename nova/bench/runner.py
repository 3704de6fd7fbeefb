"""Run a matrix of (strategy, workload) pairs on a backend.

Runs are independent, so a backend that allows it gets them spread over
worker processes (``jobs``), longest expected first; the result order is
the matrix order whatever finished first, so the tables do not depend on
``jobs``.
"""

import concurrent.futures
import multiprocessing
import os
import sys

from nova.virt.libvirt import monitor

_BACKEND = None


def _init_worker(backend, worker_process=True):
    global _BACKEND
    _BACKEND = backend
    if worker_process:
        from nova.bench import cli
        cli.quiet_logging()


def _run_task(task):
    index, strategy, spec, timeline = task
    return index, _BACKEND.run(strategy, spec, timeline=timeline)


def expected_polls(strategy, spec):
    """A rough cost estimate, for ordering the work only."""
    if spec.dirty_ratio >= 0.9 and not strategy.option(
            'live_migration_permit_post_copy') and not strategy.option(
            'live_migration_permit_auto_converge'):
        # Runs until the completion timeout (800 s/GiB, 2 GiB at least).
        return 800 * max(spec.ram_gib, 2) / monitor.POLL_INTERVAL
    return 5 * spec.floor_s / monitor.POLL_INTERVAL


def default_jobs():
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return os.cpu_count() or 1


def run_matrix(backend, strategies, workloads, timeline_workloads=(),
               jobs=1, progress=None):
    """Results of every strategy on every workload, in matrix order."""
    return run_pairs(backend, [(strategy, spec) for strategy in strategies
                               for spec in workloads],
                     timeline_workloads=timeline_workloads, jobs=jobs,
                     progress=progress)


def run_pairs(backend, pairs, timeline_workloads=(), jobs=1, progress=None):
    """Results of (strategy, workload) pairs, in the order given."""
    timeline_names = set(timeline_workloads)
    tasks = [(index, strategy, spec, spec.name in timeline_names)
             for index, (strategy, spec) in enumerate(pairs)]
    results = [None] * len(tasks)
    done = 0
    if jobs <= 1 or not getattr(backend, 'parallel', False):
        _init_worker(backend, worker_process=False)
        for task in tasks:
            index, result = _run_task(task)
            results[index] = result
            done += 1
            if progress:
                progress(done, len(tasks), result)
        return results
    order = sorted(tasks, key=lambda t: -expected_polls(t[1], t[2]))
    context = multiprocessing.get_context(
        'fork' if sys.platform.startswith('linux') else 'spawn')
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_init_worker,
            initargs=(backend,)) as pool:
        futures = [pool.submit(_run_task, task) for task in order]
        for future in concurrent.futures.as_completed(futures):
            index, result = future.result()
            results[index] = result
            done += 1
            if progress:
                progress(done, len(tasks), result)
    return results
