"""vm_state, task_state and power_state values, as Nova names them."""

# vm_state: the stable state of a server.
BUILDING = 'building'
ACTIVE = 'active'
PAUSED = 'paused'
STOPPED = 'stopped'
ERROR = 'error'
DELETED = 'deleted'

# task_state: what is being done to it now (None: nothing).
SCHEDULING = 'scheduling'
SPAWNING = 'spawning'
MIGRATING = 'migrating'
DELETING = 'deleting'

# power_state: what the hypervisor reports (nova.compute.power_state).
NOSTATE = 0x00
RUNNING = 0x01
PAUSED_POWER = 0x03
SHUTDOWN = 0x04
CRASHED = 0x06
SUSPENDED = 0x07

POWER_STATE_NAMES = {
    NOSTATE: 'NOSTATE', RUNNING: 'RUNNING', PAUSED_POWER: 'PAUSED',
    SHUTDOWN: 'SHUTDOWN', CRASHED: 'CRASHED', SUSPENDED: 'SUSPENDED',
}

# Which vm_states allow a live migration (Nova: ACTIVE, PAUSED).
LIVE_MIGRATE_VM_STATES = (ACTIVE, PAUSED)

COMPUTE_BINARY = 'nova-compute'
COMPUTE_TOPIC = 'compute'
