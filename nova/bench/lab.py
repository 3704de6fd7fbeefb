"""The lab backend: the benchmark's runs on real QEMU, beside the model.

Each run boots a guest on lab-a with ``LibvirtDriver.spawn`` (the guest
program dirties its area at the workload's rate), live-migrates it to lab-b
with ``LibvirtDriver.live_migration`` under the strategy's options (the
real monitor loop and migration.py, on the real clock) and turns what the
monitor sampled and what libvirt reports for the finished job into the
same ``Observation`` the simulated backend makes. Then it runs the model
on the same guest, cap and options (``SimulatedBackend``), so every real
run has the model's prediction beside it (a ``LabRun``).

Runs are serial (``parallel = False``): the lab has two cores and every
guest keeps one of them busy. The caller holds the lab lock
(``flock /var/tmp/nova-lab.lock``) for the whole matrix.

The functions at the top read plain monitor samples and are unit-tested
without the lab.
"""

import os
import statistics
import time
import uuid

from oslo_log import log as logging

from nova.bench import blackout_probe
from nova.bench import compare
from nova.bench import lab_matrix
from nova.bench import labhosts as lab
from nova.bench import labreport
from nova.bench import metrics
from nova.bench import simulated
from nova import exception
from nova.objects import instance as instance_obj
from nova import utils
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host
from nova.virt.libvirt import migration

LOG = logging.getLogger(__name__)
PAGE = 4096


# -- pure: monitor samples to figures ---------------------------------------

def throttle_cpu_seconds(samples):
    """Guest CPU taken by auto-converge: throttle % x seconds, per poll.

    ``samples`` are the monitor's (seconds since start, JobInfo); each
    throttle holds until the next sample.
    """
    total = 0.0
    for (t0, info), (t1, _next) in zip(samples, samples[1:]):
        total += info.auto_converge_throttle / 100.0 * (t1 - t0)
    return total


def first_action_at(actions, name):
    for elapsed, action, _detail in actions:
        if action == name:
            return elapsed
    return None


def mode_of(postcopy_enabled, auto_converge_permitted):
    """What the driver asked libvirt for (the flags' optional part).

    Post-copy wins over auto-converge (migration_flags); the lab's libvirt
    and QEMU support both.
    """
    if postcopy_enabled:
        return 'post-copy'
    if auto_converge_permitted:
        return 'auto-converge'
    return 'pre-copy'


def job_clock_lag(samples):
    """Seconds the job had run when the monitor first saw it.

    The monitor counts from its first sample, which comes up to one poll
    interval after libvirt started the job; libvirt's own ``time_elapsed``
    (and the model) count from the start of the job. Adding this lag puts
    the monitor's times on the job's clock.
    """
    if not samples:
        return 0.0
    return samples[0][1].time_elapsed / 1000.0


def lab_observation(outcome, samples, actions, ended_s, completed_info,
                    paused, mode):
    """The Observation of one real migration, on the job's clock.

    ``samples`` and ``actions`` are the monitor's (times from its first
    sample); ``ended_s``: from the first sample to the end of the job as
    the driver saw it (its call back, up to a poll interval late);
    ``completed_info``: libvirt's statistics of the finished job on the
    destination (None when it has none: after post-copy the lab's libvirt
    reports zeros, which count as none). Without them the bytes are the
    last sample's, which misses what QEMU sent after it (the post-copy
    rest, uncapped), and the downtime is unknown (None).

    The guest stop is QEMU's downtime, or for a guest paused to finish,
    the time from the pause to the end of the job (the model counts it the
    same way).
    """
    if completed_info is not None and not completed_info.time_elapsed:
        completed_info = None
    lag = job_clock_lag(samples)
    actions = tuple((round(t + lag, 3), action, detail)
                    for t, action, detail in actions)
    processed = [info.memory_processed for _t, info in samples]
    iterations = [info.memory_iteration for _t, info in samples]
    if completed_info is not None:
        total = completed_info.time_elapsed / 1000.0
        sent = completed_info.memory_processed
        downtime = completed_info.downtime / 1000.0
        iterations.append(completed_info.memory_iteration)
    else:
        total = ended_s + lag
        sent = max(processed or [0])
        downtime = None
    stop = downtime
    pause_at = first_action_at(actions, 'pause')
    if paused and pause_at is not None:
        stop = max(total - pause_at, 0.0)
    if outcome != metrics.OUTCOME_COMPLETED:
        stop = None
        downtime = None
    return metrics.Observation(
        outcome=outcome, total_s=total, sent_bytes=sent,
        guest_stop_s=stop, qemu_downtime_s=downtime,
        throttle_cpu_s=throttle_cpu_seconds(samples),
        max_throttle=max([i.auto_converge_throttle for _t, i in samples]
                         or [0]),
        postcopy_started_at=first_action_at(actions, 'postcopy'),
        actions=actions, iterations=max(iterations or [0]),
        polls=len(samples), mode=mode,
        # Not measured on the lab: the guest's fault waits.
        fault_wait_s=None if first_action_at(actions, 'postcopy') is not None
        else 0.0)


