"""Domain XML for a guest booted from a kernel and an initramfs.

The driver boots small direct-kernel guests: enough to run a workload that
dirties memory and to live-migrate it; a guest may have a virtio NIC on a
host bridge (``GuestInterface``). The XML is built
from plain values, so it is tested without libvirt.
"""

import dataclasses
import re
from typing import Optional
import xml.etree.ElementTree as ET

from nova.virt import image

# The boot image and workload parameters are hypervisor-neutral (compute
# builds them); the names stay here for the driver's code.
BootImage = image.BootImage
WORKLOAD_PARAMS = image.WORKLOAD_PARAMS
workload_cmdline = image.workload_cmdline
network_address = image.network_address


@dataclasses.dataclass
class GuestConfig(object):
    name: str
    uuid: str
    memory_mib: int
    vcpus: int
    virt_type: str
    image: BootImage
    extra_cmdline: str = ''
    console_path: Optional[str] = None
    # A versioned machine type (e.g. pc-i440fx-7.2) that every QEMU of the
    # cloud has, so the guest migrates between an older and a newer QEMU
    # (a rolling upgrade); plain 'pc' means the newest of the booting host.
    machine_type: str = 'pc'
    # NICs (GuestInterface); none by default: a guest without a network.
    interfaces: tuple = ()
    # Disks (GuestDisk); none by default: a guest without a disk.
    disks: tuple = ()


@dataclasses.dataclass
class GuestDisk(object):
    """A file-backed virtio disk (``<disk type='file'>``): the instance's
    image in the host's instances pool (nova.virt.libvirt.disk).

    ``cache='none'`` (O_DIRECT, Nova's default where the filesystem has it)
    keeps no copy of the guest's writes in the host's page cache, so the
    image is consistent for the destination at the switch-over.
    """

    path: str
    target: str = 'vda'
    format: str = 'qcow2'
    cache: str = 'none'
    # An image on an NFS export that QEMU opens itself (libnfs): ``path``
    # is then the image's path on the export of this server, and the disk
    # is a network disk, which libvirt counts as shared storage.
    nfs_host: Optional[str] = None


@dataclasses.dataclass
class GuestInterface(object):
    """A NIC plugged into a Linux bridge of the host (libvirt
    ``<interface type='bridge'>``): libvirt makes a tap device, adds it to
    the bridge, and after a live migration the destination QEMU announces
    the guest's MAC (RARP) so the network learns its new port.
    """

    bridge: str
    mac: str
    model: str = 'virtio'


_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
_BRIDGE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$')


def guest_mac(uuid):
    """A stable MAC for the first NIC of ``uuid``.

    QEMU's 52:54:00 prefix and the uuid's first three bytes.
    """
    digits = uuid.replace('-', '').lower()
    return '52:54:00:%s:%s:%s' % (digits[0:2], digits[2:4], digits[4:6])


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in
                                          attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def guest_xml(cfg):
    """The libvirt domain XML of ``cfg``."""
    if cfg.virt_type not in ('kvm', 'qemu'):
        raise ValueError('virt_type must be kvm or qemu, not %r'
                         % cfg.virt_type)
    domain = ET.Element('domain', type=cfg.virt_type)
    _sub(domain, 'name', cfg.name)
    _sub(domain, 'uuid', cfg.uuid)
    _sub(domain, 'memory', int(cfg.memory_mib), unit='MiB')
    _sub(domain, 'vcpu', int(cfg.vcpus))
    os_el = _sub(domain, 'os')
    if not re.match(r'^[a-z0-9][a-z0-9._-]{0,63}$', cfg.machine_type or ''):
        raise ValueError('machine type must look like pc or pc-i440fx-7.2, '
                         'not %r' % cfg.machine_type)
    _sub(os_el, 'type', 'hvm', arch='x86_64', machine=cfg.machine_type)
    _sub(os_el, 'kernel', cfg.image.kernel)
    _sub(os_el, 'initrd', cfg.image.initrd)
    _sub(os_el, 'cmdline', ' '.join(
        part for part in (cfg.image.cmdline, cfg.extra_cmdline) if part))
    features = _sub(domain, 'features')
    _sub(features, 'acpi')
    _sub(features, 'apic')
    _sub(domain, 'on_poweroff', 'destroy')
    _sub(domain, 'on_reboot', 'restart')
    _sub(domain, 'on_crash', 'destroy')
    devices = _sub(domain, 'devices')
    if cfg.console_path:
        # append='on': after a migration the destination QEMU goes on
        # writing to the same file instead of truncating it.
        serial = _sub(devices, 'serial', type='file')
        _sub(serial, 'source', path=cfg.console_path, append='on')
        _sub(serial, 'target', port=0)
        console = _sub(devices, 'console', type='file')
        _sub(console, 'source', path=cfg.console_path, append='on')
        _sub(console, 'target', type='serial', port=0)
    for disk in cfg.disks:
        if not disk.path or not disk.path.startswith('/'):
            raise ValueError('disk path must be absolute, not %r' % disk.path)
        if not re.match(r'^vd[a-z]$', disk.target or ''):
            raise ValueError('disk target must be vda..vdz, not %r'
                             % disk.target)
        if disk.format not in ('qcow2', 'raw'):
            raise ValueError('disk format must be qcow2 or raw, not %r'
                             % disk.format)
        if disk.cache not in ('none', 'writethrough', 'writeback',
                              'directsync', 'unsafe'):
            raise ValueError('unknown disk cache mode %r' % disk.cache)
        if disk.nfs_host:
            if not re.match(r'^[A-Za-z0-9.-]+$', disk.nfs_host):
                raise ValueError('not an NFS server name: %r'
                                 % disk.nfs_host)
            element = _sub(devices, 'disk', type='network', device='disk')
            _sub(element, 'driver', name='qemu', type=disk.format,
                 cache=disk.cache)
            source = _sub(element, 'source', protocol='nfs', name=disk.path)
            _sub(source, 'host', name=disk.nfs_host)
        else:
            element = _sub(devices, 'disk', type='file', device='disk')
            _sub(element, 'driver', name='qemu', type=disk.format,
                 cache=disk.cache)
            _sub(element, 'source', file=disk.path)
        _sub(element, 'target', dev=disk.target, bus='virtio')
    for nic in cfg.interfaces:
        if not _MAC.match(nic.mac or ''):
            raise ValueError('MAC address must look like 52:54:00:12:34:56, '
                             'not %r' % nic.mac)
        if not _BRIDGE.match(nic.bridge or ''):
            raise ValueError('bridge must be a network interface name, not %r'
                             % nic.bridge)
        if nic.model not in ('virtio', 'e1000', 'rtl8139'):
            raise ValueError('NIC model must be virtio, e1000 or rtl8139, '
                             'not %r' % nic.model)
        iface = _sub(devices, 'interface', type='bridge')
        _sub(iface, 'mac', address=nic.mac)
        _sub(iface, 'source', bridge=nic.bridge)
        _sub(iface, 'model', type=nic.model)
    _sub(devices, 'memballoon', model='none')
    return ET.tostring(domain, encoding='unicode')
