#!/usr/bin/env python3
"""How each new TCP connection on a lab host's link began: TLS or not.

Run inside one lab host's network namespace, as root, while a migration
runs::

    ip netns exec lab-b python3 tools/lab/tlswire.py --ports 16509,16514,49152-49215

It opens a raw packet socket (AF_PACKET, every interface of the
namespace), prints ``ready`` once it listens, then follows each TCP
connection whose SYN it sees towards one of ``--ports`` and keeps the
first bytes each side sent. When standard input closes (or after
``--timeout`` seconds) it prints one JSON line per connection and exits::

    {"server": "198.18.0.2:49184", "client": "198.18.0.1:50122",
     "client_first": "16030100f8010000f403...", "server_first": "160303...",
     "client_kind": "tls-client-hello", "server_kind": "tls-server-hello"}

A QEMU migration stream in clear text starts with QEMU's magic ``QEVM``
(``qemu-plain``); with TLS (``VIR_MIGRATE_TLS``) the client's first bytes
are a TLS handshake record holding a ClientHello, answered by a ServerHello.
libvirt's own connection on 16514 is TLS from its first byte, on 16509 it
is libvirt's plain RPC. Only the first bytes of each direction are kept:
nothing of the guest's memory is stored or printed.

No dependency beyond the Python standard library (the lab's tests run it
with their own interpreter).
"""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_8021Q = 0x8100
KEEP = 16            # bytes kept of each side's first payload
SNAP = 256           # bytes read of each frame: headers + the first bytes

TLS_HANDSHAKE = 0x16
TLS_CLIENT_HELLO = 0x01
TLS_SERVER_HELLO = 0x02
QEMU_MAGIC = b'QEVM'


def classify(payload):
    """What the first bytes of one side of a connection are."""
    if len(payload) >= 6 and payload[0] == TLS_HANDSHAKE and \
            payload[1] == 0x03 and payload[2] <= 0x04:
        if payload[5] == TLS_CLIENT_HELLO:
            return 'tls-client-hello'
        if payload[5] == TLS_SERVER_HELLO:
            return 'tls-server-hello'
        return 'tls-handshake'
    if payload[:4] == QEMU_MAGIC:
        return 'qemu-plain'
    if not payload:
        return 'none'
    return 'other'


def parse_ports(text):
    """'16514,49152-49215' -> set of ints."""
    ports = set()
    for part in text.split(','):
        part = part.strip()
        if not part:
            continue
        low, _sep, high = part.partition('-')
        ports.update(range(int(low), int(high or low) + 1))
    return ports


def tcp_segment(frame):
    """(src, sport, dst, dport, seq, flags, payload) of an IPv4 TCP frame, or
    None. ``payload`` may be cut short by the snap length.
    """
    if len(frame) < 14:
        return None
    ethertype, = struct.unpack('!H', frame[12:14])
    offset = 14
    if ethertype == ETH_P_8021Q and len(frame) >= 18:
        ethertype, = struct.unpack('!H', frame[16:18])
        offset = 18
    if ethertype != ETH_P_IP:
        return None
    ip = frame[offset:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_TCP:
        return None
    ihl = (ip[0] & 0x0f) * 4
    total, = struct.unpack('!H', ip[2:4])
    tcp = ip[ihl:total]
    if len(tcp) < 20:
        return None
    sport, dport, seq = struct.unpack('!HHI', tcp[:8])
    doff = (tcp[12] >> 4) * 4
    return (socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]),
            dport, seq, tcp[13], tcp[doff:])


class Tracker(object):
    """First bytes of both sides of each connection opened towards
    ``ports`` after the tracker started (its SYN was seen).

    "First" by sequence number (the byte after the SYN), not by arrival:
    a frame the capture dropped leaves that side empty rather than
    classed by some later bytes.
    """

    SYN, ACK = 0x02, 0x10

    def __init__(self, ports):
        self.ports = ports
        self.conns = {}

    def feed(self, segment):
        src, sport, dst, dport, seq, flags, payload = segment
        if dport in self.ports:
            key, side = (src, sport, dst, dport), 'client'
        elif sport in self.ports:
            key, side = (dst, dport, src, sport), 'server'
        else:
            return
        if flags & self.SYN:
            if side == 'client' and not flags & self.ACK:
                self.conns.setdefault(key, {})['client_isn'] = seq
            elif side == 'server' and key in self.conns:
                self.conns[key]['server_isn'] = seq
            return
        conn = self.conns.get(key)
        if conn is None or not payload or side + '_first' in conn:
            return
        isn = conn.get(side + '_isn')
        if isn is not None and seq == (isn + 1) & 0xffffffff:
            conn[side + '_first'] = payload[:KEEP]

    def complete(self, ports):
        """How many connections towards ``ports`` have both first bytes."""
        return sum(1 for key, conn in self.conns.items()
                   if key[3] in ports and 'client_first' in conn and
                   'server_first' in conn)

    def report(self):
        out = []
        for (src, sport, dst, dport), conn in sorted(self.conns.items()):
            client = conn.get('client_first', b'')
            server = conn.get('server_first', b'')
            out.append({
                'server': '%s:%d' % (dst, dport),
                'client': '%s:%d' % (src, sport),
                'client_first': client.hex(), 'server_first': server.hex(),
                'client_kind': classify(client),
                'server_kind': classify(server)})
        return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ports', default='16509,16514,49152-49215',
                        help='server ports to follow (default: libvirt '
                             'and the lab hosts\' migration ports)')
    parser.add_argument('--timeout', type=float, default=300.0,
                        help='stop after this many seconds (default 300)')
    parser.add_argument('--stop-after', type=int, default=0, metavar='N',
                        help='stop capturing (not reporting) once N '
                             'connections towards --stream-ports have both '
                             'first bytes: reading every frame of a '
                             'migration costs CPU the guest needs')
    parser.add_argument('--stream-ports', default='49152-49215',
                        help='the ports --stop-after counts (default: the '
                             'lab hosts\' migration ports)')
    args = parser.parse_args(argv)
    tracker = Tracker(parse_ports(args.ports))
    stream_ports = parse_ports(args.stream_ports)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                         socket.htons(ETH_P_ALL))
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    print('ready', flush=True)
    deadline = time.monotonic() + args.timeout
    stdin = sys.stdin.fileno()
    watch = [sock, stdin]

    def drain(limit):
        """Read what is queued, one frame a read; stop once enough."""
        for _ in range(limit):
            try:
                frame = sock.recv(SNAP, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            segment = tcp_segment(frame)
            if segment is not None:
                tracker.feed(segment)
        if args.stop_after and \
                tracker.complete(stream_ports) >= args.stop_after:
            watch.remove(sock)
            sock.close()

    try:
        while time.monotonic() < deadline:
            readable, _w, _x = select.select(watch, [], [], 0.5)
            if sock in readable:
                drain(1000)
            if stdin in readable and not os.read(stdin, 4096):
                if sock in watch:
                    drain(100000)   # what arrived before the end
                break
    finally:
        sock.close()
    for line in tracker.report():
        print(json.dumps(line, sort_keys=True), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
