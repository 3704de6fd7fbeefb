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
    # Set by the destination's check_can_live_migrate_destination: its own
    # libvirt and QEMU can open QEMU's post-copy preempt channel. False
    # when a destination did not say (an older compute service): the
    # source then never asks for the channel, which libvirt on such a
    # destination would refuse.
    dst_supports_postcopy_preempt: bool = False


# What a destination's check_can_live_migrate_destination reports to the
# source, by name, over RPC (plain values only).
DESTINATION_FACTS = ('dst_supports_postcopy_preempt',)


def destination_facts(data):
    """The destination's answers in ``data`` as a dict for the wire."""
    return {name: getattr(data, name) for name in DESTINATION_FACTS}


def with_destination_facts(data, facts):
    """Copy the destination's answers from ``facts`` onto ``data``.

    A fact missing from ``facts`` (a destination running older code) keeps
    the field's default, which always means "not supported"; names this
    code does not know (a newer destination) are ignored.
    """
    for name in DESTINATION_FACTS:
        if name in (facts or {}):
            setattr(data, name, bool(facts[name]))
    return data
