"""The libvirt driver package: ``compute_driver = libvirt.LibvirtDriver``.

As in Nova, the package names its driver class so that the compute service
can load it by name from configuration.
"""

from nova.virt.libvirt import driver

LibvirtDriver = driver.LibvirtDriver
