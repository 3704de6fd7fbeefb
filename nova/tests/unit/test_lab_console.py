"""The lab's guest-console verdicts (nova.tests.functional.libvirt.lab).

A guest that restarted after a migration prints a counter that starts from
0 again with no lost write; the check must call that a restart, not a
healthy guest and not a lost write.
"""

import os

import fixtures
import testtools

from nova.tests.functional.libvirt import lab

BOOT = ('LABGUEST init up, kernel 6.1.0-57-amd64, dirty_mib=32 dirty_rate=4 '
        'tlb_kick_ms=20\n'
        'DIRTIER start mib=32 rate=4 tlb_kick_ms=20 touched_in_s=0.1\n')


def report(t, pages, bad=0):
    return 'DIRTIER t=%d pages=%d rate_mib_s=4.0 bad=%d\n' % (t, pages, bad)


class ConsoleVerdictTest(testtools.TestCase):

    def setUp(self):
        super(ConsoleVerdictTest, self).setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'console.log')

    def write(self, text):
        with open(self.path, 'w') as handle:
            handle.write(text)

    def test_counting_on_is_ok(self):
        self.write(BOOT + ''.join(report(t, t * 100) for t in range(3, 15)))
        self.assertEqual(('ok', []),
                         lab.guest_verdict(self.path, {'t': 12}))
        self.assertEqual([], lab.console_restarts(self.path))

    def test_counter_going_down_is_a_restart_not_ok(self):
        # What a fresh clone saw: t=12 before the migration, t=3 after.
        self.write(BOOT + report(11, 1100) + report(12, 1200) +
                   report(3, 300) + report(4, 400))
        verdict, evidence = lab.guest_verdict(self.path, {'t': 2})
        self.assertEqual('restarted', verdict)
        self.assertIn('counter went down: t=12 -> t=3', evidence[0])

    def test_second_banner_is_a_reboot(self):
        self.write(BOOT + report(5, 500) + BOOT + report(3, 300))
        evidence = lab.console_restarts(self.path)
        self.assertIn('guest booted 2 times', evidence[0])
        self.assertIn('guest program started 2 times', evidence[1])

    def test_dirtier_exit_is_a_restart(self):
        self.write(BOOT + report(5, 500) +
                   'LABGUEST dirtier exited with status 139; restarting in '
                   '5 s\n')
        verdict, evidence = lab.guest_verdict(self.path)
        self.assertEqual('restarted', verdict)
        self.assertEqual(['guest program exited: LABGUEST dirtier exited '
                          'with status 139; restarting in 5 s'], evidence)

    def test_lost_write_is_not_a_restart(self):
        self.write(BOOT + report(5, 500) + report(6, 600, bad=3))
        self.assertEqual(('lost-writes', ['bad=3 at t=6']),
                         lab.guest_verdict(self.path))

    def test_no_new_report_is_stuck(self):
        self.write(BOOT + report(5, 500))
        self.assertEqual('stuck',
                         lab.guest_verdict(self.path, {'t': 5})[0])

    def test_oops_is_damage(self):
        self.write(BOOT + report(5, 500) + '[ 9.1] Oops: 0000 [#1] SMP\n'
                   + report(6, 600))
        self.assertEqual('damaged', lab.guest_verdict(self.path)[0])

    def test_soft_lockup_is_damage_unless_the_test_stalled_the_guest(self):
        lockup = ('[   74.15] watchdog: BUG: soft lockup - CPU#0 stuck for '
                  '61s! [dirtier:86]\n')
        self.write(BOOT + report(5, 500) + lockup + report(71, 700))
        self.assertEqual('damaged', lab.guest_verdict(self.path)[0])
        self.assertEqual('damaged',
                         lab.guest_verdict(self.path, stall_s=60)[0])
        self.assertEqual(('ok', []),
                         lab.guest_verdict(self.path, stall_s=70))

    CRASH = ('[   11.167256] BUG: kernel NULL pointer dereference, address: '
             '0000000000000000\n'
             '[   11.191942] Kernel panic - not syncing: Fatal exception in '
             'interrupt\n')

    def test_tcg_kernel_damage_needs_tcg_and_intact_program(self):
        # What CI saw once on QEMU 7.2 TCG: the guest ran on lab-b for 4 s,
        # its program's pages all intact, then the kernel crashed.
        self.write(BOOT + ''.join(report(t, t * 7000) for t in range(1, 10))
                   + self.CRASH)
        self.assertIn('NULL pointer',
                      lab.tcg_kernel_damage(self.path, 'qemu'))
        self.assertIsNone(lab.tcg_kernel_damage(self.path, 'kvm'))

    def test_tcg_kernel_damage_not_with_lost_writes_or_restart(self):
        self.write(BOOT + report(5, 500, bad=3) + self.CRASH)
        self.assertIsNone(lab.tcg_kernel_damage(self.path, 'qemu'))
        self.write(BOOT + report(5, 500) + self.CRASH + BOOT)
        self.assertIsNone(lab.tcg_kernel_damage(self.path, 'qemu'))
        self.write(BOOT + report(5, 500) + 'DIRTIER CORRUPT page 7\n' +
                   self.CRASH)
        self.assertIsNone(lab.tcg_kernel_damage(self.path, 'qemu'))

    def test_soft_lockup_alone_is_not_tcg_damage(self):
        self.write(BOOT + report(5, 500) + '[ 70.1] watchdog: BUG: soft '
                   'lockup - CPU#0 stuck for 61s! [dirtier:85]\n')
        self.assertIsNone(lab.tcg_kernel_damage(self.path, 'qemu'))

    def test_wait_reports_or_crash_skips_on_tcg_damage(self):
        self.write(BOOT + report(5, 500) + self.CRASH)
        case = testtools.TestCase('run')
        self.assertRaises(case.skipException, lab.wait_reports_or_crash,
                          case, self.path, 5, 'qemu', timeout=1)
        # Under KVM the same console is the test's failure.
        self.assertRaises(AssertionError, lab.wait_reports_or_crash,
                          case, self.path, 5, 'kvm', timeout=0.2)


class KeepLogsTest(testtools.TestCase):

    def test_failure_attaches_console_and_logs(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        log_dir = os.path.join(tmp, 'lab-a', 'log')
        os.makedirs(os.path.join(log_dir, 'qemu'))
        with open(os.path.join(log_dir, 'libvirtd.log'), 'w') as handle:
            handle.write('before the test\n')
        console = os.path.join(tmp, 'guest.log')
        with open(console, 'w') as handle:
            handle.write(BOOT)
        env = {'NOVA_LAB_A_LOG_DIR': log_dir}

        class Failing(testtools.TestCase):
            def test_it(inner):
                lab.keep_logs_on_failure(inner, env, lambda: [console])
                with open(os.path.join(log_dir, 'libvirtd.log'), 'a') as h:
                    h.write('error : during the test\n')
                with open(os.path.join(log_dir, 'qemu', 'dom.log'),
                          'w') as h:
                    h.write('qemu said something\n')
                inner.fail('boom')

        case = Failing('test_it')
        result = testtools.TestResult()
        case.run(result)
        self.assertEqual(1, len(result.failures))
        details = case.getDetails()
        self.assertIn('LABGUEST init up',
                      details['console guest.log'].as_text())
        self.assertEqual('error : during the test',
                         details['lab-a libvirtd.log'].as_text())
        self.assertEqual('qemu said something',
                         details['lab-a qemu dom.log'].as_text())
