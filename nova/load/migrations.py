"""Live migrations completed per unit of time, with or without API load."""

import threading
import time

HOSTS = ('lab-a', 'lab-b')
POLL = 0.1
MIGRATION_TIMEOUT = 60.0


def _host_of(rest, uuid):
    status, body = rest.call('GET', '/v2.1/servers/%s' % uuid)
    if status != 200:
        return None, None, None
    server = body['server']
    return (server.get('OS-EXT-SRV-ATTR:host'), server['status'],
            server.get('OS-EXT-STS:task_state'))


def migrate_once(rest, uuid):
    """Live-migrate ``uuid`` to the other host; seconds taken, or None."""
    source, _status, _task = _host_of(rest, uuid)
    target = HOSTS[1] if source == HOSTS[0] else HOSTS[0]
    started = time.monotonic()
    status, body = rest.call(
        'POST', '/v2.1/servers/%s/action' % uuid,
        {'os-migrateLive': {'host': target, 'block_migration': 'auto'}},
        version='2.30')
    if status != 202:
        return None
    while time.monotonic() - started < MIGRATION_TIMEOUT:
        time.sleep(POLL)
        host, state, task = _host_of(rest, uuid)
        if state == 'ERROR':
            return None
        if task is None and state == 'ACTIVE' and host == target:
            return time.monotonic() - started
        if task is None and state == 'ACTIVE' and host == source and \
                time.monotonic() - started > 1.0:
            return None  # rolled back
    return None


def migration_rate(make_rest, servers, duration, workers=None):
    """Migrations completed in ``duration`` s by ``workers`` loops.

    Each worker owns a share of ``servers`` (by default one each) and
    migrates them back and forth one at a time. With a worker per server
    more migrations are asked for than the hosts run at once
    (``max_concurrent_live_migrations``), so the rate is what the compute
    services complete, not how fast the API answers the workers' polls.
    """
    workers = workers or len(servers)
    done, failed, seconds = [], [], []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker(owned):
        rest = make_rest()
        try:
            index = 0
            while time.monotonic() < deadline and owned:
                took = migrate_once(rest, owned[index % len(owned)])
                index += 1
                with lock:
                    if took is None:
                        failed.append(1)
                    elif time.monotonic() <= deadline:
                        # Only what completed inside the window counts.
                        done.append(1)
                        seconds.append(took)
        finally:
            rest.close()

    threads = [threading.Thread(target=worker, args=(servers[i::workers],))
               for i in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    seconds.sort()
    return {'completed': len(done), 'failed': len(failed),
            'elapsed_s': round(elapsed, 1),
            'per_minute': round(len(done) * 60.0 / duration, 1),
            'median_s': round(seconds[len(seconds) // 2], 2)
            if seconds else None}
