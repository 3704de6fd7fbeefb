"""The compute instance as the driver and the services see it."""

import functools

from nova.db import api as db_api
from nova.objects import base


class Instance(base.Record):
    FIELDS = ('uuid', 'name', 'host', 'node', 'memory_mb', 'vcpus',
              'vm_state', 'task_state', 'power_state', 'progress',
              'image_ref', 'metadata', 'flavor_id', 'project_id', 'user_id',
              'fault_message', 'launched_at', 'created_at', 'updated_at',
              'deleted_at', 'hostname', 'pinned_availability_zone',
              'root_gb')
    # root_gb: the flavor's root disk (GiB) recorded at create; None on
    # older rows (the driver then makes no disk unless metadata asks).
    DEFAULTS = {'progress': 0, 'vcpus': 1, 'vm_state': 'active'}

    @classmethod
    def from_db(cls, db, values):
        """A record whose save() writes the changed fields to ``db``."""
        saver = base.DBSaver(functools.partial(db_api.instance_update, db),
                             'uuid')
        return cls.from_values(values, saver=saver)

    @classmethod
    def get_by_uuid(cls, db, uuid):
        return cls.from_db(db, db_api.instance_get_by_uuid(db, uuid))

    @classmethod
    def get_all(cls, db, filters=None, limit=None, marker=None):
        return [cls.from_db(db, row) for row in db_api.instance_get_all(
            db, filters, limit=limit, marker=marker)]
