"""Instance disks: a qcow2 root disk per instance in the host's instances
directory, and what a block migration needs to know about it.

Pure functions over plain values (sizes, names, paths); the libvirt calls
that create and delete the images are ``host.Host``'s. The images live in a
libvirt ``dir`` storage pool at ``[libvirt] instances_path``: the driver
asks the host's own libvirt daemon to create them, so the path is the one
QEMU sees on that host, whichever machine or namespace the compute service
runs in.
"""

import dataclasses
import re
from typing import List, Optional, Tuple
import xml.etree.ElementTree as ET

from nova.virt import image

MiB = 1024 * 1024
GiB = 1024 * MiB

# The storage pool of instance disks on every host.
POOL_NAME = 'nova-instances'
# The root disk's device name in the guest (virtio-blk: /dev/vda).
ROOT_TARGET = 'vda'
# Metadata key giving an instance a root disk of that many MiB (the lab and
# the benchmark use disks smaller than a flavor's whole GiB).
DISK_PARAM = image.DISK_PARAM
MAX_DISK_MIB = image.MAX_DISK_MIB


@dataclasses.dataclass
class DiskInfo(object):
    """One local disk of a guest, as the destination must re-create it
    before a block migration (Nova's ``disk_info``).
    """

    target: str
    path: str
    virt_size: int
    format: str = 'qcow2'
    backing_file: Optional[str] = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**{f.name: values.get(f.name) for f in
                      dataclasses.fields(cls) if f.name in values})


def root_disk_bytes(metadata, root_gb=0):
    """Size of the instance's root disk in bytes; 0 means no disk.

    Metadata ``disk_mib`` (a whole number of MiB) wins over the flavor's
    ``root_gb``; raises ValueError for anything but a whole number.
    """
    mib = image.disk_mib(metadata)
    if mib is not None:
        return mib * MiB
    return int(root_gb or 0) * GiB


def volume_name(instance_uuid, target=ROOT_TARGET):
    """The image file's name in the pool: one per instance and device."""
    if not re.match(r'^[0-9a-fA-F-]{1,64}$', instance_uuid or ''):
        raise ValueError('not an instance uuid: %r' % instance_uuid)
    return '%s-%s.qcow2' % (instance_uuid, target)


def pool_xml(path):
    """A libvirt ``dir`` storage pool at ``path``."""
    if not path or not path.startswith('/'):
        raise ValueError('instances_path must be an absolute path, not %r'
                         % path)
    pool = ET.Element('pool', type='dir')
    ET.SubElement(pool, 'name').text = POOL_NAME
    target = ET.SubElement(pool, 'target')
    ET.SubElement(target, 'path').text = path
    return ET.tostring(pool, encoding='unicode')


def volume_xml(name, virt_size, fmt='qcow2', backing_file=None,
               backing_format='qcow2'):
    """A storage volume: a ``fmt`` image of ``virt_size`` bytes, over
    ``backing_file`` when given (the destination's copy of a disk keeps
    the source's backing file, as Nova's pre_live_migration does).
    """
    if int(virt_size) <= 0:
        raise ValueError('a disk needs a size, not %r' % virt_size)
    if fmt not in ('qcow2', 'raw'):
        raise ValueError('disk format must be qcow2 or raw, not %r' % fmt)
    vol = ET.Element('volume')
    ET.SubElement(vol, 'name').text = name
    ET.SubElement(vol, 'capacity', unit='bytes').text = str(int(virt_size))
    if fmt == 'qcow2':
        # qemu-img preallocates nothing: the image grows as the guest
        # writes, and a block migration copies only allocated clusters.
        ET.SubElement(vol, 'allocation', unit='bytes').text = '0'
    target = ET.SubElement(vol, 'target')
    ET.SubElement(target, 'format', type=fmt)
    if backing_file:
        backing = ET.SubElement(vol, 'backingStore')
        ET.SubElement(backing, 'path').text = backing_file
        ET.SubElement(backing, 'format', type=backing_format)
    return ET.tostring(vol, encoding='unicode')


def disks_from_domain_xml(xml):
    """The file-backed disks of a domain: [DiskInfo] without sizes (the
    caller asks the pool for them).
    """
    root = ET.fromstring(xml)
    disks = []
    for disk in root.findall('./devices/disk'):
        if disk.get('type') != 'file' or disk.get('device', 'disk') != 'disk':
            continue
        source = disk.find('source')
        target = disk.find('target')
        driver = disk.find('driver')
        path = source.get('file') if source is not None else None
        dev = target.get('dev') if target is not None else None
        if not path or not dev:
            continue
        backing = disk.find('./backingStore/source')
        disks.append(DiskInfo(
            target=dev, path=path, virt_size=0,
            format=(driver.get('type') if driver is not None else None) or
            'raw',
            backing_file=backing.get('file') if backing is not None
            else None))
    return disks


def parse_nfs_share(value):
    """``[libvirt] images_nfs_share`` (``HOST:/path``) -> (host, path), or
    None when empty; ValueError for anything else.
    """
    value = (value or '').strip()
    if not value:
        return None
    host, sep, path = value.partition(':')
    if (not sep or not re.match(r'^[A-Za-z0-9.-]+$', host) or
            not path.startswith('/') or path.startswith('//') or
            '..' in path.split('/') or
            re.search(r'[\s?#]', path)):
        raise ValueError('images_nfs_share must be HOST:/absolute/path, '
                         'not %r' % value)
    return host, path.rstrip('/') or '/'


def nfs_image(share, name):
    """(host, path of the image on the export) for the image ``name``."""
    host, path = share
    return host, '%s/%s' % (path.rstrip('/'), name)


def nfs_url(host, path):
    """How qemu-img (libnfs) names an image on an NFS export."""
    return 'nfs://%s%s' % (host, path)


def nfs_disks_from_domain_xml(xml):
    """The NFS network disks of a domain: [(server, path on the export)]."""
    root = ET.fromstring(xml)
    found = []
    for disk in root.findall('./devices/disk'):
        source = disk.find('source')
        if (disk.get('type') != 'network' or source is None or
                source.get('protocol') != 'nfs'):
            continue
        server = source.find('host')
        if server is None or not server.get('name') or \
                not source.get('name'):
            continue
        found.append((server.get('name'), source.get('name')))
    return found


def nfs_images_to_delete(xml, share, instance_uuid):
    """(delete, keep): the domain's NFS images that deleting the instance
    removes, and the others.

    Only an image this driver made for this instance is removed: on the
    configured share (``parse_nfs_share``; None: no share, nothing is
    removed), directly in its directory, and the instance's root image by
    name (``volume_name``). Anything else the domain points at is kept.
    """
    delete: List[Tuple[str, str]] = []
    keep: List[Tuple[str, str]] = []
    for found in nfs_disks_from_domain_xml(xml):
        owned = False
        if share is not None:
            host, path = found
            directory, _sep, name = path.rpartition('/')
            owned = (host == share[0] and
                     (directory or '/') == share[1] and
                     name == volume_name(instance_uuid))
        (delete if owned else keep).append(found)
    return delete, keep


def data_bytes(disks):
    """Bytes a block migration may copy: the disks' virtual sizes."""
    return sum(int(d.virt_size or 0) for d in disks)
