"""Services, compute nodes, flavors and images: read-mostly records."""

import datetime

from nova.db import api as db_api
from nova.objects import base


class Service(base.Record):
    FIELDS = ('id', 'uuid', 'host', 'binary', 'topic', 'disabled',
              'disabled_reason',
              'forced_down', 'last_seen_up', 'report_count', 'created_at',
              'updated_at',
              # computed by the API: 'up' or 'down'
              'state')

    @property
    def status(self):
        return 'disabled' if self.disabled else 'enabled'

    def is_up(self, now, down_time):
        """Up: not forced down and a heartbeat within ``down_time`` s."""
        return service_is_up(self.forced_down, self.last_seen_up,
                             self.updated_at, self.created_at, now,
                             down_time)

    @classmethod
    def get_all(cls, db, binary=None, host=None):
        return [cls.from_values(row) for row in db_api.service_get_all(
            db, binary=binary, host=host)]


def service_is_up(forced_down, last_seen_up, updated_at, created_at, now,
                  down_time):
    if forced_down:
        return False
    seen = last_seen_up or updated_at or created_at
    if seen is None:
        return False
    return (now - seen) <= datetime.timedelta(seconds=down_time)


class ComputeNode(base.Record):
    FIELDS = ('id', 'uuid', 'host', 'hypervisor_hostname', 'hypervisor_type',
              'hypervisor_version', 'cpu_info', 'vcpus', 'memory_mb',
              'vcpus_used', 'memory_mb_used', 'running_vms', 'state',
              'created_at', 'updated_at',
              # computed by the API from the host's compute service
              'status', 'service_id', 'service_disabled_reason')

    @property
    def free_ram_mb(self):
        return (self.memory_mb or 0) - (self.memory_mb_used or 0)

    @classmethod
    def get_all(cls, db):
        return [cls.from_values(row)
                for row in db_api.compute_node_get_all(db)]


class Flavor(base.Record):
    FIELDS = ('id', 'flavorid', 'name', 'memory_mb', 'vcpus', 'root_gb',
              'is_public', 'created_at', 'updated_at')


class Image(base.Record):
    FIELDS = ('id', 'name', 'kernel', 'initrd', 'cmdline', 'status',
              'created_at', 'updated_at')
