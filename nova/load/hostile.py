"""Hostile and careless clients, each bounded in count and time.

Every scenario returns a dict of plain figures. While the hostile
sockets are held, a probe sends ordinary requests on fresh connections:
the question is whether everyone else is still served.
"""

import http.client
import json
import select
import socket
import threading
import time

MiB = 1024 * 1024
PROBE_PATH = '/v2.1/servers/detail'
TOKEN = 'admin:admin'


def rss_mib(pid):
    """Resident memory of process ``pid`` in MiB (Linux), or None."""
    try:
        with open('/proc/%d/status' % pid) as handle:
            for line in handle:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def probe(host, port, count=20, timeout=10.0):
    """``count`` ordinary requests, one connection each: ok, p99, worst."""
    latencies = []
    failures = 0
    for _i in range(count):
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.request('GET', PROBE_PATH, headers={'X-Auth-Token': TOKEN})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                failures += 1
                continue
        except (OSError, http.client.HTTPException):
            failures += 1
            continue
        latencies.append(time.monotonic() - started)
    latencies.sort()
    return {'probe_ok': len(latencies), 'probe_failed': failures,
            'probe_p99_ms': round(latencies[int(0.99 * (len(latencies) - 1))]
                                  * 1000, 1) if latencies else None}


def _connect(host, port):
    sock = socket.create_connection((host, port), timeout=5)
    sock.setblocking(False)
    return sock


def _closed(sock):
    """True when the peer closed ``sock`` (EOF or reset)."""
    try:
        ready, _w, _x = select.select([sock], [], [], 0)
        if not ready:
            return False
        data = sock.recv(65536)
        return data == b''
    except (ConnectionError, OSError):
        return True


def _watch(socks, wait, feed=None, interval=0.5):
    """Seconds after which each socket was closed by the server (or None)."""
    started = time.monotonic()
    closed_at = [None] * len(socks)
    while time.monotonic() - started < wait and None in closed_at:
        for index, sock in enumerate(socks):
            if closed_at[index] is not None:
                continue
            if feed is not None:
                try:
                    feed(sock)
                except (ConnectionError, OSError):
                    closed_at[index] = time.monotonic() - started
                    continue
            if _closed(sock):
                closed_at[index] = time.monotonic() - started
        time.sleep(interval)
    return closed_at


