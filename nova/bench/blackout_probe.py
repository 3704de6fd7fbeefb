"""The blackout an application sees during a live migration.

QEMU reports a *downtime*: how long the guest's vCPUs were stopped for the
switch-over. What a client of the guest sees is longer or shorter than that:
the network must learn the guest's new port (QEMU's RARP announce after the
switch), a post-copy guest runs on the destination but stalls on page
faults, a guest paused for force-complete stops answering for the whole
remaining copy. This module measures it from outside: a client sends a UDP
datagram to the guest's echo service (tools/lab/guest/echo.c, port 7) every
10 ms and records when each answer came back; the blackout is the longest
time between two consecutive answers, known to within the send interval.

Three parts, so the decision is testable alone:

* ``blackout(sent, answers, ...)``: pure, plain values in (send and answer
  times), a ``Blackout`` out;
* ``record(sock, ...)``: the socket loop (run with ``python -I
  blackout_probe.py TARGET``, only the standard library, so it can run
  inside a lab host's network namespace: ``ip netns exec lab-a ...``);
* ``Probe``: starts that process beside a migration and reads its record.

Times are ``time.monotonic()`` (CLOCK_MONOTONIC), the same clock in every
process of the machine, so a caller can give the migration's window in its
own monotonic time.
"""

import argparse
import dataclasses
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from typing import List, Optional, Sequence, Tuple

INTERVAL_S = 0.010
PORT = 7
_PAYLOAD = struct.Struct('!4sId')
_MAGIC = b'NBP1'


@dataclasses.dataclass
class Blackout(object):
    """What the probe saw; times in seconds."""

    # Longest time with no answer (None: no answer at all).
    blackout_s: Optional[float]
    # The send interval: each edge of the gap is known to within it.
    resolution_s: float
    # The gap's edges (monotonic times of the answers around it).
    gap_start: Optional[float] = None
    gap_end: Optional[float] = None
    sent: int = 0
    answered: int = 0
    # Requests sent inside the gap that never got an answer.
    lost_in_gap: int = 0
    # Longest gap before the window opened: the client/guest jitter when
    # nothing migrates (on TCG tens of ms).
    baseline_gap_s: Optional[float] = None
    rtt_median_s: Optional[float] = None
    rtt_max_s: Optional[float] = None
    # An answer came after the window closed (the guest answers where it
    # now runs).
    answering_after: bool = False

    def as_dict(self):
        return dataclasses.asdict(self)

    def summary(self):
        if self.blackout_s is None:
            return 'no answer at all (%d sent)' % self.sent
        return ('%.0f ms (+/- %.0f ms; %d/%d answered, %d lost in the gap, '
                'baseline gap %s, answering after: %s)' % (
                    self.blackout_s * 1000, self.resolution_s * 1000,
                    self.answered, self.sent, self.lost_in_gap,
                    '%.0f ms' % (self.baseline_gap_s * 1000)
                    if self.baseline_gap_s is not None else '-',
                    'yes' if self.answering_after else 'NO'))


