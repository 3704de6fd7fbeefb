"""Power states: what the hypervisor says about a guest, in Nova's values.

The one definition used by the virt drivers, the compute manager, the
objects and the API (``OS-EXT-STS:power_state``).
"""

import enum


class PowerState(enum.IntEnum):
    NOSTATE = 0x00
    RUNNING = 0x01
    PAUSED = 0x03
    SHUTDOWN = 0x04
    CRASHED = 0x06
    SUSPENDED = 0x07


NOSTATE = PowerState.NOSTATE
RUNNING = PowerState.RUNNING
PAUSED = PowerState.PAUSED
SHUTDOWN = PowerState.SHUTDOWN
CRASHED = PowerState.CRASHED
SUSPENDED = PowerState.SUSPENDED

# The names the API shows.
NAMES = {state: state.name for state in PowerState}
