"""Recovery of a post-copy migration whose stream broke.

The pure rules first, then scenarios through the real driver on the fake
hypervisor: the link between the hosts is cut during post-copy (and during
pre-copy), restored or not, on hosts that can or cannot resume.
"""

import fixtures
from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova import utils
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.bench import scenario
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration
from nova.virt.libvirt import postcopy_recovery as recovery

C = fakelibvirt.C
BUSY = dict(memory_mib=1024, dirty_mib_s=150.0, working_set_mib=256,
            link_mib_s=100.0)
# The busy guest switches to post-copy at 11 s (pass 2 is predicted to
# converge too slowly) and would finish at about 13.8 s.
CUT_AT = 12.0
PAUSED = 'running (post-copy paused)'


def cut(ctx):
    ctx['hv'].set_link_up(False)


def restore(ctx):
    ctx['hv'].set_link_up(True)


class RulesTestCase(testtools.TestCase):

    def test_resume_delays_double_up_to_the_cap(self):
        delays = recovery.resume_delays(30)
        self.assertEqual([1, 2, 4, 8, 16, 30, 30],
                         [next(delays) for _ in range(7)])

    def test_attempt_schedule_is_bounded_by_the_timeout(self):
        self.assertEqual([1, 3, 7, 15, 31], recovery.attempt_schedule(60, 30))
        self.assertEqual([1, 3, 7, 15, 31, 61, 91],
                         recovery.attempt_schedule(100, 30))
        self.assertEqual([], recovery.attempt_schedule(0.5, 30))

    def test_stream_counts_as_moving_per_mib(self):
        state = migration.PostcopyState()
        self.assertEqual(0, state.stalled_for(5))
        mib = migration.MOVING_BYTES
        self.assertTrue(state.observe_stream(1.0, 100))
        # A drained socket buffer is no movement.
        self.assertFalse(state.observe_stream(4.0, 100 + 4096))
        self.assertEqual(3.0, state.stalled_for(4.0))
        self.assertTrue(state.observe_stream(5.0, 100 + mib))
        self.assertEqual(0.0, state.stalled_for(5.0))

    def test_status_for(self):
        self.assertEqual('running', migration.status_for(
            migration.PostcopyState()))
        # Requested is not yet post-copy: libvirt has not confirmed it.
        self.assertEqual('running', migration.status_for(
            migration.PostcopyState(requested=True)))
        self.assertEqual('running (post-copy)', migration.status_for(
            migration.PostcopyState(requested=True, confirmed=True)))
        self.assertEqual(PAUSED, migration.status_for(
            migration.PostcopyState(requested=True, confirmed=True,
                                    broken=True)))

    def test_refused_for_now(self):
        self.assertTrue(recovery.refused_for_now(
            'Requested operation is not valid: migration of domain x is '
            'being actively monitored by another thread'))
        self.assertTrue(recovery.refused_for_now(Exception(
            'Requested operation is not valid: QEMU reports migration is '
            'still running')))
        self.assertFalse(recovery.refused_for_now(
            "unable to connect to server at '198.18.0.2:16509'"))
        self.assertFalse(recovery.refused_for_now(None))

    def test_with_retry_soon(self):
        # Inserted before a later back-off attempt, never past the
        # timeout, never when a scheduled attempt comes first anyway.
        self.assertEqual([12.0, 15.0, 31.0],
                         recovery.with_retry_soon([15.0, 31.0], 10.0, 40))
        self.assertEqual([11.0], recovery.with_retry_soon([11.0], 10.0, 40))
        self.assertEqual([], recovery.with_retry_soon([], 39.0, 40))
        self.assertEqual([41.0], recovery.with_retry_soon([], 39.0, 41))

    def test_manual_resume_hint(self):
        self.assertEqual(
            'virsh -c qemu:///system migrate --live --p2p --postcopy '
            '--postcopy-resume instance-1 qemu+tcp://b/system '
            '--migrateuri tcp://10.0.0.2',
            recovery.manual_resume_hint('', 'instance-1',
                                        'qemu+tcp://b/system',
                                        'tcp://10.0.0.2'))


