"""Options of the compute service itself (group ``DEFAULT``)."""

from oslo_config import cfg

compute_opts = [
    cfg.StrOpt(
        'compute_driver',
        default='libvirt.LibvirtDriver',
        choices=[('libvirt.LibvirtDriver', 'The libvirt driver (KVM or '
                  'QEMU guests).')],
        help="""
The hypervisor driver the compute service loads, as ``module.Class`` under
``nova.virt`` (as in Nova). The compute service reaches the hypervisor only
through the ``nova.virt.driver.ComputeDriver`` interface of this class.
"""),
    cfg.IntOpt(
        'max_concurrent_live_migrations',
        default=1,
        min=0,
        help="""
Maximum number of live migrations to run at the same time on this compute host.

Each outgoing live migration holds one slot from the moment the compute
service accepts it until it completes, fails or is cancelled; further requests
queue (the Migration record stays ``queued``) until a slot frees. Live
migrations compete for the same network link, so running several at once
usually makes each of them slower and less likely to converge.

Possible values:

* 0: no limit (treated as unlimited, not as "none allowed").
* A positive integer: at most that many outgoing live migrations.
"""),
]


def register_opts(conf):
    conf.register_opts(compute_opts)


def list_opts():
    return {'DEFAULT': compute_opts}
