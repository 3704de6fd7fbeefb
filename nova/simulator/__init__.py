"""The simulated hypervisor: a fake libvirt module over a QEMU migration model.

A supported part of the product, not test code: the unit tests, the
completion benchmark (``nova.bench``) and ``nova-all --fake-hypervisors``
all run the real driver against it. ``libvirt`` imitates the
libvirt-python surface the driver uses; ``migration_model`` follows
QEMU's pre-copy, auto-converge and post-copy rules on a virtual clock.
"""
