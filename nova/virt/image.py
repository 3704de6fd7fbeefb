"""What compute hands a virt driver to boot a guest: hypervisor-neutral.

An image here is a kernel, an initramfs and a command line; instance
metadata may add workload parameters to that command line (the lab's guest
reads them), checked here so the compute API can refuse bad values before
any driver sees them.
"""

import dataclasses
import ipaddress
import re

# Guest command-line parameters an instance's metadata may set, and the
# values they accept: numbers only, so metadata cannot inject options.
# disk_fill_mib / disk_rate / disk_check_s: the lab guest's disk workload
# (MiB it fills and checks, MiB/s it rewrites, seconds between checks).
WORKLOAD_PARAMS = ('dirty_mib', 'dirty_rate', 'tlb_kick_ms',
                   'disk_fill_mib', 'disk_rate', 'disk_check_s')
_NUMBER = re.compile(r'^[0-9]{1,7}$')
# The guest's network address (IPv4 with its prefix, e.g. 198.18.0.100/24):
# metadata ``net_ip`` gives the guest a NIC (where the compute host has a
# guest bridge) and the lab's guest sets that address on it.
NETWORK_PARAM = 'net_ip'


@dataclasses.dataclass
class BootImage(object):
    """A kernel, an initrd and a command line."""

    kernel: str
    initrd: str
    cmdline: str = 'console=ttyS0'


# An instance's root disk in MiB (metadata ``disk_mib``): the driver gives
# the guest a disk of that size (checked here so the API refuses bad ones).
DISK_PARAM = 'disk_mib'
MAX_DISK_MIB = 1024 * 1024


def disk_mib(metadata):
    """Metadata ``disk_mib`` as a number of MiB, or None when unset.

    Raises ValueError for anything but a whole number up to MAX_DISK_MIB.
    """
    value = (metadata or {}).get(DISK_PARAM)
    if value is None or str(value).strip() == '':
        return None
    value = str(value).strip()
    if not _NUMBER.match(value) or int(value) > MAX_DISK_MIB:
        raise ValueError('metadata %s must be a whole number of MiB up to '
                         '%d, got %r' % (DISK_PARAM, MAX_DISK_MIB, value))
    return int(value)


def workload_cmdline(metadata):
    """Kernel command-line words from instance metadata (validated)."""
    disk_mib(metadata)
    words = []
    for key in WORKLOAD_PARAMS:
        value = (metadata or {}).get(key)
        if value is None:
            continue
        value = str(value).strip()
        if not _NUMBER.match(value):
            raise ValueError('metadata %s must be a whole number, got %r'
                             % (key, value))
        words.append('%s=%s' % (key, value))
    address = network_address(metadata)
    if address:
        words.append('%s=%s' % (NETWORK_PARAM, address))
    return ' '.join(words)


def network_address(metadata):
    """The guest's address from metadata ``net_ip`` ('A.B.C.D/N'), or None.

    Raises ValueError for anything but an IPv4 host address with a prefix.
    """
    value = (metadata or {}).get(NETWORK_PARAM)
    if value is None or str(value).strip() == '':
        return None
    value = str(value).strip()
    try:
        iface = ipaddress.IPv4Interface(value)
    except ValueError:
        iface = None
    if (iface is None or '/' not in value or
            iface.ip in (iface.network.network_address,
                         iface.network.broadcast_address) and
            iface.network.prefixlen < 31):
        raise ValueError('metadata %s must be an IPv4 host address with its '
                         'prefix (like 198.18.0.100/24), got %r'
                         % (NETWORK_PARAM, value))
    return str(iface)
