"""Body schemas of the os-migrateLive server action."""

import copy

from nova.api.openstack import validation

migrate_live = {
    'type': 'object',
    'properties': {
        'os-migrateLive': {
            'type': 'object',
            'properties': {
                'block_migration': validation.boolean,
                'disk_over_commit': validation.boolean,
                'host': validation.hostname_or_null,
            },
            'required': ['block_migration', 'disk_over_commit', 'host'],
            'additionalProperties': False,
        },
    },
    'required': ['os-migrateLive'],
    'additionalProperties': False,
}

_block_migration = {
    'oneOf': [validation.boolean, {'type': 'string', 'enum': ['auto']}],
}

# 2.25: block_migration may be "auto"; disk_over_commit is gone.
migrate_live_v2_25 = copy.deepcopy(migrate_live)
_v225 = migrate_live_v2_25['properties']['os-migrateLive']
del _v225['properties']['disk_over_commit']
_v225['properties']['block_migration'] = _block_migration
_v225['required'] = ['block_migration', 'host']

# 2.30: force
migrate_live_v2_30 = copy.deepcopy(migrate_live_v2_25)
migrate_live_v2_30['properties']['os-migrateLive']['properties']['force'] = \
    validation.boolean

# 2.68: force removed again
migrate_live_v2_68 = copy.deepcopy(migrate_live_v2_25)
