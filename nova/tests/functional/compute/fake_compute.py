"""A nova-compute process on the simulated hypervisor, for the
multi-process tests.

    python -m nova.tests.functional.compute.fake_compute \\
        --config-file nova.conf --config-file this-host.conf

It runs the real ComputeService, ComputeManager and LibvirtDriver; only
libvirt is the fake (``nova.simulator.libvirt``) on a sped-up clock.
The fake's hosts live inside one process, so each compute process has a
world with every host (``NOVA_FAKE_HOSTS``, ``name=address,...``) in which
its own migrations run. What the other process's libvirt would do for an
incoming guest is mirrored at the destination, the way libvirt does it:
``pre_live_migration`` defines the incoming domain (not running),
``post_live_migration_at_destination`` starts it, a rollback leaves it
defined and stopped for the driver to undefine. Everything a process says
to another goes over the configured transport (RabbitMQ in the tests).

Guests take their workload from their kernel command line, like the lab's
guest program: ``dirty_rate`` (MiB/s) and ``dirty_mib`` (working set).
"""

import os
import re
import signal
import sys
import threading

from oslo_log import log as logging

import nova.conf
from nova.cmd import compute as compute_cmd
from nova.compute import manager as compute_manager
from nova.compute import service as compute_service
from nova.objects import instance as instance_obj
from nova.simulator import libvirt as fakelibvirt
from nova.simulator import migration_model
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)
MiB = migration_model.MiB
_WORD = re.compile(r'\b(dirty_rate|dirty_mib)=(\d+)')


def world(hosts, speed, link_mib_s):
    clock = fakelibvirt.RealTimeClock(speed=speed, tick=0.01)
    hv = fakelibvirt.Hypervisors(clock=clock)
    hv.set_link(migration_model.Link(bandwidth=link_mib_s * MiB,
                                     setup_time=0.2))
    for name, address in hosts:
        hv.add_host(name, aliases=[address] if address else [])
    return hv


def apply_workload(dom):
    """The guest program's parameters, read from its command line."""
    words = dict(_WORD.findall(dom.XMLDesc()))
    rate = float(words.get('dirty_rate', 0))
    if rate:
        dom.workload = migration_model.Workload(
            ram=dom.memory, dirty_rate=rate * MiB,
            working_set=float(words.get('dirty_mib', 128)) * MiB)


class MirroringManager(compute_manager.ComputeManager):
    """Plays the destination libvirt's part for an incoming guest."""

    fake_conn = None

    def build_and_run_instance(self, ctxt, instance_uuid, image_id):
        super(MirroringManager, self).build_and_run_instance(
            ctxt, instance_uuid, image_id)
        dom = self.fake_conn.domains.get(instance_uuid)
        if dom is not None:
            apply_workload(dom)

    def pre_live_migration(self, ctxt, instance_uuid, migration_id,
                           block_migration=False):
        inst = instance_obj.Instance.get_by_uuid(self.db, instance_uuid)
        if instance_uuid not in self.fake_conn.domains:
            xml = ('<domain type="qemu"><name>%s</name><uuid>%s</uuid>'
                   '<memory unit="MiB">%d</memory></domain>'
                   % (compute_manager.domain_name(instance_uuid),
                      instance_uuid, inst.memory_mb or 128))
            self.fake_conn.defineXML(xml)
        return super(MirroringManager, self).pre_live_migration(
            ctxt, instance_uuid, migration_id, block_migration)

    def post_live_migration_at_destination(self, ctxt, instance_uuid,
                                           migration_id, migrate_data=None):
        dom = self.fake_conn.domains.get(instance_uuid)
        if dom is not None and not dom.isActive():
            dom.createWithFlags(0)
        return super(MirroringManager, self).post_live_migration_at_destination(
            ctxt, instance_uuid, migration_id, migrate_data)


def main(argv=None):
    compute_cmd.parse_args(sys.argv[1:] if argv is None else argv)
    hosts = [tuple((item.split('=', 1) + [''])[:2]) for item in
             os.environ['NOVA_FAKE_HOSTS'].split(',')]
    hv = world(hosts, float(os.environ.get('NOVA_FAKE_SPEED', '20')),
               float(os.environ.get('NOVA_FAKE_LINK_MIB_S', '100')))
    me = CONF.host
    MirroringManager.fake_conn = hv.hosts[me]
    compute_service.compute_manager.ComputeManager = MirroringManager
    host = libvirt_host.Host(hv.uri(me), libvirt_module=hv.module,
                             event_loop=False)
    driver = libvirt_driver.LibvirtDriver(host=host, conf=CONF,
                                          clock=hv.clock)
    service = compute_service.ComputeService(conf=CONF, driver=driver)
    service.start()
    print('fake-compute %s: started' % me, flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stopping.set())
    signal.signal(signal.SIGINT, lambda *_a: stopping.set())
    while not stopping.wait(0.5):
        pass
    service.stop()
    hv.clock.stop()
    print('fake-compute %s: stopped' % me, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
