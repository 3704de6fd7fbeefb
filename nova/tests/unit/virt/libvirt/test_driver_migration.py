"""Live migrations through the real driver code on the fake hypervisor.

Each scenario runs ``LibvirtDriver.live_migration`` with its monitor loop
against the QEMU migration model on a virtual clock, and checks the
outcome, the flags given to libvirt, the Migration record and what the
guest went through. Virtual time makes every number exact.
"""

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from nova.compute import power_state
import nova.conf
from nova import exception
from nova.objects import instance as instance_obj
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.bench import scenario
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host

C = fakelibvirt.C
MiB = migration_model.MiB
BASE_FLAGS = (C.VIR_MIGRATE_LIVE | C.VIR_MIGRATE_PEER2PEER |
              C.VIR_MIGRATE_PERSIST_DEST | C.VIR_MIGRATE_UNDEFINE_SOURCE)
# A guest dirtying 150 MiB/s of a 256 MiB working set over a 100 MiB/s
# link: pre-copy alone can never finish.
BUSY = dict(memory_mib=1024, dirty_mib_s=150.0, working_set_mib=256,
            link_mib_s=100.0)


def force_complete_at(ctx):
    ctx['driver'].live_migration_force_complete(ctx['instance'])


def abort_at(ctx):
    ctx['driver'].live_migration_abort(ctx['instance'])


