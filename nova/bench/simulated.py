"""The simulated backend: the real driver on the fake libvirt.

Each run builds two fake hosts on a virtual clock, defines a guest with the
workload's migration model on 'src', and calls the real
``LibvirtDriver.live_migration`` with a ``ConfigOpts`` carrying the
strategy's options. The monitor loop polls every
``monitor.POLL_INTERVAL`` virtual seconds (sooner on a migration-iteration
event) and the model advances in
its own fixed steps between polls, exactly as in the unit tests; only the
clock differs (``BenchClock``).
"""

import dataclasses
import uuid as uuid_lib

from oslo_config import cfg

from nova import exception
from nova.bench import metrics
from nova.conf import compute as compute_conf
from nova.conf import libvirt as libvirt_conf
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova import utils
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import host as libvirt_host

C = fakelibvirt.C


class BenchClock(fakelibvirt.VirtualClock):
    """A VirtualClock that yields to other threads only while it waits.

    ``VirtualClock`` yields the CPU at every step so that the
    migration's operation thread gets to run; a yield costs about 0.1 ms of
    wall time, more than a whole monitor pass, and a 64 GiB guest that
    never converges is polled 100,000 times. The operation thread only
    needs the CPU until it has started the job and after the job ended
    (and then the monitor waits for it anyway), so this clock yields until
    ``started()`` says the job began and not after. Until then virtual time
    stands still, so every run starts at 0 whatever the thread scheduling.
    """

    def __init__(self):
        super(BenchClock, self).__init__()
        self.started = lambda: True

    def sleep(self, seconds):
        if not self.started():
            utils.yield_now()
            return
        super(BenchClock, self).sleep(seconds)

    def wait(self, channel, seconds):
        # A wait for events, counted as one poll like a sleep.
        if not self.started():
            utils.yield_now()
            return bool(len(channel))
        return super(BenchClock, self).wait(channel, seconds)

    def _advance(self, seconds):
        self._now += seconds
        for ticker in list(self._tickers):
            ticker(seconds)


def make_conf(options):
    """A private ConfigOpts with the driver's options and ``options`` set.

    No config file and no environment: defaults are nova.conf as shipped.
    (``register_opts`` gives each ConfigOpts its own group object, so the
    overrides stay in this one.)
    """
    conf = cfg.ConfigOpts()
    libvirt_conf.register_opts(conf)
    compute_conf.register_opts(conf)
    conf([], project='nova', default_config_files=[],
         default_config_dirs=[], use_env=False)
    for name, value in options:
        conf.set_override(name, value, group='libvirt')
    return conf


def _mode(flags):
    if flags & C.VIR_MIGRATE_POSTCOPY:
        return 'post-copy'
    if flags & C.VIR_MIGRATE_AUTO_CONVERGE:
        return 'auto-converge'
    return 'pre-copy'


def observe(job, state, outcome, flags, polls=0):
    """The Observation of one model job (``hv.migrations[-1][2]``).

    The model counts as guest stop time the pauses, the post-copy switch
    and the final copy (also for a guest paused to force completion).
    """
    samples = job.samples or []
    return metrics.Observation(
        outcome=outcome, total_s=job.elapsed, sent_bytes=job.sent,
        guest_stop_s=job.guest_stopped_time,
        qemu_downtime_s=(job.downtime if outcome ==
                         metrics.OUTCOME_COMPLETED else 0.0),
        throttle_cpu_s=job.throttle_cpu_seconds,
        fault_wait_s=job.fault_wait_seconds,
        passes=tuple((round(t, 3), n, int(b)) for t, n, b in job.passes),
        max_throttle=max([s.throttle for s in samples] or [0]),
        postcopy_started_at=job.postcopy_started_at,
        actions=tuple(state.actions), iterations=job.iteration,
        polls=polls, mode=_mode(flags))


def _timeline(job, state):
    """Samples for a timeline plot, one per monitor poll."""
    samples = job.samples or []
    return {
        't': [s.t for s in samples],
        'remaining': [s.remaining for s in samples],
        'dirty_rate': [s.dirty_rate for s in samples],
        'throttle': [s.throttle for s in samples],
        'downtime_ms': [s.downtime_limit_ms for s in samples],
        'phase': [s.phase for s in samples],
        'postcopy_at': job.postcopy_started_at,
        'actions': list(state.actions),
    }


