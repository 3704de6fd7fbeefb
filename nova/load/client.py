"""Concurrent HTTP/1.1 clients on asyncio: throughput, latency, resets.

Each simulated client keeps one connection and sends its requests one
after another, reusing the connection while the server keeps it open
(HTTP/1.1 keep-alive) and reconnecting when it closes it (HTTP/1.0, or
``Connection: close``). A connection the server resets or drops mid-answer
counts as a reset; the client reconnects and goes on.
"""

import asyncio
import time

REQUEST_TIMEOUT = 30.0


class Result(object):
    """What one load level measured."""

    def __init__(self, clients):
        self.clients = clients
        self.latencies = []
        self.statuses = {}
        self.resets = 0
        self.timeouts = 0
        self.connects = 0
        self.elapsed = 0.0

    @property
    def requests(self):
        return len(self.latencies)

    @property
    def server_errors(self):
        return sum(n for code, n in self.statuses.items() if code >= 500)

    @property
    def rate(self):
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction):
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
        return ordered[index]

    def as_dict(self):
        return {'clients': self.clients, 'requests': self.requests,
                'rate': round(self.rate, 1),
                'p50_ms': _ms(self.percentile(0.50)),
                'p99_ms': _ms(self.percentile(0.99)),
                'max_ms': _ms(self.percentile(1.0)),
                'resets': self.resets, 'timeouts': self.timeouts,
                '5xx': self.server_errors, 'connects': self.connects,
                'statuses': {str(k): v for k, v in
                             sorted(self.statuses.items())}}


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 1)


def build_request(method, path, host, headers=(), body=b''):
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: %s' % host]
    lines.extend('%s: %s' % item for item in headers)
    if body or method in ('POST', 'PUT'):
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


async def read_response(reader):
    """(status, keep_alive, body) of one response; raises on a cut."""
    head = await reader.readuntil(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    version, status = lines[0].split(' ', 2)[:2]
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(':')
        if sep:
            headers[name.strip().lower()] = value.strip()
    connection = headers.get('connection', '').lower()
    keep_alive = (version == 'HTTP/1.1' and connection != 'close') or \
        connection == 'keep-alive'
    if 'content-length' in headers:
        body = await reader.readexactly(int(headers['content-length']))
    else:
        body = await reader.read()
        keep_alive = False
    return int(status), keep_alive, body


class _Client(object):

    def __init__(self, host, port, payload, result):
        self.host = host
        self.port = port
        self.payload = payload
        self.result = result
        self.reader = self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None

    async def one(self):
        started = time.monotonic()
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(
                    self.host, self.port)
                self.result.connects += 1
            self.writer.write(self.payload)
            await self.writer.drain()
            status, keep_alive, _body = await asyncio.wait_for(
                read_response(self.reader), REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            self.result.timeouts += 1
            await self.close()
            return
        except (ConnectionError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, OSError, ValueError):
            self.result.resets += 1
            await self.close()
            return
        self.result.latencies.append(time.monotonic() - started)
        self.result.statuses[status] = self.result.statuses.get(status,
                                                                0) + 1
        if not keep_alive:
            await self.close()


async def _run(host, port, payload, clients, duration, max_requests):
    result = Result(clients)
    deadline = time.monotonic() + duration
    budget = [max_requests]

    async def worker():
        client = _Client(host, port, payload, result)
        try:
            while time.monotonic() < deadline and budget[0] > 0:
                budget[0] -= 1
                await client.one()
        finally:
            await client.close()

    started = time.monotonic()
    await asyncio.gather(*[worker() for _i in range(clients)])
    result.elapsed = time.monotonic() - started
    return result


def run_level(host, port, path, headers, clients, duration,
              max_requests=50000):
    """``clients`` concurrent clients GETting ``path`` for ``duration`` s."""
    payload = build_request('GET', path, '%s:%d' % (host, port), headers)
    return asyncio.run(_run(host, port, payload, clients, duration,
                            max_requests))