def downtime_at(ladder, elapsed):
    """The allowed downtime (ms) of the ladder at ``elapsed`` seconds."""
    allowed = 0
    for at, ms in ladder:
        if elapsed >= at:
            allowed = ms
    return allowed


def lab_timeline(samples, actions, ladder):
    """Timeline-plot samples (as the simulated backend makes them).

    Times are on the job's clock (``job_clock_lag``), like the model's.
    """
    def dirty(info):
        return info.memory_dirty_rate * (info.memory_page_size or PAGE)
    lag = job_clock_lag(samples)
    t = [s + lag for s, _i in samples]
    shifted = [(a + lag, action, detail) for a, action, detail in actions]
    return {
        't': t,
        'remaining': [i.memory_remaining for _s, i in samples],
        'dirty_rate': [dirty(i) for _s, i in samples],
        'throttle': [i.auto_converge_throttle for _s, i in samples],
        'downtime_ms': [downtime_at(ladder, s - lag) for s in t],
        'phase': ['' for _s in t],
        'postcopy_at': first_action_at(shifted, 'postcopy'),
        'actions': shifted,
    }


def guest_rate(reports):
    """The guest program's dirty rate before the migration (MiB/s).

    The median of its per-second reports, leaving out the first (it
    covers the calibration and touching the area once).
    """
    rates = [r['rate'] for r in reports[1:]]
    return round(statistics.median(rates), 1) if rates else None


# -- the backend --------------------------------------------------------------

