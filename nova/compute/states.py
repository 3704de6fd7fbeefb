"""vm_state, task_state and power_state values, as Nova names them."""

from nova.compute import power_state

# vm_state: the stable state of a server.
BUILDING = 'building'
ACTIVE = 'active'
PAUSED = 'paused'
SUSPENDED_VM = 'suspended'
STOPPED = 'stopped'
ERROR = 'error'
DELETED = 'deleted'

# task_state: what is being done to it now (None: nothing).
SCHEDULING = 'scheduling'
SPAWNING = 'spawning'
MIGRATING = 'migrating'
DELETING = 'deleting'
PAUSING = 'pausing'
UNPAUSING = 'unpausing'
SUSPENDING = 'suspending'
RESUMING = 'resuming'

# power_state: ``nova.compute.power_state`` (one definition).
NOSTATE = power_state.NOSTATE
RUNNING = power_state.RUNNING
PAUSED_POWER = power_state.PAUSED
SHUTDOWN = power_state.SHUTDOWN
CRASHED = power_state.CRASHED
SUSPENDED = power_state.SUSPENDED
POWER_STATE_NAMES = power_state.NAMES

# Which vm_states allow a live migration (Nova: ACTIVE, PAUSED).
LIVE_MIGRATE_VM_STATES = (ACTIVE, PAUSED)

COMPUTE_BINARY = 'nova-compute'
COMPUTE_TOPIC = 'compute'
