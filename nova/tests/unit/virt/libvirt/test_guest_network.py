"""A guest's NIC: metadata net_ip, the domain XML's bridge interface, and
the driver's spawn with and without [libvirt] guest_bridge."""

import xml.etree.ElementTree as ET

from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova import exception
from nova.objects import instance as instance_obj
from nova.simulator import libvirt as fakelibvirt
from nova.virt import image
from nova.virt.libvirt import config
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host

UUID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'


def cfg(**kw):
    values = dict(name='vm', uuid=UUID, memory_mib=256, vcpus=1,
                  virt_type='qemu', image=config.BootImage('/k', '/i'))
    values.update(kw)
    return config.GuestConfig(**values)


class NetworkAddressTestCase(testtools.TestCase):

    def test_absent_or_empty(self):
        self.assertIsNone(image.network_address(None))
        self.assertIsNone(image.network_address({'dirty_rate': '3'}))
        self.assertIsNone(image.network_address({'net_ip': ' '}))

    def test_address_with_prefix_reaches_the_cmdline(self):
        self.assertEqual('198.18.0.100/24', image.network_address(
            {'net_ip': ' 198.18.0.100/24 '}))
        self.assertEqual('dirty_rate=60 net_ip=198.18.0.100/24',
                         image.workload_cmdline({'dirty_rate': '60',
                                                 'net_ip': '198.18.0.100/24'}))

    def test_rejected(self):
        for bad in ('198.18.0.100', '198.18.0.0/24', '198.18.0.255/24',
                    '198.18.0.100/33', 'fe80::1/64', 'a.b.c.d/24',
                    '198.18.0.100/24 init=/bin/sh', '198.18.0.100/24\n'
                    'x=1'):
            self.assertRaises(ValueError, image.network_address,
                              {'net_ip': bad})
            self.assertRaises(ValueError, image.workload_cmdline,
                              {'net_ip': bad})


class InterfaceXmlTestCase(testtools.TestCase):

    def test_no_nic_by_default(self):
        root = ET.fromstring(config.guest_xml(cfg()))
        self.assertIsNone(root.find('devices/interface'))

    def test_bridge_interface(self):
        nic = config.GuestInterface(bridge='br-lab',
                                    mac=config.guest_mac(UUID))
        root = ET.fromstring(config.guest_xml(cfg(interfaces=(nic,))))
        [iface] = root.findall('devices/interface')
        self.assertEqual('bridge', iface.get('type'))
        self.assertEqual('br-lab', iface.find('source').get('bridge'))
        self.assertEqual('virtio', iface.find('model').get('type'))
        self.assertEqual('52:54:00:3f:25:04',
                         iface.find('mac').get('address'))

    def test_bad_values(self):
        for nic in (config.GuestInterface('br-lab', '52:54:00:3F:25'),
                    config.GuestInterface('br lab', '52:54:00:3f:25:04'),
                    config.GuestInterface('a-very-long-bridge-name',
                                          '52:54:00:3f:25:04'),
                    config.GuestInterface('br-lab', '52:54:00:3f:25:04',
                                          model='ne2k"')):
            self.assertRaises(ValueError, config.guest_xml,
                              cfg(interfaces=(nic,)))


class SpawnTestCase(testtools.TestCase):

    def setUp(self):
        super(SpawnTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt', virt_type='qemu')
        self.hv = fakelibvirt.Hypervisors()
        self.hv.add_host('a')
        host = libvirt_host.Host(self.hv.uri('a'),
                                 libvirt_module=self.hv.module,
                                 event_loop=False)
        self.driver = libvirt_driver.LibvirtDriver(host=host,
                                                   clock=self.hv.clock)
        self.image = config.BootImage('/k', '/i')

    def instance(self, metadata):
        return instance_obj.Instance(uuid=UUID, name='vm1', memory_mb=256,
                                     metadata=metadata)

    def test_net_ip_gives_a_nic_on_the_bridge(self):
        self.conf.config(group='libvirt', guest_bridge='br-lab')
        guest = self.driver.spawn(None, self.instance(
            {'net_ip': '198.18.0.100/24'}), self.image)
        root = ET.fromstring(guest.get_xml_desc())
        [iface] = root.findall('devices/interface')
        self.assertEqual('br-lab', iface.find('source').get('bridge'))
        self.assertIn('net_ip=198.18.0.100/24', root.findtext('os/cmdline'))

    def test_no_net_ip_no_nic(self):
        self.conf.config(group='libvirt', guest_bridge='br-lab')
        guest = self.driver.spawn(None, self.instance({}), self.image)
        self.assertNotIn('<interface', guest.get_xml_desc())

    def test_net_ip_without_bridge_fails_before_libvirt(self):
        self.assertRaises(exception.InternalError, self.driver.spawn, None,
                          self.instance({'net_ip': '198.18.0.100/24'}),
                          self.image)
        self.assertEqual([], self.driver.list_instance_uuids())
