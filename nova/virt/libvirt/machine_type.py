"""Which QEMU machine type a new guest gets.

A guest keeps its machine type for life, live migrations included, and a
QEMU can only load the machine types it knows: a guest booted as plain
``pc`` on QEMU 10 becomes ``pc-i440fx-10.0`` and cannot move to a host
still on QEMU 7.2. During a rolling upgrade operators pin new guests to a
versioned type every host has, as Nova does with ``[libvirt]
hw_machine_type`` and the ``hw_machine_type`` image property.

Pure functions over plain values; the driver reads the option and the
instance metadata (this project's stand-in for image properties, whose
guests boot from a host-provided kernel) and passes the result on.
"""

import re

DEFAULT = 'pc'
METADATA_KEY = 'hw_machine_type'
_NAME = re.compile(r'^[a-z0-9][a-z0-9._-]{0,63}$')
_ARCH = re.compile(r'^[a-z0-9_]{1,32}$')


def parse(entries):
    """``['x86_64=pc-i440fx-7.2', ...]`` -> {arch: machine type}.

    Raises ValueError naming the first bad entry.
    """
    mapping: dict = {}
    for entry in entries or ():
        arch, sep, machine = entry.partition('=')
        arch, machine = arch.strip(), machine.strip()
        if not sep or not _ARCH.match(arch) or not _NAME.match(machine):
            raise ValueError(
                '%r is not ARCH=MACHINE_TYPE (for example '
                'x86_64=pc-i440fx-7.2)' % entry)
        if arch in mapping and mapping[arch] != machine:
            raise ValueError('%s is given two machine types: %s and %s'
                             % (arch, mapping[arch], machine))
        mapping[arch] = machine
    return mapping


def for_guest(arch, configured, metadata=None):
    """The machine type of a new guest of ``arch``.

    The guest's own ``hw_machine_type`` wins (as an image property does in
    Nova), then the host's option for the architecture, then ``pc`` (the
    newest i440fx type of the booting host's QEMU).
    """
    own = (metadata or {}).get(METADATA_KEY)
    if own:
        if not _NAME.match(own):
            raise ValueError('hw_machine_type %r is not a machine type name'
                             % own)
        return own
    return parse(configured).get(arch, DEFAULT)
