"""Request body schemas of POST /servers."""

import copy

from nova.api.openstack import validation

_networks = {
    'oneOf': [
        {'type': 'string', 'enum': ['auto', 'none']},
        {'type': 'array',
         'items': {
             'type': 'object',
             'properties': {
                 'uuid': {'type': 'string'},
                 'port': {'type': ['string', 'null']},
                 'fixed_ip': {'type': 'string'},
                 'tag': {'type': 'string'},
             },
             'additionalProperties': False,
         }},
    ],
}

_server_properties = {
    'name': validation.name,
    'imageRef': {'type': 'string', 'minLength': 0, 'maxLength': 255},
    'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
    'availability_zone': {'type': 'string', 'minLength': 1,
                          'maxLength': 255},
    'metadata': validation.metadata,
    'networks': {'type': 'array'},
    'min_count': {'type': ['integer', 'string'],
                  'pattern': '^[0-9]*$', 'minimum': 1, 'minLength': 1},
    'max_count': {'type': ['integer', 'string'],
                  'pattern': '^[0-9]*$', 'minimum': 1, 'minLength': 1},
    'return_reservation_id': validation.boolean,
    'key_name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    'security_groups': {
        'type': 'array',
        'items': {'type': 'object',
                  'properties': {'name': {'type': 'string'}},
                  'additionalProperties': False}},
    'user_data': {'type': 'string', 'maxLength': 65535},
    'config_drive': validation.boolean,
    'adminPass': {'type': 'string'},
    'accessIPv4': {'type': 'string'},
    'accessIPv6': {'type': 'string'},
    'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
    'block_device_mapping_v2': {
        'type': 'array',
        'items': {
            'type': 'object',
            'properties': {
                'source_type': {'type': 'string',
                                'enum': ['volume', 'image', 'snapshot',
                                         'blank']},
                'destination_type': {'type': 'string',
                                     'enum': ['local', 'volume']},
                'uuid': {'type': 'string'},
                'boot_index': {'type': ['integer', 'string', 'null']},
                'delete_on_termination': validation.boolean,
                'volume_size': {'type': ['integer', 'string', 'null']},
                'device_name': {'type': 'string'},
                'guest_format': {'type': 'string'},
                'disk_bus': {'type': 'string'},
                'device_type': {'type': 'string'},
                'no_device': {},
                'tag': {'type': 'string'},
                'volume_type': {'type': ['string', 'null']},
            },
            'additionalProperties': False,
        },
    },
}

base_create = {
    'type': 'object',
    'properties': {
        'server': {
            'type': 'object',
            'properties': _server_properties,
            'required': ['name', 'flavorRef'],
            'additionalProperties': False,
        },
        'os:scheduler_hints': {'type': 'object'},
        'OS-SCH-HNT:scheduler_hints': {'type': 'object'},
    },
    'required': ['server'],
    'additionalProperties': False,
}

# 2.19: description
create_v219 = copy.deepcopy(base_create)
create_v219['properties']['server']['properties']['description'] = \
    validation.description

# 2.37: networks required, "auto"/"none" or a list
create_v237 = copy.deepcopy(create_v219)
create_v237['properties']['server']['properties']['networks'] = _networks
create_v237['properties']['server']['required'].append('networks')

# 2.52: tags
create_v252 = copy.deepcopy(create_v237)
create_v252['properties']['server']['properties']['tags'] = {
    'type': 'array', 'items': {'type': 'string', 'maxLength': 60},
    'maxItems': 50}

# 2.63: trusted_image_certificates
create_v263 = copy.deepcopy(create_v252)
create_v263['properties']['server']['properties'][
    'trusted_image_certificates'] = {
        'type': ['array', 'null'], 'items': {'type': 'string'}}

# 2.74: host and hypervisor_hostname
create_v274 = copy.deepcopy(create_v263)
create_v274['properties']['server']['properties']['host'] = \
    validation.hostname
create_v274['properties']['server']['properties']['hypervisor_hostname'] = \
    validation.hostname


def _null_action(name):
    """An action whose value Nova ignores (``{"pause": null}``, ``{}``)."""
    return {
        'type': 'object',
        'properties': {name: {}},
        'required': [name],
        'additionalProperties': False,
    }


pause = _null_action('pause')
unpause = _null_action('unpause')
suspend = _null_action('suspend')
resume = _null_action('resume')

# 2.90: hostname, one DNS label
create_v290 = copy.deepcopy(create_v274)
create_v290['properties']['server']['properties']['hostname'] = {
    'type': 'string', 'minLength': 1, 'maxLength': 63,
    'pattern': '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$'}

# 2.94: hostname may be a fully qualified domain name
create_v294 = copy.deepcopy(create_v290)
create_v294['properties']['server']['properties']['hostname'] = \
    validation.hostname

# os-resetState
reset_state = {
    'type': 'object',
    'properties': {
        'os-resetState': {
            'type': 'object',
            'properties': {
                'state': {'type': 'string', 'enum': ['active', 'error']},
            },
            'required': ['state'],
            'additionalProperties': False,
        },
    },
    'required': ['os-resetState'],
    'additionalProperties': False,
}
