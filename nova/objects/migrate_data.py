"""What the source driver needs to know about the destination."""

import dataclasses
from typing import Any, Optional


@dataclasses.dataclass
class LibvirtLiveMigrateData(object):
    """Filled by the destination's pre_live_migration step.

    ``target_connect_addr`` is the destination's
    ``[libvirt] live_migration_inbound_addr`` (or None), used both for the
    libvirt control connection and the QEMU data stream.
    """

    migration: Any = None
    target_connect_addr: Optional[str] = None
    block_migration: bool = False
    disk_bytes: int = 0
    # The source's local disks for a block migration (DiskInfo dicts: device,
    # path, virtual size, format, backing file): the destination's
    # pre_live_migration creates the same images before the copy starts.
    disks: Optional[list] = None
    dest_uri: Optional[str] = None
    # Set by the source when it paused the guest to force completion: the
    # destination must resume it.
    paused_for_completion: bool = False
    # Set by the source when a broken post-copy migration could not be
    # resumed: the guest is split between the hosts and needs an operator.
    postcopy_unrecovered: bool = False