class ScenarioBase(testtools.TestCase):
    """Options, the scenario runner and assertions on where the guest is."""

    def setUp(self):
        super(ScenarioBase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.log = self.useFixture(fixtures.FakeLogger(
            level='DEBUG', format='%(levelname)s %(message)s'))

    def flags(self, **kw):
        for name, value in kw.items():
            self.conf.config(group='libvirt', **{name: value})

    def run_scenario(self, **kw):
        hook = kw.pop('driver_hook', None)

        def remember(ctx):
            self._last_dom = ctx['dom']
            if hook:
                hook(ctx)
        return scenario.run(self.conf.conf, driver_hook=remember, **kw)

    def assertOnSourceRunning(self, out):
        self.assertEqual(['src'], out.host_of_guest())
        dom = out.domain('src')
        self.assertEqual(C.VIR_DOMAIN_RUNNING, dom.state_value[0])
        self.assertGreater(dom.workload.rate_at(0) if dom.workload.dirty_rate
                           else 1, 0)

    def assertOnDestination(self, out):
        self.assertEqual(['dest'], out.host_of_guest())
        self.assertEqual(C.VIR_DOMAIN_RUNNING,
                         out.domain('dest').state_value[0])

    def max_throttle(self, out):
        return max(s.throttle for s in out.job.samples)

    # -- the scenarios of the blueprint -----------------------------------


class MigrationScenarioTestCase(ScenarioBase):

    def test_idle_guest_completes_in_precopy(self):
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=0)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(BASE_FLAGS, out.flags)
        self.assertEqual([('post', 'dest')], out.callbacks)
        self.assertOnDestination(out)
        self.assertEqual(0, self.max_throttle(out))
        self.assertIsNone(out.job.postcopy_started_at)
        self.assertEqual([], out.actions('postcopy'))
        # 1 GiB at 100 MiB/s after 0.2 s of set-up.
        self.assertAlmostEqual(10.44, out.job.elapsed, delta=0.1)
        self.assertEqual('completed', out.migration.status)
        self.assertEqual('completed', out.statuses[-1])
        self.assertEqual({'running'}, set(out.statuses[:-1]))
        self.assertEqual(1024 * MiB, out.migration.memory_total)
        self.assertEqual(0, out.migration.memory_remaining)
        self.assertEqual(100, out.instance.progress)

    def test_busy_guest_nothing_permitted_times_out(self):
        self.flags(live_migration_completion_timeout=30)
        out = self.run_scenario(**BUSY)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'failed')], out.callbacks)
        self.assertEqual('failed', out.migration.status)
        self.assertOnSourceRunning(out)
        # 1 GiB counts as 2 GiB: 60 s, acted on at the first poll after it
        # (polls every 0.5 s from the pass-1 event; timed from the first
        # sample of a running job).
        [(when, _name, reason)] = out.actions('abort')
        self.assertEqual(60.1, when)
        self.assertEqual('completion timeout reached', reason)
        self.assertEqual(0, self.max_throttle(out))
        self.assertGreater(out.job.iteration, 10)
        self.assertEqual(migration_model.PHASE_CANCELLED, out.job.phase)
        # The guest kept dirtying memory all along.
        self.assertEqual(0.0, out.job.guest_stopped_time)

    def test_auto_converge_throttles_in_steps_and_completes(self):
        self.flags(live_migration_permit_auto_converge=True)
        out = self.run_scenario(**BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_AUTO_CONVERGE, out.flags)
        self.assertOnDestination(out)
        throttles = sorted({s.throttle for s in out.job.samples})
        self.assertEqual([0, 20, 30, 40], throttles[:4])
        self.assertTrue(all(b - a == 10 for a, b in
                            zip(throttles[1:], throttles[2:])))
        self.assertEqual([], out.actions('postcopy'))
        self.assertLess(out.job.downtime, 0.5 + 0.03 + 1e-9)

    def test_postcopy_switches_automatically_when_progress_stalls(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(**BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_POSTCOPY, out.flags)
        self.assertOnDestination(out)
        [(when, _name, reason)] = out.actions('postcopy')
        # Pass 1 (1 GiB) ends at 10.44 s; pass 2 sets out to send the
        # whole 256 MiB working set, a quarter of pass 1: pre-copy is
        # predicted slower than post-copy, and 500 ms of downtime cannot
        # carry it. Two polls in pass 2 see it; the monitor switches then.
        self.assertIn('pre-copy predicted slower than post-copy: pass 2',
                      reason)
        self.assertLess(when, 12)
        self.assertIsNotNone(out.job.postcopy_started_at)
        # Down only for the device-state switch.
        self.assertEqual(out.hypervisors.default_link.device_state_time,
                         out.job.downtime)
        self.assertIn('running (post-copy)', out.statuses)
        self.assertEqual(0, self.max_throttle(out))

    def test_postcopy_switch_from_dirty_rate(self):
        # A working set as large as RAM: no pass ever ends quickly, but
        # libvirt's dirty rate already shows pre-copy cannot win.
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=400,
                                working_set_mib=512, link_mib_s=100)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        [(_when, _name, reason)] = out.actions('postcopy')
        self.assertTrue('dirties' in reason or 'less' in reason, reason)

    def test_both_permitted_postcopy_wins(self):
        self.flags(live_migration_permit_post_copy=True,
                   live_migration_permit_auto_converge=True)
        out = self.run_scenario(**BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_POSTCOPY, out.flags)
        self.assertFalse(out.flags & C.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertIn('auto-converge not requested: post-copy is permitted '
                      'and available', self.log.output)
        self.assertEqual(0, self.max_throttle(out))
        self.assertEqual(1, len(out.actions('postcopy')))

    def test_force_complete_with_postcopy_switches(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=50,
                                working_set_mib=1024,
                                at=[(3.0, force_complete_at)])
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        [(when, _name, reason)] = out.actions('postcopy')
        self.assertEqual('requested by operator', reason)
        self.assertLessEqual(when, 3.5)
        self.assertOnDestination(out)

    def test_force_complete_without_postcopy_pauses(self):
        out = self.run_scenario(at=[(12.0, force_complete_at)], **BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        [(when, _name, reason)] = out.actions('pause')
        self.assertEqual('requested by operator', reason)
        self.assertIsNone(out.job.postcopy_started_at)
        self.assertFalse(out.flags & C.VIR_MIGRATE_POSTCOPY)
        self.assertOnDestination(out)
        self.assertGreater(out.job.guest_stopped_time, 0.5)
        self.assertIn('paused', [what for _t, what in
                                 out.domain('dest').history] +
                      [what for _t, what in
                       out.hypervisors.hosts['src'].world.migrations[0][0]
                       .history])

    def test_failure_after_pause_resumes_guest_on_source(self):
        def break_link(ctx):
            ctx['dom'].job.fail('Unable to write to socket: Broken pipe')

        out = self.run_scenario(
            at=[(12.0, force_complete_at), (12.6, break_link)], **BUSY)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'failed')], out.callbacks)
        self.assertEqual(1, len(out.actions('pause')))
        self.assertOnSourceRunning(out)
        history = [what for _t, what in out.domain('src').history]
        self.assertEqual(['paused', 'resumed'],
                         [h for h in history if h in ('paused', 'resumed')])

    def test_abort_cancels_guest_stays(self):
        out = self.run_scenario(at=[(5.0, abort_at)], **BUSY)
        self.assertEqual(libvirt_guest.JOB_CANCELLED, out.job_type)
        self.assertEqual([('recover', 'cancelled')], out.callbacks)
        self.assertEqual('cancelled', out.migration.status)
        self.assertOnSourceRunning(out)

    def test_abort_refused_in_postcopy(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(
            memory_mib=1024, dirty_mib_s=50, working_set_mib=1024,
            at=[(3.0, force_complete_at), (4.0, abort_at)])
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([], out.actions('abort'))
        self.assertIn('abort refused: the migration is in post-copy',
                      self.log.output)

    def test_timeout_action_force_complete_uses_postcopy(self):
        self.flags(live_migration_permit_post_copy=True,
                   live_migration_completion_timeout=2,
                   live_migration_timeout_action='force_complete')
        # Converges slowly by itself; the timeout (4 s) comes first.
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=20,
                                working_set_mib=1024)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        [(when, _name, reason)] = out.actions('postcopy')
        self.assertEqual('completion timeout reached', reason)
        self.assertEqual(4.2, when)

    def test_timeout_action_force_complete_pauses_without_postcopy(self):
        self.flags(live_migration_completion_timeout=10,
                   live_migration_timeout_action='force_complete')
        out = self.run_scenario(**BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        [(when, _name, reason)] = out.actions('pause')
        self.assertEqual(20.2, when)
        self.assertOnDestination(out)

    def test_refused_timeout_action_is_retried(self):
        self.flags(live_migration_completion_timeout=10)

        def flaky_abort(ctx):
            dom = ctx['dom']
            real_abort = dom.abortJob
            calls = []

            def abort_job():
                calls.append(1)
                if len(calls) == 1:
                    raise fakelibvirt.libvirtError('Timed out during '
                                                   'operation')
                return real_abort()
            dom.abortJob = abort_job

        out = self.run_scenario(driver_hook=flaky_abort, **BUSY)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        [(when, _name, _reason)] = out.actions('abort')
        self.assertEqual(20.7, when)
        self.assertIn('Live migration action abort (completion timeout '
                      'reached) failed', self.log.output)

    def test_monitor_failure_cancels_the_migration(self):
        def break_job_stats(ctx):
            calls = []
            real = ctx['dom'].jobStats

            def job_stats(flags=0):
                if ctx['dom'].job_begun:
                    calls.append(1)
                if len(calls) > 3:
                    raise fakelibvirt.libvirtError('internal error: '
                                                   'connection lost')
                return real(flags)
            ctx['dom'].jobStats = job_stats

        self.assertRaises(fakelibvirt.libvirtError, self.run_scenario,
                          driver_hook=break_job_stats, **BUSY)
        self.assertIn('Live migration monitor failed', self.log.output)
        self.assertIn('job aborted', [what for _t, what in
                                      self._last_dom.history])
        self.assertEqual(C.VIR_DOMAIN_RUNNING, self._last_dom.state_value[0])

    def test_progress_timeout(self):
        self.flags(live_migration_progress_timeout=15,
                   live_migration_completion_timeout=0)
        out = self.run_scenario(**BUSY)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        [(when, _name, reason)] = out.actions('abort')
        self.assertEqual('progress timeout reached', reason)
        # Pass 1 ends at 10.44 s; during pass 2 QEMU's first dirty rate
        # (averaged over pass 1) still understates the guest, so pending
        # falls until ~13 s; from pass 3 on it stays flat at the working
        # set. 15 s later the monitor acts.
        self.assertGreaterEqual(when, 25.5)
        self.assertLessEqual(when, 29.0)
        self.assertEqual(migration_model.PHASE_CANCELLED, out.job.phase)

    def test_progress_timeout_does_not_fire_while_converging(self):
        self.flags(live_migration_progress_timeout=5)
        out = self.run_scenario(memory_mib=4096, dirty_mib_s=30,
                                working_set_mib=4096, link_mib_s=100)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([], out.actions('abort'))

    def test_downtime_ladder_values_and_timing(self):
        self.flags(live_migration_downtime=400,
                   live_migration_downtime_steps=4,
                   live_migration_downtime_delay=3)
        out = self.run_scenario(**BUSY)    # fails at the 1600 s timeout
        dom = out.domain('src')
        steps = [(t, what) for t, what in dom.history
                 if what.startswith('max down')]
        steps = [(round(t - steps[0][0], 1), what) for t, what in steps]
        # data_gb = 2 (1 GiB counts as 2): one rung every 6 s, each set at
        # the first poll after its time (within the 0.5 s poll interval).
        self.assertEqual(['max downtime 100 ms', 'max downtime 175 ms',
                          'max downtime 250 ms', 'max downtime 325 ms',
                          'max downtime 400 ms'], [w for _t, w in steps])
        for rung, (when, _what) in enumerate(steps):
            self.assertGreaterEqual(when, 6.0 * rung)
            self.assertLessEqual(when, 6.0 * rung + 0.5)

    def test_rising_downtime_lets_a_marginal_guest_finish(self):
        # Each pass leaves ~40 MiB: above 100 MiB/s * 300 ms, below 500 ms.
        self.flags(live_migration_downtime_delay=3)
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=140,
                                working_set_mib=40)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertGreater(out.state.downtime_step, 3)
        self.assertGreater(out.job.downtime, 0.3)

    def driver_on(self, lib_version, hv_version):
        """A driver on one fake host with these libvirt/QEMU versions."""
        hv_set = fakelibvirt.Hypervisors(lib_version=lib_version,
                                         hv_version=hv_version)
        hv_set.add_host('src')
        return libvirt_driver.LibvirtDriver(
            host=libvirt_host.Host(hv_set.uri('src'),
                                   libvirt_module=hv_set.module,
                                   event_loop=False),
            conf=self.conf.conf, clock=hv_set.clock)

    def test_init_host_refuses_hypervisors_below_the_minimum(self):
        for lib, hv in ((7010000, 7002000), (9000000, 6001000)):
            error = self.assertRaises(exception.InternalError,
                                      self.driver_on(lib, hv).init_host,
                                      'src')
            self.assertIn('needs libvirt >= 8.0.0 and QEMU >= 6.2.0',
                          str(error))

    def test_init_host_accepts_the_minimum(self):
        self.driver_on(8000000, 6002000).init_host('src')

    def test_tunnelled_never_postcopy(self):
        self.flags(live_migration_permit_post_copy=True,
                   live_migration_tunnelled=True,
                   live_migration_permit_auto_converge=True)
        out = self.run_scenario(memory_mib=512)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_TUNNELLED |
                         C.VIR_MIGRATE_AUTO_CONVERGE, out.flags)
        self.assertIn('post-copy not used: live_migration_tunnelled is set',
                      self.log.output)

    def test_bandwidth_and_uri_params(self):
        self.flags(live_migration_bandwidth=50)
        out = self.run_scenario(memory_mib=512, link_mib_s=1000)
        self.assertEqual({'bandwidth': 50}, out.params)
        self.assertAlmostEqual(512 / 50.0 + 0.2, out.job.elapsed, delta=0.1)

    def test_parallel_connections_fill_a_link_one_stream_cannot(self):
        # One migration thread pushes 40 MiB/s over a 100 MiB/s link.
        slow = self.run_scenario(memory_mib=512, per_stream_mib_s=40)
        self.flags(live_migration_parallel_connections=4)
        fast = self.run_scenario(memory_mib=512, per_stream_mib_s=40)
        self.assertEqual({}, slow.params)
        self.assertEqual({'parallel.connections': 4}, fast.params)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_PARALLEL, fast.flags)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, fast.job_type)
        self.assertOnDestination(fast)
        self.assertAlmostEqual(512 / 40.0 + 0.2, slow.job.elapsed, delta=0.1)
        self.assertAlmostEqual(512 / 100.0 + 0.2, fast.job.elapsed,
                               delta=0.1)

    def test_parallel_connections_give_way_to_postcopy_on_old_qemu(self):
        self.flags(live_migration_parallel_connections=4,
                   live_migration_permit_post_copy=True)
        out = self.run_scenario(memory_mib=512)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_POSTCOPY, out.flags)
        self.assertEqual({}, out.params)
        self.assertIn('4 parallel connections not used: post-copy is '
                      'permitted and wins', self.log.output)

    def test_parallel_connections_with_postcopy_on_qemu_10_1(self):
        self.flags(live_migration_parallel_connections=2,
                   live_migration_permit_post_copy=True)
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=150,
                                hv_version=10001000)
        self.assertEqual(BASE_FLAGS | C.VIR_MIGRATE_POSTCOPY |
                         C.VIR_MIGRATE_PARALLEL, out.flags)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertTrue(out.actions('postcopy'))

    def test_legacy_job_info_still_completes(self):
        out = self.run_scenario(memory_mib=512, no_job_stats=True)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(512 * MiB, out.migration.memory_total)

    def test_unreachable_destination_fails_cleanly(self):
        out = self.run_scenario(memory_mib=512, dest='nowhere')
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'failed')], out.callbacks)
        self.assertOnSourceRunning(out)

    def test_invalid_destination_name_never_reaches_libvirt(self):
        hooked = []
        exc = self.assertRaises(
            exception.MigrationPreCheckError, self.run_scenario,
            memory_mib=512, dest='dest@evil',
            driver_hook=lambda ctx: hooked.append(ctx['hv']))
        self.assertIn("character '@' is not allowed", str(exc))
        [hv] = hooked
        self.assertEqual([], hv.migrations)
        dom = list(hv.hosts['src'].domains.values())[0]
        self.assertEqual(C.VIR_DOMAIN_RUNNING, dom.state_value[0])

    def test_phased_workload_postcopy_only_when_needed(self):
        # Quiet guest that would converge: no switch although permitted.
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=10,
                                working_set_mib=64)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([], out.actions('postcopy'))
        self.assertIsNone(out.job.postcopy_started_at)