class SimulatedBackend(object):
    """Runs (strategy, workload) pairs on the fake hypervisor."""

    name = 'simulated'
    # Every run is independent: runs may go to parallel processes.
    parallel = True

    def __init__(self, seed=0, cap_factor=2.0, fault_service=None,
                 postcopy_uncapped=False, link_params=None):
        self.seed = seed
        # Post-copy at the link's speed whatever live_migration_bandwidth
        # says: how the driver ran before monitor v2 capped it
        # (bandwidth.postcopy), when the committed lab runs were made.
        self.postcopy_uncapped = postcopy_uncapped
        # Link.fault_service override (calibration); None: the model's.
        self.fault_service = fault_service
        # Other Link fields to override ({name: value}), e.g. the lab's
        # fitted ones (migration_model.lab_link_params()).
        self.link_params = dict(link_params or {})
        unknown = set(self.link_params) - set(
            f.name for f in dataclasses.fields(migration_model.Link))
        if unknown:
            raise ValueError('not Link fields: %s' % ', '.join(
                sorted(unknown)))
        # Safety net: a run still going after cap_factor x its completion
        # timeout (+ 10 floor times) is cancelled and reported as timeout.
        self.cap_factor = cap_factor

    def _uuid(self, strategy, spec):
        return str(uuid_lib.uuid5(uuid_lib.NAMESPACE_URL, 'nova-bench/%s/%s/%s'
                                  % (self.seed, strategy.name, spec.name)))

    def run(self, strategy, spec, timeline=False):
        # The set-up's options first: a strategy may override them.
        conf = make_conf(tuple(spec.options) + tuple(strategy.options))
        lvconf = conf.libvirt
        clock = BenchClock()
        hv = fakelibvirt.Hypervisors(clock=clock)
        link = migration_model.Link(bandwidth=spec.link_bandwidth,
                                    **self.link_params)
        if self.fault_service is not None:
            link.fault_service = self.fault_service
        hv.set_link(link)
        for name in ('src', 'dest'):
            hv.add_host(name)
        dom = hv.define_guest(
            'src', 'bench-guest', spec.memory_mib,
            dirty_rate=spec.dirty_rate,
            working_set=spec.working_set_bytes or None,
            phases=spec.model_phases(), cpu_bound=True,
            dom_uuid=self._uuid(strategy, spec),
            resident=spec.resident_bytes)
        clock.started = lambda: dom.job_begun
        host = libvirt_host.Host(hv.uri('src'), libvirt_module=hv.module,
                                 event_loop=False)
        driver = libvirt_driver.LibvirtDriver(host=host, conf=conf,
                                              clock=clock)
        instance = instance_obj.Instance(
            uuid=dom.UUIDString(), name='bench-guest',
            memory_mb=spec.memory_mib, host='src')
        mig = migration_obj.Migration(status='preparing',
                                      source_compute='src',
                                      dest_compute='dest')

        data_gb = spec.ram_gib if spec.ram_gib > 2 else 2.0
        cap = (self.cap_factor * lvconf.live_migration_completion_timeout *
               data_gb + 10 * spec.floor_s)
        if spec.cap_floors:
            cap = min(cap, spec.cap_floors * spec.floor_s)
        operator_at = None
        if strategy.operator_force_complete_at is not None:
            operator_at = strategy.operator_force_complete_at * spec.floor_s
        hit_cap = []

        def scheduler(_dt):
            # Virtual time only moves once the job began: now() is the
            # time since the job began.
            now = clock.now()
            if self.postcopy_uncapped and hv.migrations:
                job = hv.migrations[-1][2]
                job.postcopy_bandwidth = job.capacity
            nonlocal operator_at
            if operator_at is not None and now >= operator_at:
                operator_at = None
                try:
                    driver.live_migration_force_complete(instance)
                except exception.NoActiveMigrationForInstance:
                    pass
            if not hit_cap and cap > 0 and now >= cap:
                hit_cap.append(now)
                driver.live_migration_abort(instance)

        clock.add_ticker(scheduler)

        def post(context, inst, dest, block, data):
            data.migration.status = 'completed'

        def recover(context, inst, dest, data, migration_status=None):
            data.migration.status = migration_status

        result = driver.live_migration(
            None, instance, 'dest', post, recover,
            migrate_data=migrate_data_obj.LibvirtLiveMigrateData(
                migration=mig))
        _src, _dest, job, flags, _params = hv.migrations[-1]
        outcome = metrics.classify(
            result.job_type == libvirt_guest.JOB_COMPLETED,
            result.state.abort_requested, bool(hit_cap))
        obs = observe(job, result.state, outcome, flags, polls=clock.sleeps)
        row = metrics.compute(strategy.name, spec, obs,
                              lvconf.live_migration_downtime)
        row.blackout_s = job.blackout_s
        if timeline:
            row.timeline = _timeline(job, result.state)
        return row


def lab_backend(**kwargs):
    """The model of the lab: its fitted fault cost and hand-over."""
    return SimulatedBackend(link_params=migration_model.lab_link_params(),
                            **kwargs)
