"""Body schemas of PUT /os-services (Nova's shapes)."""

_HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_REASON = {'type': 'string', 'minLength': 1, 'maxLength': 255}

# Before 2.53: PUT /os-services/enable, /disable, /disable-log-reason.
service_update = {
    'type': 'object',
    'properties': {
        'host': _HOST,
        'binary': _HOST,
        'disabled_reason': _REASON,
    },
    'required': ['host', 'binary'],
    'additionalProperties': False,
}

# 2.11 to 2.52: PUT /os-services/force-down.
service_force_down = {
    'type': 'object',
    'properties': {
        'host': _HOST,
        'binary': _HOST,
        'forced_down': {'type': 'boolean'},
    },
    'required': ['host', 'binary', 'forced_down'],
    'additionalProperties': False,
}

# From 2.53: PUT /os-services/{service_uuid}.
service_update_v2_53 = {
    'type': 'object',
    'properties': {
        'status': {'type': 'string', 'enum': ['enabled', 'disabled']},
        'disabled_reason': _REASON,
        'forced_down': {'type': 'boolean'},
    },
    'additionalProperties': False,
}