class DriverRequestsTestCase(testtools.TestCase):
    """Force-complete and abort without a migration in progress."""

    def setUp(self):
        super(DriverRequestsTestCase, self).setUp()
        hv = fakelibvirt.Hypervisors()
        hv.add_host('src')
        host = libvirt_host.Host(hv.uri('src'), libvirt_module=hv.module,
                                 event_loop=False)
        self.driver = libvirt_driver.LibvirtDriver(host=host, clock=hv.clock)
        self.instance = instance_obj.Instance(uuid='u-1', memory_mb=512)

    def test_force_complete_without_migration(self):
        exc = self.assertRaises(exception.NoActiveMigrationForInstance,
                                self.driver.live_migration_force_complete,
                                self.instance)
        self.assertEqual(409, exc.code)
        self.assertIn('u-1', str(exc))

    def test_abort_without_migration(self):
        self.assertRaises(exception.NoActiveMigrationForInstance,
                          self.driver.live_migration_abort, self.instance)


class DriverLifecycleTestCase(testtools.TestCase):
    """spawn, destroy and the destination-side steps on the fake."""

    def setUp(self):
        super(DriverLifecycleTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.conf.config(group='libvirt', virt_type='qemu',
                         guest_console_dir='/shared/consoles/',
                         live_migration_inbound_addr='198.18.0.2')
        self.hv = fakelibvirt.Hypervisors()
        self.hv.add_host('a')
        host = libvirt_host.Host(self.hv.uri('a'), libvirt_module=self.hv.module,
                                 event_loop=False)
        self.driver = libvirt_driver.LibvirtDriver(host=host,
                                                   clock=self.hv.clock)
        self.instance = instance_obj.Instance(
            uuid='11111111-2222-3333-4444-555555555555', name='vm1',
            memory_mb=256, metadata={'dirty_rate': '30'})
        from nova.virt.libvirt import config as libvirt_config
        self.image = libvirt_config.BootImage('/k', '/i')

    def test_spawn_and_destroy(self):
        guest = self.driver.spawn(None, self.instance, self.image)
        self.assertTrue(guest.is_active())
        xml = guest.get_xml_desc()
        self.assertIn('dirty_rate=30', xml)
        self.assertIn('/shared/consoles/%s.log' % self.instance.uuid, xml)
        self.assertEqual([self.instance.uuid],
                         self.driver.list_instance_uuids())
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_power_state(self.instance))
        self.assertTrue(self.driver.destroy(None, self.instance))
        self.assertEqual([], self.driver.list_instance_uuids())
        self.assertFalse(self.driver.destroy(None, self.instance))
        self.assertEqual(power_state.NOSTATE,
                         self.driver.get_power_state(self.instance))

    def test_spawn_pins_the_machine_type(self):
        # Plain pc by default; the option for the architecture; the
        # guest's own hw_machine_type over both.
        self.assertIn('machine="pc"', self.driver.spawn(
            None, self.instance, self.image).get_xml_desc())
        self.driver.destroy(None, self.instance)
        self.conf.config(group='libvirt',
                         hw_machine_type=['x86_64=pc-i440fx-7.2'])
        self.assertIn('machine="pc-i440fx-7.2"', self.driver.spawn(
            None, self.instance, self.image).get_xml_desc())
        self.driver.destroy(None, self.instance)
        self.instance.metadata = {'hw_machine_type': 'pc-i440fx-8.2'}
        self.assertIn('machine="pc-i440fx-8.2"', self.driver.spawn(
            None, self.instance, self.image).get_xml_desc())

    def test_pre_live_migration_reports_inbound_addr(self):
        data = self.driver.pre_live_migration(None, self.instance)
        self.assertEqual('198.18.0.2', data.target_connect_addr)

    def test_post_at_destination_requires_the_guest(self):
        self.assertRaises(exception.LiveMigrationFailed,
                          self.driver.post_live_migration_at_destination,
                          None, self.instance)
        self.driver.spawn(None, self.instance, self.image)
        self.assertEqual(power_state.RUNNING,
                         self.driver.post_live_migration_at_destination(
                             None, self.instance))

    def test_rollback_at_destination_keeps_a_running_guest(self):
        guest = self.driver.spawn(None, self.instance, self.image)
        self.driver.rollback_live_migration_at_destination(None,
                                                           self.instance)
        self.assertEqual([self.instance.uuid],
                         self.driver.list_instance_uuids())
        guest.destroy()
        self.driver.rollback_live_migration_at_destination(None,
                                                           self.instance)
        self.assertEqual([], self.driver.list_instance_uuids())

    def test_power_state_of_a_guest_that_leaves_while_asked(self):
        dom = self.hv.define_guest('a', 'vanishing', 256)
        instance = instance_obj.Instance(uuid=dom.UUIDString())
        real_state = dom.state

        def gone(flags=0):
            self.hv.hosts['a'].domains.pop(dom.UUIDString())
            return real_state(flags)
        dom.state = gone
        self.assertEqual(power_state.NOSTATE,
                         self.driver.get_power_state(instance))

    def test_available_resource(self):
        res = self.driver.get_available_resource()
        self.assertEqual('a', res['hypervisor_hostname'])
        self.assertEqual(7002000, res['hypervisor_version'])
        self.assertEqual(4, res['vcpus'])