def blackout(sent: Sequence[Tuple[int, float]],
             answers: Sequence[Tuple[int, float]],
             window: Optional[Tuple[float, float]] = None,
             interval: float = INTERVAL_S) -> Blackout:
    """The longest time between consecutive answers, over ``window``.

    ``sent``: (sequence number, send time) of every request; ``answers``:
    (sequence number, arrival time) of every answer, duplicates allowed.
    ``window`` (start, end): only gaps that overlap it count (a gap that
    starts before the window and ends inside it counts whole); None means
    the whole record. A window whose end comes before any later answer
    counts the gap up to the end of the record: a guest that stopped
    answering has a blackout at least that long, and ``answering_after`` is
    False.
    """
    sent_at = dict(sent)
    first = {}
    for seq, t in answers:
        if seq in sent_at and seq not in first:
            first[seq] = t
    times = sorted(first.values())
    result = Blackout(blackout_s=None, resolution_s=interval,
                      sent=len(sent_at), answered=len(first))
    if not times:
        return result
    rtts = sorted(first[seq] - sent_at[seq] for seq in first)
    result.rtt_median_s = rtts[len(rtts) // 2]
    result.rtt_max_s = rtts[-1]
    start, end = window if window else (times[0], times[-1])
    # The edges of the record: before the first answer the guest may not
    # have been up; after the last one, the record ends when sends stop.
    last_send = max(sent_at.values()) if sent_at else times[-1]
    edges = times + ([last_send] if last_send > times[-1] else [])
    best = None
    baseline = None
    for a, b in zip(edges, edges[1:]):
        gap = b - a
        if b < start:
            baseline = gap if baseline is None else max(baseline, gap)
            continue
        if a > end:
            continue
        if best is None or gap > best[0]:
            best = (gap, a, b)
    result.baseline_gap_s = baseline
    result.answering_after = times[-1] > end
    if best is None:
        # No answer edge inside the window: the window sits inside one gap.
        before = [t for t in times if t <= start]
        after = [t for t in times if t >= end]
        a = before[-1] if before else start
        b = after[0] if after else last_send
        best = (b - a, a, b)
    gap, a, b = best
    if window is None:
        # The whole record: answering again after its longest gap.
        result.answering_after = b <= times[-1]
    result.blackout_s = gap
    result.gap_start, result.gap_end = a, b
    result.lost_in_gap = sum(1 for seq, t in sent_at.items()
                             if a < t < b and seq not in first)
    return result


# -- the socket loop -------------------------------------------------------


def record(sock, target, interval=INTERVAL_S, should_stop=None,
           clock=time.monotonic, duration=None):
    """Send a numbered datagram to ``target`` every ``interval`` and note
    every answer, until ``should_stop()`` or ``duration`` seconds.

    Returns (sent, answers) as ``blackout`` takes them. Sends keep to a
    fixed schedule (no drift when one is late); answers are read between
    sends.
    """
    sent: List[Tuple[int, float]] = []
    answers: List[Tuple[int, float]] = []
    sock.setblocking(False)
    started = clock()
    next_send = started
    seq = 0
    while True:
        now = clock()
        if (should_stop and should_stop()) or (
                duration is not None and now - started >= duration):
            break
        if now >= next_send:
            try:
                sock.sendto(_PAYLOAD.pack(_MAGIC, seq, now), target)
                sent.append((seq, now))
            except OSError:
                # No route for a moment (the link is down): a lost request.
                sent.append((seq, now))
            seq += 1
            next_send += interval
            if next_send < now:
                next_send = now + interval
        wait = max(0.0, next_send - clock())
        readable, _, _ = select.select([sock], [], [], wait)
        if readable:
            _read_answers(sock, answers, clock)
    # Late answers to the last requests.
    deadline = clock() + min(0.2, 20 * interval)
    while clock() < deadline:
        readable, _, _ = select.select([sock], [], [], deadline - clock())
        if not readable or not _read_answers(sock, answers, clock):
            break
    return sent, answers


def _read_answers(sock, answers, clock):
    """Append every queued answer as (number, arrival); False on error."""
    while True:
        try:
            data = sock.recv(64)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if len(data) == _PAYLOAD.size:
            magic, number, _t = _PAYLOAD.unpack(data)
            if magic == _MAGIC:
                answers.append((number, clock()))


def echo_once(target, timeout=1.0, tries=3):
    """One UDP echo round trip: True when the guest answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for seq in range(tries):
            payload = _PAYLOAD.pack(_MAGIC, seq, time.monotonic())
            try:
                sock.sendto(payload, target)
                while True:
                    if sock.recv(64) == payload:
                        return True
            except OSError:
                continue
    return False


def tcp_echo_once(target, timeout=2.0):
    """One TCP connection, one line echoed: True when it came back."""
    line = b'nova blackout probe %d\n' % os.getpid()
    try:
        with socket.create_connection(target, timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(line)
            got = b''
            while len(got) < len(line):
                chunk = conn.recv(len(line) - len(got))
                if not chunk:
                    break
                got += chunk
            return got == line
    except OSError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Send a UDP echo request every INTERVAL to the guest '
                    'and print every send and answer time as JSON (on '
                    'SIGTERM/SIGINT or after --duration); --once / --tcp: '
                    'one round trip, exit status 0 when answered.')
    parser.add_argument('address')
    parser.add_argument('--port', type=int, default=PORT)
    parser.add_argument('--interval', type=float, default=INTERVAL_S)
    parser.add_argument('--duration', type=float)
    parser.add_argument('--once', action='store_true')
    parser.add_argument('--tcp', action='store_true')
    parser.add_argument('--report', metavar='JSON',
                        help='no probing: print the blackout of a record '
                             'this tool wrote (ADDRESS is only a label)')
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report) as handle:
            data = json.load(handle)
        seen = blackout([tuple(p) for p in data['sent']],
                        [tuple(p) for p in data['answers']],
                        interval=data['interval'])
        print('blackout seen by a client of %s (UDP echo every %g ms): %s'
              % (args.address, data['interval'] * 1000, seen.summary()))
        return 0
    target = (args.address, args.port)
    if args.tcp:
        return 0 if tcp_echo_once(target) else 1
    if args.once:
        return 0 if echo_once(target) else 1
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    try:
        # Ahead of the guests' QEMUs for the CPU: the client's own
        # scheduling delay is not the guest's blackout.
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sys.stderr.write('probe: sending to %s:%d every %g s\n'
                         % (args.address, args.port, args.interval))
        sys.stderr.flush()
        sent, answers = record(sock, target, args.interval,
                               should_stop=lambda: bool(stop),
                               duration=args.duration)
    json.dump({'interval': args.interval, 'sent': sent, 'answers': answers},
              sys.stdout)
    sys.stdout.write('\n')
    return 0


# -- beside a migration ----------------------------------------------------


def _command(address, netns, *args):
    cmd = [sys.executable, '-I', os.path.abspath(__file__), address]
    cmd += [str(a) for a in args]
    if netns:
        cmd = ['ip', 'netns', 'exec', netns] + cmd
    return cmd


def reachable(address, netns=None, port=PORT, tcp=False):
    """One echo round trip from ``netns`` (UDP, or TCP): True if answered."""
    cmd = _command(address, netns, '--port', port,
                   '--tcp' if tcp else '--once')
    return subprocess.run(cmd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL,
                          timeout=30).returncode == 0


class Probe(object):
    """The probe process, started beside a migration::

        probe = Probe('198.18.0.100', netns='lab-a').start()
        ... migrate, noting time.monotonic() at its start and end ...
        seen = probe.stop(window=(started, ended))
    """

    def __init__(self, address, netns=None, port=PORT, interval=INTERVAL_S):
        self.address = address
        self.netns = netns
        self.port = port
        self.interval = interval
        self._proc = None
        self.sent = []
        self.answers = []

    def start(self):
        self._proc = subprocess.Popen(
            _command(self.address, self.netns, '--port', self.port,
                     '--interval', self.interval),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self

    def stop(self, window=None, timeout=30):
        """Stop the probe; the ``Blackout`` over ``window``."""
        proc, self._proc = self._proc, None
        if proc is None:
            raise RuntimeError('probe not started')
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0 or not out.strip():
            raise RuntimeError('probe exited with %s: %s'
                               % (proc.returncode, err.decode(errors='replace')
                                  .strip()[-500:]))
        data = json.loads(out)
        self.sent = [tuple(pair) for pair in data['sent']]
        self.answers = [tuple(pair) for pair in data['answers']]
        return blackout(self.sent, self.answers, window=window,
                        interval=data['interval'])

    def kill(self):
        """Stop without reading (clean-up after a failure)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate()


if __name__ == '__main__':
    sys.exit(main())
