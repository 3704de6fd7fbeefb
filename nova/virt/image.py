"""What compute hands a virt driver to boot a guest: hypervisor-neutral.

An image here is a kernel, an initramfs and a command line; instance
metadata may add workload parameters to that command line (the lab's guest
reads them), checked here so the compute API can refuse bad values before
any driver sees them.
"""

import dataclasses
import re

# Guest command-line parameters an instance's metadata may set, and the
# values they accept: numbers only, so metadata cannot inject options.
WORKLOAD_PARAMS = ('dirty_mib', 'dirty_rate', 'tlb_kick_ms')
_NUMBER = re.compile(r'^[0-9]{1,7}$')


@dataclasses.dataclass
class BootImage(object):
    """A kernel, an initrd and a command line."""

    kernel: str
    initrd: str
    cmdline: str = 'console=ttyS0'


def workload_cmdline(metadata):
    """Kernel command-line words from instance metadata (validated)."""
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
    return ' '.join(words)