class MonitorIntervalTestCase(testtools.TestCase):
    """[libvirt] live_migration_monitor_interval sets how often stats land."""

    def setUp(self):
        super(MonitorIntervalTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))

    def saves(self, interval):
        self.conf.config(group='libvirt',
                         live_migration_monitor_interval=interval)
        out = scenario.run(self.conf.conf, memory_mib=1024, dirty_mib_s=0,
                           link_mib_s=100)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        # 'running' at start, stats saves, the final save, 'completed'.
        return len(out.statuses) - 3

    def test_interval_sets_the_number_of_saves(self):
        # The job runs 10.44 s: saved at its first poll (set-up zeros), at
        # its first real figures (0.2 s), then every interval after that.
        self.assertEqual(4, self.saves(5))     # at 0, 0.2, 5.2, 10.2 s
        self.assertEqual(12, self.saves(1))    # at 0, 0.2, 1.2, ... 10.2 s

    def test_minimum_is_one_second(self):
        self.assertRaises(ValueError, self.conf.config, group='libvirt',
                          live_migration_monitor_interval=0)


NO_RAM_INFO = 'internal error: migration was active, but no RAM info was set'
LOCK_TIMEOUT = ('Timed out during operation: cannot acquire state change '
                'lock (held by monitor=remoteDispatchDomainGetJobStats)')


