"""Domain XML built from plain values."""

import xml.etree.ElementTree as ET

import testtools

from nova.virt.libvirt import config


def cfg(**kw):
    values = dict(name='vm', uuid='u-1', memory_mib=256, vcpus=1,
                  virt_type='qemu',
                  image=config.BootImage('/k', '/i', 'console=ttyS0 quiet'))
    values.update(kw)
    return config.GuestConfig(**values)


class GuestXmlTestCase(testtools.TestCase):

    def test_direct_kernel_boot(self):
        root = ET.fromstring(config.guest_xml(cfg(
            extra_cmdline='dirty_rate=60')))
        self.assertEqual('qemu', root.get('type'))
        self.assertEqual('u-1', root.findtext('uuid'))
        self.assertEqual('256', root.findtext('memory'))
        self.assertEqual('MiB', root.find('memory').get('unit'))
        self.assertEqual('/k', root.findtext('os/kernel'))
        self.assertEqual('/i', root.findtext('os/initrd'))
        self.assertEqual('console=ttyS0 quiet dirty_rate=60',
                         root.findtext('os/cmdline'))
        self.assertEqual('none', root.find('devices/memballoon').get('model'))
        self.assertIsNone(root.find('devices/serial'))

    def test_file_console_appends(self):
        root = ET.fromstring(config.guest_xml(cfg(console_path='/c/u.log')))
        source = root.find('devices/serial/source')
        self.assertEqual(('/c/u.log', 'on'),
                         (source.get('path'), source.get('append')))

    def test_bad_virt_type(self):
        self.assertRaises(ValueError, config.guest_xml, cfg(virt_type='xen'))

    def test_machine_type_pinned(self):
        # A rolling upgrade: the type both the old and the new QEMU have.
        self.assertEqual('pc', ET.fromstring(config.guest_xml(cfg())).find(
            'os/type').get('machine'))
        root = ET.fromstring(config.guest_xml(cfg(
            machine_type='pc-i440fx-7.2')))
        self.assertEqual('pc-i440fx-7.2', root.find('os/type').get('machine'))

    def test_bad_machine_type(self):
        for bad in ('', 'pc i440fx', "pc'><x", 'PC'):
            self.assertRaises(ValueError, config.guest_xml,
                              cfg(machine_type=bad))

    def test_names_are_escaped(self):
        root = ET.fromstring(config.guest_xml(cfg(name='a<b>&"c')))
        self.assertEqual('a<b>&"c', root.findtext('name'))

    def test_workload_cmdline(self):
        self.assertEqual('dirty_mib=64 dirty_rate=20',
                         config.workload_cmdline({'dirty_rate': '20',
                                                  'dirty_mib': 64,
                                                  'other': 'x y'}))
        self.assertEqual('', config.workload_cmdline(None))

    def test_workload_cmdline_rejects_injection(self):
        for bad in ('20 init=/bin/sh', '-1', '', '1e3', '99999999'):
            self.assertRaises(ValueError, config.workload_cmdline,
                              {'dirty_rate': bad})
