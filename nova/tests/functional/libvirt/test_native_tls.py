"""Live migration over TLS between the two lab hosts, through the driver.

``[libvirt] live_migration_with_native_tls`` (``VIR_MIGRATE_TLS``: QEMU's
own TLS on the migration stream) with ``live_migration_scheme = tls``
(libvirt's connection to the destination on port 16514), on the
certificates ``tools/lab/setup.sh`` makes for each host.

The proof that TLS was used is taken on the wire, not from libvirt:
``domjobinfo`` says nothing about it, and QEMU's migration parameters
(``tls-creds``) can only be read over the monitor while the migration job
holds it. ``tools/lab/tlswire.py`` runs in lab-b's network namespace and
keeps the first bytes each side sent on every connection opened towards
lab-b during the migration: a clear QEMU stream starts with QEMU's magic
``QEVM``, a TLS one with a ClientHello answered by a ServerHello. That
holds whatever libvirt or QEMU version runs, and it is what an observer on
the migration network would see.
"""

import json
import os
import select
import subprocess
import sys

import testtools

from nova.tests.functional.libvirt import test_live_migration
from nova.virt.libvirt import guest as libvirt_guest

TLSWIRE = os.path.abspath(os.path.join(
    os.path.dirname(__file__), '..', '..', '..', '..', 'tools', 'lab',
    'tlswire.py'))
LIBVIRT_TLS_PORT = 16514
LIBVIRT_TCP_PORT = 16509
IDLE = {'dirty_mib': '32', 'dirty_rate': '0'}


class WireWatch(object):
    """tlswire.py in a lab host's network namespace, for one migration."""

    def __init__(self, testcase, netns, stream_ports):
        self.stream_ports = stream_ports
        self.proc = subprocess.Popen(
            ['ip', 'netns', 'exec', netns, sys.executable, TLSWIRE,
             '--ports', '%d,%d,%s' % (LIBVIRT_TCP_PORT, LIBVIRT_TLS_PORT,
                                      stream_ports),
             '--stream-ports', stream_ports, '--stop-after', '1',
             '--timeout', '300'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        testcase.addCleanup(self._kill)
        ready, _w, _x = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline().strip() if ready else ''
        if line != 'ready':
            self._kill()
            testcase.fail('tlswire.py did not start: %r %s'
                          % (line, self.proc.stderr.read()))

    def finish(self):
        """The connections seen: a list of dicts (see tlswire.py)."""
        out, err = self.proc.communicate(input='', timeout=60)
        if self.proc.returncode:
            raise AssertionError('tlswire.py failed (%s): %s'
                                 % (self.proc.returncode, err))
        return [json.loads(line) for line in out.splitlines() if line]

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def server_port(conn):
    return int(conn['server'].rsplit(':', 1)[1])


class NativeTLSTestCase(test_live_migration.LabTestCase):

    def setUp(self):
        super(NativeTLSTestCase, self).setUp()
        missing = [key for key in ('NOVA_LAB_B_PKI_DIR',
                                   'NOVA_LAB_B_MIGRATION_PORTS')
                   if not self.env.get(key)]
        if missing:
            reason = ('lab.env has no %s: the lab was set up before it made '
                      'TLS certificates; run tools/lab/setup.sh again'
                      % ', '.join(missing))
            if os.environ.get('NOVA_LAB_REQUIRED'):
                self.fail(reason)
            self.skipTest(reason)
        self.pki_b = self.env['NOVA_LAB_B_PKI_DIR']
        self.stream_ports = self.env['NOVA_LAB_B_MIGRATION_PORTS']
        self.flags(live_migration_with_native_tls=True,
                   live_migration_scheme='tls',
                   live_migration_bandwidth=100)

    def watch_wire(self):
        return WireWatch(self, self.b['netns'], self.stream_ports)

    def in_stream_ports(self, conn):
        low, high = (int(p) for p in self.stream_ports.split('-'))
        return low <= server_port(conn) <= high

    def test_migrates_over_tls(self):
        instance = self.boot(metadata=IDLE)
        wire = self.watch_wire()
        result = self.migrate(instance)
        conns = wire.finish()
        self.addDetail('connections', testtools.content.text_content(
            json.dumps(conns, indent=1)))
        self.record('native tls', result, instance)
        self.assertTrue(result.completed, result.error)
        self.assertEqual(['post'], result.calls)
        self.assertEqual((False, True), self.where(instance))

        [line] = [line for line in self.log.output.splitlines()
                  if 'live migration to lab-b' in line.lower()]
        self.assertIn('(qemu+tls://%s/system)' % self.b['addr'], line)
        lv = self.driver_a.host.libvirt
        self.assertTrue(int(line.rsplit('flags ', 1)[1], 16) &
                        lv.VIR_MIGRATE_TLS)

        # libvirt's connection to the destination: TLS on 16514, nothing on
        # the plain port.
        control = [c for c in conns if server_port(c) == LIBVIRT_TLS_PORT]
        self.assertNotEqual([], control, conns)
        for conn in control:
            self.assertEqual(('tls-client-hello', 'tls-server-hello'),
                             (conn['client_kind'], conn['server_kind']), conn)
        self.assertEqual([], [c for c in conns
                              if server_port(c) == LIBVIRT_TCP_PORT])
        # QEMU's stream: a TLS handshake first, never QEMU's clear magic.
        streams = [c for c in conns if self.in_stream_ports(c)]
        self.assertNotEqual([], streams, conns)
        for conn in streams:
            self.assertEqual('tls-client-hello', conn['client_kind'], conn)
        self.assertIn('tls-server-hello',
                      [c['server_kind'] for c in streams])
        self.assertGuestKeepsRunning()

    def test_destination_without_certificates_refuses(self):
        instance = self.boot(metadata=IDLE)
        # lab-b's QEMU loses its certificates (its libvirtd keeps running;
        # QEMU reads them when the migration's TLS object is created).
        qemu_dir = os.path.join(self.pki_b, 'qemu')
        hidden = qemu_dir + '.hidden-by-test'
        os.rename(qemu_dir, hidden)
        self.addCleanup(os.rename, hidden, qemu_dir)
        wire = self.watch_wire()
        result = self.migrate(instance)
        conns = wire.finish()
        self.addDetail('connections', testtools.content.text_content(
            json.dumps(conns, indent=1)))
        self.assertEqual(libvirt_guest.JOB_FAILED, result.job_type)
        self.assertEqual([('recover', 'failed')], result.calls)
        # As measured on libvirt 9.0 / QEMU 7.2: the destination's QEMU
        # refuses when libvirt creates the migration's TLS object.
        self.assertIn('Unable to access credentials /etc/pki/qemu/',
                      str(result.error))
        self.assertEqual((True, False), self.where(instance))
        # Nothing of the guest crossed in clear.
        self.assertEqual([], [c for c in conns
                              if c['client_kind'] == 'qemu-plain'])
        self.assertGuestKeepsRunning()