class MonitorDefectsTestCase(ScenarioBase):
    """Defects upstream Nova learned the hard way, each on the simulator."""

    def test_transient_stats_errors_never_end_a_healthy_migration(self):
        # libvirt's "no RAM info" at both edges of the job and a job-lock
        # timeout in the middle: "no sample this poll", never "finished".
        faults = [(0.0, 0.6, C.VIR_ERR_INTERNAL_ERROR, NO_RAM_INFO),
                  (5.0, 6.5, C.VIR_ERR_OPERATION_TIMEOUT, LOCK_TIMEOUT),
                  (9.8, 11.0, C.VIR_ERR_INTERNAL_ERROR, NO_RAM_INFO)]
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=0,
                                stats_faults=faults)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([('post', 'dest')], out.callbacks)
        self.assertEqual([], out.state.actions)
        self.assertNotIn('job aborted', [w for _t, w in
                                         self._last_dom.history])
        self.assertEqual('completed', out.migration.status)
        self.assertEqual(1024 * MiB, out.migration.memory_processed)

    def test_unknown_stats_error_still_fails_the_monitor(self):
        faults = [(2.0, 99.0, C.VIR_ERR_INTERNAL_ERROR, 'internal error: '
                   'connection lost')]
        self.assertRaises(fakelibvirt.libvirtError, self.run_scenario,
                          memory_mib=1024, dirty_mib_s=0,
                          stats_faults=faults)
        self.assertIn('job aborted', [w for _t, w in self._last_dom.history])
        self.assertEqual(C.VIR_DOMAIN_RUNNING, self._last_dom.state_value[0])

    def test_setup_phase_is_not_a_progress_baseline(self):
        # QEMU sets up for 3 s (libvirt reports zeros), then an idle 4 GiB
        # guest copies at full speed for 41 s: never stalled.
        self.flags(live_migration_progress_timeout=5,
                   live_migration_completion_timeout=0)
        out = self.run_scenario(memory_mib=4096, dirty_mib_s=0,
                                setup_time=3.0)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([], out.actions('abort'))
        zeros = [i for _t, i in out.state.samples if i.data_total == 0]
        self.assertGreater(len(zeros), 3)

    def test_abort_and_force_complete_in_one_poll_abort_wins(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(at=[(3.0, force_complete_at),
                                    (3.0, abort_at)], **BUSY)
        self.assertEqual(libvirt_guest.JOB_CANCELLED, out.job_type)
        self.assertEqual([('recover', 'cancelled')], out.callbacks)
        self.assertEqual(['abort'], [a[1] for a in out.state.actions])
        self.assertOnSourceRunning(out)
        self.assertIsNone(out.job.postcopy_started_at)

    def test_unconfirmed_postcopy_failure_is_a_plain_failure(self):
        # libvirt accepted the switch request but QEMU never switched; then
        # the link fails. The guest never left: 'failed', no recovery, no
        # 'error', no post-copy status.
        self.flags(live_migration_permit_post_copy=True)

        def inert_switch(ctx):
            ctx['dom'].migrateStartPostCopy = lambda flags=0: None

        out = self.run_scenario(
            driver_hook=inert_switch, at=[(3.0, force_complete_at),
                                          (5.0, lambda ctx: ctx[
                                              'hv'].set_link_up(False))],
            **BUSY)
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'failed')], out.callbacks)
        self.assertEqual(['postcopy'], [a[1] for a in out.state.actions])
        self.assertFalse(out.state.postcopy_active)
        self.assertNotIn('running (post-copy)', out.statuses)
        self.assertNotIn('error', out.statuses)
        self.assertOnSourceRunning(out)

    def test_bandwidth_dip_does_not_switch_to_postcopy(self):
        # 10 MiB/s dirtied over 100 MiB/s converges quickly; for 4 s the
        # link carries 10 MiB/s (dirty rate above 90% of it): the link
        # looks down, so no switch; once it recovers the migration
        # converges.
        self.flags(live_migration_permit_post_copy=True)
        workload = dict(memory_mib=1024, dirty_mib_s=10.0,
                        working_set_mib=512, link_mib_s=100.0)
        dip = [(10.6, scenario.set_link_rate(10)),
               (15.0, scenario.set_link_rate(100))]
        out = self.run_scenario(at=dip, **workload)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([], out.actions('postcopy'))
        self.assertIsNone(out.job.postcopy_started_at)
        # Without the guard the same dip switches: the test can fail.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.migration.LINK_OK_FRACTION', 0.0))
        out = self.run_scenario(at=dip, **workload)
        self.assertEqual(1, len(out.actions('postcopy')))

    def test_unknown_memory_size_migrates(self):
        def no_memory(ctx):
            ctx['instance'].memory_mb = None

        out = self.run_scenario(memory_mib=512, driver_hook=no_memory)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(512 * MiB, out.migration.memory_total)
        self.assertEqual(100, out.instance.progress)

    def test_without_iteration_events_passes_come_from_polls(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(iteration_events=False, **BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(1, len(out.actions('postcopy')))

    def test_iteration_events_place_pass_boundaries(self):
        announced = []
        real = migration_model.MigrationModel._sync_bitmap

        def spy(model, now=None):
            real(model, now)
            announced.append(round(model.elapsed, 2))

        self.useFixture(fixtures.MonkeyPatch(
            'nova.simulator.migration_model.MigrationModel._sync_bitmap',
            spy))
        out = self.run_scenario(memory_mib=1024, dirty_mib_s=60.0,
                                working_set_mib=512)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        # The loop woke on each new pass: a sample within one 0.1 s slice
        # of every announced boundary.
        times = [t for t, _i in out.state.samples]
        for boundary in announced[:3]:
            self.assertTrue(any(0 <= t - boundary <= 0.1 + 1e-6
                                for t in times), (boundary, times[:40]))

    def test_bandwidth_also_caps_postcopy(self):
        self.flags(live_migration_permit_post_copy=True,
                   live_migration_bandwidth=50)
        out = self.run_scenario(at=[(3.0, force_complete_at)], **BUSY)
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(50, out.params['bandwidth.postcopy'])
        self.assertEqual(50 * MiB, out.job.postcopy_bandwidth)
        # What was left after the switch moved at 50 MiB/s, not at the
        # 100 MiB/s the link could carry.
        after = out.job.elapsed - out.job.postcopy_started_at
        self.assertGreater(after, 0.9 * (1024 - 300) / 50.0)

    def test_timeline_keeps_samples_and_decisions(self):
        self.flags(live_migration_permit_post_copy=True)
        out = self.run_scenario(**BUSY)
        points, events = out.migration.timeline()
        self.assertGreater(len(points), 10)
        self.assertEqual({'pre-copy', 'post-copy'},
                         {p.phase for p in points})
        [switch] = [e for e in events if e.action == 'postcopy']
        self.assertEqual(out.actions('postcopy')[0][2], switch.reason)
        self.assertIn('downtime', [e.action for e in events])


class PeerTestCase(testtools.TestCase):
    """What the driver learns from the destination's libvirt."""

    def setUp(self):
        super(PeerTestCase, self).setUp()
        self.hv = fakelibvirt.Hypervisors()
        for name in ('src', 'dest'):
            self.hv.add_host(name)

    def peer(self, uri):
        """A _Peer whose first look at the destination is over."""
        peer = libvirt_driver._Peer(uri, self.hv.module)
        peer._seen.wait(timeout=5)
        return peer

    def test_answers_while_the_link_is_up(self):
        peer = self.peer('qemu+tcp://dest/system')
        self.assertTrue(peer.answers())
        self.hv.set_link_up(False)
        self.assertFalse(peer.answers())
        self.assertIsNone(peer.postcopy_failed('no-such-domain'))

    def test_a_destination_this_process_never_saw_cannot_tell(self):
        # The lab's compute runs outside the hosts' network namespaces.
        peer = self.peer('qemu+tcp://elsewhere/system')
        self.assertIsNone(peer.answers())
        self.assertIsNone(peer.postcopy_failed('x'))
