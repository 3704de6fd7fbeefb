"""The compute instance as the driver sees it."""

from nova.objects import base


class Instance(base.Record):
    FIELDS = ('uuid', 'name', 'host', 'node', 'memory_mb', 'vcpus',
              'vm_state', 'task_state', 'power_state', 'progress',
              'image_ref', 'metadata')
    DEFAULTS = {'progress': 0, 'vcpus': 1, 'vm_state': 'active'}
