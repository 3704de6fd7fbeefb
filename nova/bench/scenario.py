"""Run one live migration through the real driver on the fake hypervisor.

A scenario sets nova.conf options, boots a guest with a workload on host
'src', live-migrates it to 'dest' with ``LibvirtDriver.live_migration``
and returns what happened: the job type, the Migration record, the
callbacks the driver made, the monitor's actions and the model's job.
Operator requests are scheduled at virtual times. The unit tests' scenarios
and ``tools/lab/model_vs_lab.py`` (the model beside a real lab run) use it.
"""

import dataclasses
from typing import Any, List

from nova.objects import instance as instance_obj
from nova.objects import migrate_data as migrate_data_obj
from nova.objects import migration as migration_obj
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host

MiB = migration_model.MiB


@dataclasses.dataclass
class Outcome(object):
    job_type: int
    migration: Any
    instance: Any
    callbacks: List[tuple]
    state: Any
    job: Any
    flags: int
    params: dict
    hypervisors: Any
    domain_uuid: str
    statuses: List[str]
    migrate_data: Any = None

    def host_of_guest(self):
        """Where the guest is defined now: 'src', 'dest' or both."""
        return sorted(name for name, conn in self.hypervisors.hosts.items()
                      if self.domain_uuid in conn.domains)

    def domain(self, host):
        return self.hypervisors.hosts[host].domains[self.domain_uuid]

    def actions(self, name=None):
        return [a for a in self.state.actions if name in (None, a[1])]


def run(conf, memory_mib=1024, dirty_mib_s=0.0, working_set_mib=256,
        link_mib_s=100.0, setup_time=0.2, at=(), lib_version=9000000,
        hv_version=7002000, no_job_stats=False, dest='dest', phases=None,
        cpu_bound=True, driver_hook=None, resident_mib=None,
        per_stream_mib_s=0.0, stats_faults=(), iteration_events=True,
        disk_mib=0, disk_write_mib_s=0.0, block_migration=False):
    """Migrate one guest.

    ``at`` is [(second after the job began, callable(ctx))]. ``disk_mib``
    gives the guest a local disk (written at ``disk_write_mib_s``) that
    ``block_migration`` copies (its size goes to the migrate data, as the
    destination's pre-live-migration step reports it).
    """
    hv = fakelibvirt.Hypervisors(lib_version=lib_version,
                                 hv_version=hv_version)
    hv.set_link(migration_model.Link(bandwidth=link_mib_s * MiB,
                                     setup_time=setup_time,
                                     per_stream=per_stream_mib_s * MiB))
    hv.no_job_stats = no_job_stats
    hv.stats_faults = list(stats_faults)
    hv.iteration_events = iteration_events
    for name in ('src', 'dest'):
        hv.add_host(name)
    dom = hv.define_guest(
        'src', 'guest-1', memory_mib, dirty_rate=dirty_mib_s * MiB,
        working_set=(working_set_mib * MiB if working_set_mib else None),
        phases=phases, cpu_bound=cpu_bound,
        resident=resident_mib * MiB if resident_mib else None,
        disk=disk_mib * MiB, disk_write_rate=disk_write_mib_s * MiB)
    host = libvirt_host.Host(hv.uri('src'), libvirt_module=hv.module,
                             event_loop=False)
    driver = libvirt_driver.LibvirtDriver(host=host, conf=conf,
                                          clock=hv.clock)
    statuses = []
    instance = instance_obj.Instance(uuid=dom.UUIDString(), name='guest-1',
                                     memory_mb=memory_mib, host='src')
    mig = migration_obj.Migration(
        status='preparing', source_compute='src', dest_compute=dest,
        saver=lambda m: statuses.append(m.status))
    callbacks = []
    ctx = {'driver': driver, 'instance': instance, 'hv': hv, 'dom': dom}
    pending = sorted(at, key=lambda item: item[0])

    start = []

    def scheduler(_dt):
        # Times count from when the migration job began moving, so that
        # how long the operation thread took to start does not matter.
        if not start:
            if not dom.job_begun:
                return
            start.append(hv.clock.now() - _dt)
        now = hv.clock.now() - start[0]
        while pending and pending[0][0] <= now:
            pending.pop(0)[1](ctx)

    hv.clock.add_ticker(scheduler)
    if driver_hook:
        driver_hook(ctx)

    dest_driver = libvirt_driver.LibvirtDriver(
        host=libvirt_host.Host(hv.uri('dest'), libvirt_module=hv.module,
                               event_loop=False),
        conf=conf, clock=hv.clock)

    def post(context, inst, dest_host, block, data):
        callbacks.append(('post', dest_host))
        dest_driver.post_live_migration_at_destination(context, inst, data)
        data.migration.status = 'completed'
        data.migration.save()

    def recover(context, inst, dest_host, data, migration_status=None):
        callbacks.append(('recover', migration_status))
        data.migration.status = migration_status
        data.migration.save()

    disks = None
    if block_migration and disk_mib:
        # What the destination's pre-live-migration step reports.
        disks = [{'target': dom.disk_target, 'virt_size': disk_mib * MiB,
                  'path': '/var/lib/nova/instances/%s/disk' % (
                      dom.UUIDString()), 'format': 'qcow2'}]
    data = migrate_data_obj.LibvirtLiveMigrateData(
        migration=mig, block_migration=bool(block_migration),
        disk_bytes=disk_mib * MiB if block_migration else 0, disks=disks)
    result = driver.live_migration(None, instance, dest, post, recover,
                                   block_migration=block_migration,
                                   migrate_data=data)
    record = hv.migrations[-1] if hv.migrations else (None,) * 5
    return Outcome(job_type=result.job_type, migration=mig,
                   instance=instance, callbacks=callbacks, state=result.state,
                   job=record[2], flags=record[3] or 0,
                   params=record[4] or {}, hypervisors=hv,
                   domain_uuid=dom.UUIDString(), statuses=statuses,
                   migrate_data=data)


def set_link_rate(mib_s):
    """An ``at`` callable: the running job's link now carries mib_s."""
    def change(ctx):
        job = ctx['hv'].migrations[-1][2]
        job.capacity = job.bandwidth = mib_s * MiB
    return change