def _close_summary(closed_at, wait):
    times = sorted(t for t in closed_at if t is not None)
    return {'closed_by_server': len(times),
            'still_open': len(closed_at) - len(times),
            'closed_median_s': round(times[len(times) // 2], 1)
            if times else None,
            'watched_s': wait}


def idle_sockets(host, port, count=100, wait=20.0):
    """``count`` connections that never send a byte."""
    socks = [_connect(host, port) for _i in range(count)]
    try:
        figures = probe(host, port)
        figures.update(_close_summary(_watch(socks, wait), wait))
        return figures
    finally:
        for sock in socks:
            sock.close()


def slow_clients(host, port, count=100, wait=20.0):
    """Slow clients: ``count`` connections that never finish a request.

    Half trickle their headers a byte a second; half send a body shorter
    than their Content-Length and then stay silent.
    """
    socks = []
    for index in range(count):
        sock = _connect(host, port)
        if index % 2:
            sock.send(b'POST /v2.1/servers HTTP/1.1\r\nHost: x\r\n'
                      b'X-Auth-Token: admin:admin\r\n'
                      b'Content-Type: application/json\r\n'
                      b'Content-Length: 1000\r\n\r\n{"server": ')
        else:
            sock.send(b'GET /v2.1/servers HTTP/1.1\r\nHost: x\r\nX-Slow: ')
        socks.append(sock)
    trickling = set(id(s) for i, s in enumerate(socks) if not i % 2)

    def feed(sock):
        if id(sock) in trickling:
            sock.send(b'a')

    results = {}

    def probe_later():
        time.sleep(1.0)
        results.update(probe(host, port))

    prober = threading.Thread(target=probe_later)
    prober.start()
    try:
        closed_at = _watch(socks, wait, feed=feed, interval=1.0)
    finally:
        prober.join(60)
        for sock in socks:
            sock.close()
    results.update(_close_summary(closed_at, wait))
    return results


def oversize_bodies(host, port, pid, size=50 * MiB, parallel=4):
    """``parallel`` clients each sending a ``size`` byte JSON body."""
    before = rss_mib(pid)
    answers = []
    chunk = b'"' + b'x' * (64 * 1024 - 2) + b'"'

    def one():
        sock = socket.create_connection((host, port), timeout=30)
        status, length, sent = None, 0, 0
        started = time.monotonic()
        try:
            sock.sendall(b'POST /v2.1/servers HTTP/1.1\r\nHost: x\r\n'
                         b'X-Auth-Token: admin:admin\r\n'
                         b'Content-Type: application/json\r\n'
                         b'Content-Length: %d\r\n\r\n' % size)
            try:
                while sent < size:
                    sock.sendall(chunk[:size - sent])
                    sent += len(chunk[:size - sent])
            except (ConnectionError, OSError):
                pass  # refused before it was all sent
            data = b''
            try:
                while True:
                    part = sock.recv(65536)
                    if not part:
                        break
                    data += part
                    if _complete(data):
                        break
            except (ConnectionError, OSError):
                pass
            if data:
                status = int(data.split(b' ', 2)[1])
                length = len(data)
        finally:
            sock.close()
        answers.append({'status': status, 'response_bytes': length,
                        'sent_mib': round(sent / MiB, 1),
                        'seconds': round(time.monotonic() - started, 2)})

    threads = [threading.Thread(target=one) for _i in range(parallel)]
    for thread in threads:
        thread.start()
    peak = before
    while any(t.is_alive() for t in threads):
        now = rss_mib(pid)
        if now is not None and peak is not None:
            peak = max(peak, now)
        time.sleep(0.05)
    return {'size_mib': size // MiB, 'parallel': parallel,
            'statuses': sorted(str(a['status']) for a in answers),
            'max_response_bytes': max(a['response_bytes'] for a in answers),
            'max_sent_mib': max(a['sent_mib'] for a in answers),
            'rss_before_mib': _round(before), 'rss_peak_mib': _round(peak)}


def _round(value):
    return None if value is None else round(value, 1)


def _complete(data):
    head, sep, body = data.partition(b'\r\n\r\n')
    if not sep:
        return False
    for line in head.split(b'\r\n')[1:]:
        name, _sep, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            return len(body) >= int(value)
    return False


def oversize_headers(host, port, size=MiB):
    """One request with a ``size`` byte header."""
    sock = socket.create_connection((host, port), timeout=30)
    status = None
    try:
        try:
            sock.sendall(b'GET /v2.1/servers HTTP/1.1\r\nHost: x\r\n'
                         b'X-Big: ' + b'b' * size + b'\r\n\r\n')
        except (ConnectionError, OSError):
            pass
        try:
            data = sock.recv(65536)
            if data:
                status = int(data.split(b' ', 2)[1])
        except (ConnectionError, OSError, ValueError, IndexError):
            pass
    finally:
        sock.close()
    return {'header_kib': size // 1024, 'status': status}


def odd_requests(host, port):
    """Statuses of malformed but small requests (expected: 4xx each)."""
    cases = {
        'microversion 2.+5000 digits': (
            'GET', '/v2.1/servers',
            {'OpenStack-API-Version': 'compute 2.' + '1' * 5000}, None),
        'text/plain body': (
            'POST', '/v2.1/servers', {'Content-Type': 'text/plain'},
            b'{"server": {}}'),
        'chunked body': (
            'POST', '/v2.1/servers',
            {'Content-Type': 'application/json'},
            iter([b'{"server": ', b'{"name": "x"}}'])),
        'body not JSON': (
            'POST', '/v2.1/servers', {'Content-Type': 'application/json'},
            b'{"server": '),
    }
    statuses = {}
    for name, (method, path, headers, body) in cases.items():
        headers = dict(headers, **{'X-Auth-Token': TOKEN})
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request(method, path, body=body, headers=headers,
                         encode_chunked=name == 'chunked body')
            resp = conn.getresponse()
            text = resp.read()
            conn.close()
            statuses[name] = resp.status
            if resp.status >= 400 and name == 'chunked body':
                # The body was read: the answer names a missing field.
                statuses[name] = '%d (%s)' % (
                    resp.status, 'body read' if b'flavorRef' in text
                    else 'body lost')
        except (OSError, http.client.HTTPException) as exc:
            statuses[name] = type(exc).__name__
    return statuses


def as_json(value):
    return json.dumps(value, sort_keys=True)