class LabBackend(object):
    """Runs (strategy, workload) pairs on the two-host lab."""

    name = 'lab'
    parallel = False

    def __init__(self, env=None, model=None, boot_timeout=120.0,
                 cap_extra=60.0):
        self.env = env or lab.load_env()
        self.a = lab.host_env(self.env, 'A')
        self.b = lab.host_env(self.env, 'B')
        self.image = lab.boot_image(self.env)
        # The lab's fault path and hand-over (TCG, 2 shared cores): the
        # fitted figures.
        self.model = model or simulated.lab_backend()
        self.boot_timeout = boot_timeout
        # The guests' network (tools/lab/setup.sh): each guest gets a NIC
        # and an address, and a probe in the client's namespace measures
        # the blackout beside every migration. An older lab has none.
        self.guest_net = None
        if self.env.get('NOVA_LAB_BRIDGE'):
            self.guest_net = (self.env['NOVA_LAB_GUEST_ADDR_FIRST'],
                              self.env.get('NOVA_LAB_GUEST_PREFIX', '24'),
                              self.env.get('NOVA_LAB_CLIENT_NETNS'))
        # Safety cap: a run still going this long after its completion
        # timeout is cancelled and reported as 'timeout'.
        self.cap_extra = cap_extra

    def host_options(self):
        options = (('virt_type', self.env['NOVA_LAB_VIRT_TYPE']),
                   ('guest_console_dir', self.env['NOVA_LAB_SHARED_DIR']),
                   ('live_migration_scheme', 'tcp'))
        if self.guest_net:
            options += (('guest_bridge', self.env['NOVA_LAB_BRIDGE']),)
        return options

    def run(self, strategy, spec, timeline=False):
        """A LabRun: the real run and the model's prediction of it."""
        wall0 = time.monotonic()
        try:
            real, extras = self._run_real(strategy, spec, timeline)
        except Exception as exc:
            # A lab daemon restarted under us (other jobs share the lab):
            # one more try before losing the whole matrix.
            LOG.warning('Lab run %s on %s failed, retrying once: %s',
                        strategy.name, spec.name, exc)
            time.sleep(5)
            wall0 = time.monotonic()
            real, extras = self._run_real(strategy, spec, timeline)
        extras['wall_s'] = round(time.monotonic() - wall0, 1)
        predicted = self.model.run(strategy, spec, timeline=timeline)
        return labreport.LabRun(
            lab=real, model=predicted,
            lab_figures=extras.pop('figures'),
            model_figures=compare.from_result(predicted), **extras)

    def _drivers(self, conf):
        return tuple(libvirt_driver.LibvirtDriver(
            host=libvirt_host.Host(host['uri']), conf=conf)
            for host in (self.a, self.b))

    def _run_real(self, strategy, spec, timeline):
        conf = simulated.make_conf(self.host_options() + tuple(spec.options)
                                   + tuple(strategy.options))
        lvconf = conf.libvirt
        src, dest = self._drivers(conf)
        instance = instance_obj.Instance(
            uuid=str(uuid.uuid4()), name=None, memory_mb=spec.memory_mib,
            vcpus=1, metadata=lab_matrix.guest_metadata(spec))
        if self.guest_net:
            instance.metadata['net_ip'] = '%s/%s' % self.guest_net[:2]
        probe = None
        instance.name = 'nova-bench-%s' % instance.uuid[:8]
        console = os.path.join(self.env['NOVA_LAB_SHARED_DIR'],
                               '%s.log' % instance.uuid)
        try:
            src.spawn(None, instance, self.image)
            lab.wait_for(lambda: len(lab.console_reports(console)) >= 3,
                         self.boot_timeout, what='the guest program')
            rate = guest_rate(lab.console_reports(console))
            if self.guest_net:
                probe = self._start_probe()
            migrate_at = time.monotonic()
            result, ended = self._migrate(src, dest, instance, strategy,
                                          spec, lvconf)
            seen = None
            if probe is not None:
                # The answers after the move, then the longest gap that
                # overlaps the migration.
                returned = time.monotonic()
                time.sleep(1.0)
                probe, running = None, probe
                seen = running.stop(window=(migrate_at, returned))
            reports_after = self._reports_after(console)
            completed = result.job_type == libvirt_guest.JOB_COMPLETED
            info = None
            if completed:
                guest = dest.host.find_guest(instance.uuid)
                info = guest and guest.get_completed_job_info()
            state = result.state
            started = state.started_at
            ended_s = (ended - started) if started is not None else 0.0
            outcome = metrics.classify(completed, state.abort_requested,
                                       result.hit_cap)
            obs = lab_observation(
                outcome, list(state.samples), state.actions, ended_s, info,
                state.paused_by_monitor,
                mode_of(state.postcopy_enabled,
                        lvconf.live_migration_permit_auto_converge))
            row = metrics.compute(strategy.name, spec, obs,
                                  lvconf.live_migration_downtime)
            if timeline:
                row.timeline = lab_timeline(
                    list(state.samples), state.actions,
                    migration.downtime_steps(
                        state.data_gb, lvconf.live_migration_downtime,
                        lvconf.live_migration_downtime_steps,
                        lvconf.live_migration_downtime_delay))
            problems = lab.console_problems(console)
            bad = max([r['bad'] for r in reports_after] or [0])
            extras = {
                'figures': compare.from_observation(obs),
                'guest_rate_mib_s': rate,
                'guest_ok': (None if not reports_after
                             else not problems and not bad),
            }
            if seen is not None:
                extras['blackout_s'] = seen.blackout_s
                extras['blackout_resolution_s'] = seen.resolution_s
                extras['blackout_baseline_s'] = seen.baseline_gap_s
                LOG.info('Blackout seen by the probe: %s', seen.summary())
            return row, extras
        finally:
            if probe is not None:
                probe.kill()
            for driver in (src, dest):
                try:
                    driver.destroy(None, instance)
                except Exception:
                    pass
            if os.path.exists(console):
                os.unlink(console)

    def _start_probe(self, timeout=60.0):
        """The guest answers its echo; then the probe, sending every 10 ms.

        A guest that never answers fails the run (its NIC or address is
        broken), rather than reporting a blackout of the whole run.
        """
        address, _prefix, netns = self.guest_net
        lab.wait_for(lambda: blackout_probe.reachable(address, netns=netns),
                     timeout, what='the guest to answer its echo at %s'
                     % address)
        probe = blackout_probe.Probe(address, netns=netns).start()
        # A second of answers before the migration: the baseline jitter.
        time.sleep(1.0)
        return probe

    def _migrate(self, src, dest, instance, strategy, spec, lvconf):
        """Run the driver's live_migration; operator calls and the cap."""
        data = lab.migrate_data(self.b['addr'])
        ended = []

        def post(context, inst, dest_host, block, migrate_data):
            ended.append(time.monotonic())
            dest.post_live_migration_at_destination(context, inst,
                                                    migrate_data)

        def recover(context, inst, dest_host, migrate_data,
                    migration_status=None):
            ended.append(time.monotonic())

        handle = utils.spawn(src.live_migration, None, instance, 'lab-b',
                             post, recover, migrate_data=data)
        operator_at = None
        if strategy.operator_force_complete_at is not None:
            operator_at = strategy.operator_force_complete_at * spec.floor_s
        cap = (migration.completion_timeout_seconds(
            lvconf.live_migration_completion_timeout,
            migration.guest_data_gb(spec.memory_mib)) + self.cap_extra)
        hit_cap = False
        while not handle.ready():
            active = src.active_migration(instance.uuid)
            state = active and active.state
            if state is not None and state.started_at is not None:
                elapsed = time.monotonic() - state.started_at
                try:
                    if operator_at is not None and elapsed >= operator_at:
                        operator_at = None
                        src.live_migration_force_complete(instance)
                    if not hit_cap and elapsed >= cap:
                        hit_cap = True
                        src.live_migration_abort(instance)
                except exception.NoActiveMigrationForInstance:
                    pass
            time.sleep(0.1)
        result = handle.wait()
        result.hit_cap = hit_cap
        return result, (ended[0] if ended else time.monotonic())

    @staticmethod
    def _reports_after(console, timeout=5.0):
        """Console reports written after the migration (the guest lives).

        Waits for up to two new reports (the program prints every second);
        an empty list when none came.
        """
        before = len(lab.console_reports(console))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reports = lab.console_reports(console)
            if len(reports) >= before + 2:
                return reports[before:]
            time.sleep(0.25)
        return lab.console_reports(console)[before:]