class RecoveryScenarioTestCase(testtools.TestCase):

    def setUp(self):
        super(RecoveryScenarioTestCase, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))
        self.log = self.useFixture(fixtures.FakeLogger(
            level='DEBUG', format='%(levelname)s %(message)s'))
        self.flags(live_migration_permit_post_copy=True)

    def flags(self, **kw):
        for name, value in kw.items():
            self.conf.config(group='libvirt', **{name: value})

    def run_scenario(self, **kw):
        args = dict(BUSY)
        args.update(kw)
        return scenario.run(self.conf.conf, **args)

    def names(self, out):
        return [action[1] for action in out.state.actions]

    def assertNothingDestroyed(self, out):
        for conn in out.hypervisors.hosts.values():
            dom = conn.domains.get(out.domain_uuid)
            if dom is not None:
                self.assertNotIn('destroyed', [w for _t, w in dom.history])
                self.assertTrue(dom.isActive())

    def test_link_cut_in_postcopy_then_restored_completes(self):
        out = self.run_scenario(at=[(CUT_AT, cut), (45.0, restore)])
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual([('post', 'dest')], out.callbacks)
        self.assertEqual(['dest'], out.host_of_guest())
        self.assertEqual(C.VIR_DOMAIN_RUNNING,
                         out.domain('dest').state_value[0])
        # Stalled from the cut, but the destination did not answer: no
        # pause during the outage (the destination would never learn of
        # it). libvirt's keepalive ended the call; the tries at +1 and +3 s
        # found the destination unreachable; at +7 s (the link back at
        # 45 s) the stream was paused and resumed.
        self.assertEqual(['postcopy', 'postcopy-broken', 'postcopy-resume',
                          'postcopy-resumed'], self.names(out))
        [(broke, _n, _why)] = [a for a in out.state.actions
                               if a[1] == 'postcopy-broken']
        detect = out.hypervisors.default_link.failure_detect_time
        self.assertAlmostEqual(CUT_AT + detect, broke, delta=0.6)
        [(resumed_at, _n, _d)] = [a for a in out.state.actions
                                  if a[1] == 'postcopy-resume']
        self.assertGreaterEqual(resumed_at, 45.0 - 3.0)
        self.assertEqual(1, out.state.resume_attempts)
        self.assertIn('The destination does not answer yet', self.log.output)
        # What an operator saw, in order.
        self.assertEqual(['running', 'running (post-copy)', PAUSED,
                          'running (post-copy)', 'completed'],
                         [s for i, s in enumerate(out.statuses)
                          if i == 0 or s != out.statuses[i - 1]])
        self.assertEqual(0, out.migration.memory_remaining)

    def test_a_resume_refused_for_now_is_tried_again_soon(self):
        # libvirt 9.0 on the lab: resumes made before the destination saw
        # its stream fail are refused ("still running"); the next try comes
        # RETRY_SOON later, not on the doubling back-off.
        real_migrate = libvirt_guest.Guest.migrate
        refusals = []

        def migrate(guest, dest_uri, params, flags):
            if (flags & C.VIR_MIGRATE_POSTCOPY_RESUME and
                    len(refusals) < 2):
                refusals.append(flags)
                raise fakelibvirt.libvirtError(
                    'Requested operation is not valid: QEMU reports '
                    'migration is still running',
                    error_code=C.VIR_ERR_OPERATION_INVALID)
            return real_migrate(guest, dest_uri, params, flags)

        self.useFixture(fixtures.MockPatchObject(
            libvirt_guest.Guest, 'migrate', migrate))
        self.flags(live_migration_postcopy_resume_max_interval=30)
        out = self.run_scenario(at=[(CUT_AT, cut), (45.0, restore)])
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(2, len(refusals))
        self.assertEqual(3, out.state.resume_attempts)
        tries = [t for t, name, _w in out.state.actions
                 if name == 'postcopy-resume']
        self.assertEqual(3, len(tries))
        for earlier, later in zip(tries, tries[1:]):
            self.assertAlmostEqual(recovery.RETRY_SOON, later - earlier,
                                   delta=1.0)

    def test_link_never_restored_gives_up_and_keeps_both_halves(self):
        self.flags(live_migration_postcopy_recovery_timeout=60)
        out = self.run_scenario(at=[(CUT_AT, cut)])
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'error')], out.callbacks)
        self.assertTrue(out.migrate_data.postcopy_unrecovered)
        self.assertEqual('error', out.migration.status)
        self.assertIn(PAUSED, out.statuses)
        # Tries at 1, 3, 7, 15 and 31 s all found the destination
        # unreachable: nothing was paused or resumed over a dead link.
        self.assertEqual(0, out.state.resume_attempts)
        self.assertEqual('postcopy-recovery-failed', self.names(out)[-1])
        # Nothing was destroyed: the source half waits, paused.
        self.assertEqual(['src'], out.host_of_guest())
        self.assertEqual(
            (C.VIR_DOMAIN_PAUSED, C.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED),
            out.domain('src').state_value)
        self.assertNothingDestroyed(out)
        self.assertIn('ERROR Post-copy migration NOT recovered',
                      self.log.output)
        self.assertIn('--postcopy-resume guest-1', self.log.output)

    def test_a_resume_call_that_never_returns_is_bounded(self):
        self.flags(live_migration_postcopy_recovery_timeout=60)
        # A native event: the fake's call waits in an OS thread, also
        # under eventlet.
        release = utils.native_threading().Event()
        self.addCleanup(release.set)

        def hang(ctx):
            ctx['hv'].resume_hangs = release
        out = self.run_scenario(at=[(CUT_AT, cut), (43.0, restore)],
                                driver_hook=hang)
        self.assertEqual([('recover', 'error')], out.callbacks)
        # Two tries find the destination unreachable; the first made
        # never returns and no second is started beside it.
        self.assertEqual(1, out.state.resume_attempts)
        [(gave_up, _n, _d)] = [a for a in out.state.actions
                               if a[1] == 'postcopy-recovery-failed']
        [(broke, _n, _d)] = [a for a in out.state.actions
                             if a[1] == 'postcopy-broken']
        self.assertAlmostEqual(broke + 60, gave_up, delta=0.6)
        self.assertIn('moved no data before '
                      'live_migration_postcopy_recovery_timeout',
                      self.log.output)
        self.assertNothingDestroyed(out)

    def test_libvirt_keepalive_detects_when_stall_pause_is_off(self):
        self.flags(live_migration_postcopy_stall_timeout=0)
        out = self.run_scenario(at=[(CUT_AT, cut), (50.0, restore)])
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertNotIn('postcopy-pause', self.names(out))
        [(broke_at, _n, why)] = [a for a in out.state.actions
                                 if a[1] == 'postcopy-broken']
        detect = out.hypervisors.default_link.failure_detect_time
        self.assertAlmostEqual(CUT_AT + detect, broke_at, delta=0.6)
        self.assertIn('client socket is closed', why)
        self.assertIn('libvirt reports the post-copy migration failed',
                      self.log.output)

    def test_host_without_recovery_support_gives_up_at_once(self):
        out = self.run_scenario(at=[(CUT_AT, cut)], lib_version=8004000)
        self.assertIn('a broken post-copy migration cannot be resumed: it '
                      'needs libvirt >= 8.5.0 and QEMU >= 3.0.0',
                      self.log.output)
        self.assertEqual([('recover', 'error')], out.callbacks)
        self.assertEqual(0, out.state.resume_attempts)
        # No migrate-pause either: nothing could resume it.
        self.assertNotIn('postcopy-pause', self.names(out))
        self.assertNothingDestroyed(out)

    def test_recovery_disabled(self):
        self.flags(live_migration_postcopy_recovery_timeout=0)
        out = self.run_scenario(at=[(CUT_AT, cut)])
        self.assertIn('live_migration_postcopy_recovery_timeout is 0',
                      self.log.output)
        self.assertEqual([('recover', 'error')], out.callbacks)
        self.assertEqual(0, out.state.resume_attempts)
        self.assertNothingDestroyed(out)

    def test_short_cut_heals_by_itself(self):
        # Back before anyone gave up on the stream: TCP carries on.
        out = self.run_scenario(at=[(CUT_AT, cut), (CUT_AT + 5, restore)])
        self.assertEqual(libvirt_guest.JOB_COMPLETED, out.job_type)
        self.assertEqual(['postcopy'], self.names(out))

    def test_link_cut_in_precopy_fails_back_to_the_source(self):
        out = self.run_scenario(at=[(5.0, cut), (60.0, restore)])
        self.assertEqual(libvirt_guest.JOB_FAILED, out.job_type)
        self.assertEqual([('recover', 'failed')], out.callbacks)
        self.assertEqual(['src'], out.host_of_guest())
        self.assertEqual(C.VIR_DOMAIN_RUNNING,
                         out.domain('src').state_value[0])
        self.assertFalse([n for n in self.names(out)
                          if n.startswith('postcopy')])
        self.assertAlmostEqual(5.0 + migration_model.Link(1).
                               failure_detect_time,
                               out.job.elapsed, delta=0.6)
