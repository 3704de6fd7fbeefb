import testtools

from nova.virt.libvirt import machine_type


class ParseTestCase(testtools.TestCase):

    def test_entries_per_arch(self):
        self.assertEqual({'x86_64': 'pc-i440fx-7.2', 'aarch64': 'virt-7.2'},
                         machine_type.parse(['x86_64=pc-i440fx-7.2',
                                             ' aarch64 = virt-7.2']))
        self.assertEqual({}, machine_type.parse([]))
        self.assertEqual({}, machine_type.parse(None))

    def test_bad_entries_are_named(self):
        for bad in ('x86_64', 'x86_64:pc', '=pc', 'x86_64=', 'x86_64=p c'):
            exc = self.assertRaises(ValueError, machine_type.parse, [bad])
            self.assertIn(repr(bad), str(exc))

    def test_one_arch_two_types(self):
        self.assertRaises(ValueError, machine_type.parse,
                          ['x86_64=pc-i440fx-7.2', 'x86_64=q35'])


class ForGuestTestCase(testtools.TestCase):

    def test_default_is_pc(self):
        self.assertEqual('pc', machine_type.for_guest('x86_64', []))

    def test_option_pins_the_arch(self):
        self.assertEqual('pc-i440fx-7.2', machine_type.for_guest(
            'x86_64', ['x86_64=pc-i440fx-7.2']))
        self.assertEqual('pc', machine_type.for_guest(
            'x86_64', ['aarch64=virt-7.2']))

    def test_guest_metadata_wins(self):
        self.assertEqual('pc-i440fx-8.2', machine_type.for_guest(
            'x86_64', ['x86_64=pc-i440fx-7.2'],
            {'hw_machine_type': 'pc-i440fx-8.2'}))
        self.assertRaises(ValueError, machine_type.for_guest, 'x86_64', [],
                          {'hw_machine_type': 'pc; reboot'})
