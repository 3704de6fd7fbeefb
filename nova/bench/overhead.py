"""CPU cost of the migration monitor, on the real clock.

One process starts N live migrations through the real driver (each in its
own thread or green thread, as the compute manager would) against the fake
libvirt, which answers at once. The guests never converge, so every
monitor keeps polling at its real 0.5 s interval for the whole window. The
process CPU time over the window, minus what the fake hypervisor's own
clock thread spent advancing the migration models (measured with
``time.thread_time`` inside that thread), is the monitors' cost.

``measure`` runs in the current process, in whatever concurrency mode it
is in; ``measure_in_subprocess`` starts a clean interpreter for one mode
(``eventlet`` monkey-patches before anything else is imported).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

from nova.bench import matrix
from nova.bench import simulated
from nova import exception
from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova import utils
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host

# A guest that cannot converge on its link: 64 GiB, 25% working set
# rewritten at 3x a 1 Gbit/s link. Its completion timeout is 14 h.
GUEST = matrix.WorkloadSpec(64, 3.0, 1)


class _CallCounter(object):
    def __init__(self, func):
        self._func = func
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._func(*args, **kwargs)


def measure(migrations=100, seconds=20.0, warmup=2.0, tick=0.5):
    """Monitor N migrations for ``seconds``; return the figures (dict)."""
    clock = fakelibvirt.RealTimeClock(speed=1.0, tick=tick)
    # CPU time of the clock thread at its latest tick (0 before the first).
    model_cpu = [0.0]
    clock.add_ticker(lambda dt: model_cpu.append(time.thread_time()))
    hv = fakelibvirt.Hypervisors(clock=clock)
    hv.set_link(migration_model.Link(bandwidth=GUEST.bandwidth))
    for name in ('src', 'dest'):
        hv.add_host(name)
    host = libvirt_host.Host(hv.uri('src'), libvirt_module=hv.module,
                             event_loop=False)
    # clock=None: the driver's own RealClock, as in production.
    driver = libvirt_driver.LibvirtDriver(host=host,
                                          conf=simulated.make_conf(()))
    instances, counters, handles = [], [], []
    for index in range(migrations):
        dom = hv.define_guest(
            'src', 'guest-%d' % index, GUEST.memory_mib,
            dirty_rate=GUEST.dirty_rate,
            working_set=GUEST.working_set_bytes)
        counter = _CallCounter(dom.jobStats)
        dom.jobStats = counter
        counters.append(counter)
        instances.append(instance_obj.Instance(
            uuid=dom.UUIDString(), name='guest-%d' % index,
            memory_mb=GUEST.memory_mib, host='src'))

    def post(context, inst, dest, block, data):
        pass

    def recover(context, inst, dest, data, migration_status=None):
        pass

    sleeper = utils.RealClock()
    for instance in instances:
        mig = migration_obj.Migration(status='queued', source_compute='src',
                                      dest_compute='dest')
        handles.append(utils.spawn(
            driver.live_migration, None, instance, 'dest', post, recover,
            migrate_data=migrate_data_obj.LibvirtLiveMigrateData(
                migration=mig)))

    def started(instance):
        active = driver.active_migration(instance.uuid)
        return active is not None and active.state.started_at is not None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(started(instance) for instance in instances):
            break
        sleeper.sleep(0.1)
    sleeper.sleep(warmup)

    polls0 = sum(c.calls for c in counters)
    model0 = model_cpu[-1]
    cpu0 = time.process_time()
    wall0 = time.monotonic()
    sleeper.sleep(seconds)
    cpu1 = time.process_time()
    wall1 = time.monotonic()
    model1 = model_cpu[-1]
    polls1 = sum(c.calls for c in counters)
    running_at_end = sum(1 for inst in instances
                         if driver.active_migration(inst.uuid) is not None)

    for instance in instances:
        try:
            driver.live_migration_abort(instance)
        except exception.NoActiveMigrationForInstance:
            pass
    for handle in handles:
        handle.wait(timeout=60)
    clock.stop()

    wall = wall1 - wall0
    process_cpu = cpu1 - cpu0
    model = model1 - model0
    monitor = max(process_cpu - model, 0.0)
    polls = polls1 - polls0
    return {
        'mode': utils.concurrency_mode(),
        'migrations': migrations,
        'monitoring_at_end': running_at_end,
        'seconds': round(wall, 2),
        'polls': polls,
        'process_cpu_s': round(process_cpu, 4),
        'model_cpu_s': round(model, 4),
        'monitor_cpu_s': round(monitor, 4),
        'cpu_per_poll_us': round(1e6 * monitor / polls, 1) if polls else None,
        'core_pct': round(100.0 * monitor / wall, 2),
        'core_pct_per_migration': round(100.0 * monitor / wall /
                                        migrations, 4),
        'process_core_pct': round(100.0 * process_cpu / wall, 2),
    }


# Monkey-patch first; the hub would print every migration cancelled at the
# end of the window (the driver reads those errors itself).
_EVENTLET_BOOT = ('import eventlet; eventlet.monkey_patch(); '
                  'import eventlet.debug; '
                  'eventlet.debug.hub_exceptions(False); import sys; '
                  'from nova.bench import overhead; '
                  'sys.exit(overhead.main(sys.argv[1:]))')


def measure_in_subprocess(mode, migrations=100, seconds=20.0):
    """``measure`` in a fresh interpreter, 'native' or 'eventlet'."""
    env = dict(os.environ)
    env.pop('NOVA_TEST_CONCURRENCY', None)
    args = ['--migrations', str(migrations), '--seconds', str(seconds)]
    if mode == 'eventlet':
        # Every blocking migrateToURI3 holds one eventlet.tpool thread for
        # its whole duration; the default pool (20) would queue the rest.
        env['EVENTLET_THREADPOOL_SIZE'] = str(max(20, migrations + 8))
        cmd = [sys.executable, '-c', _EVENTLET_BOOT] + args
    else:
        cmd = [sys.executable, '-m', 'nova.bench.overhead'] + args
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='CPU cost of monitoring concurrent live migrations')
    parser.add_argument('--migrations', type=int, default=100)
    parser.add_argument('--seconds', type=float, default=20.0)
    args = parser.parse_args(argv)
    from nova.bench import cli
    cli.quiet_logging()
    warnings.simplefilter('ignore', DeprecationWarning)
    print(json.dumps(measure(args.migrations, args.seconds),
                     sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
