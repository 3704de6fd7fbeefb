"""The source compute service says once per migration whether it reaches
the destination's libvirt (post-copy recovery asks it only then)."""

import logging

import fixtures
import testtools

from nova.simulator import libvirt as fakelibvirt
from nova.virt.libvirt import driver as libvirt_driver


class PeerLookLogTestCase(testtools.TestCase):

    def setUp(self):
        super(PeerLookLogTestCase, self).setUp()
        self.hv = fakelibvirt.Hypervisors()
        for name in ('src', 'dest'):
            self.hv.add_host(name)
        self.log = self.useFixture(fixtures.FakeLogger(
            name='nova.virt.libvirt.driver', level=logging.INFO))

    def look(self, uri):
        peer = libvirt_driver._Peer(uri, self.hv.module)
        return peer._seen.wait(timeout=5)

    def test_reachable(self):
        self.assertTrue(self.look('qemu+tcp://dest/system'))
        self.assertIn('Destination libvirt qemu+tcp://dest/system is '
                      'reachable from this compute service', self.log.output)
        self.assertNotIn('not reachable', self.log.output)

    def test_not_reachable(self):
        self.assertFalse(self.look('qemu+tcp://elsewhere/system'))
        self.assertIn('Destination libvirt qemu+tcp://elsewhere/system is '
                      'not reachable from this compute service (',
                      self.log.output)
        self.assertIn('post-copy recovery will not ask it', self.log.output)
