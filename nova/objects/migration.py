"""A live migration record: status and the memory/disk byte counters."""

from nova.objects import base


class Migration(base.Record):
    FIELDS = ('id', 'uuid', 'instance_uuid', 'source_compute', 'dest_compute',
              'source_node', 'dest_node', 'status', 'migration_type',
              'memory_total', 'memory_processed', 'memory_remaining',
              'disk_total', 'disk_processed', 'disk_remaining')
    DEFAULTS = {'status': 'queued', 'migration_type': 'live-migration',
                'memory_total': 0, 'memory_processed': 0,
                'memory_remaining': 0, 'disk_total': 0, 'disk_processed': 0,
                'disk_remaining': 0}
