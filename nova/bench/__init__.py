"""Live-migration completion benchmark (``nova-migration-bench``).

Runs a matrix of guest workloads through the real driver code
(``LibvirtDriver.live_migration``, its monitor loop and
``nova.virt.libvirt.migration``) once per completion strategy, and reports
how each strategy did against the physical floor RAM / bandwidth. The
simulated backend plays the hypervisor with the fake libvirt and the QEMU
migration model of ``nova.simulator`` on a virtual clock; a backend for
real hosts only has to turn one (strategy, workload) pair into the same
``metrics.Observation``.
"""
