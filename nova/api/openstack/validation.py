"""JSON-Schema validation of request bodies and query strings.

``@schema(body_schema, min_version, max_version)`` validates the ``body``
argument of a controller method against the schema for the request's
microversion; a bad body is a 400 whose message names the field::

    Invalid input for field/attribute block_migration. Value: maybe.
    'maybe' is not valid under any of the given schemas
"""

import functools

import jsonschema

from nova.api.openstack import api_version
from nova import exception
from nova import hostnames

# Boolean values Nova accepts in request bodies.
BOOLEAN_VALUES = [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on',
                  'YES', 'Yes', 'yes',
                  False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off',
                  'NO', 'No', 'no']

boolean = {'type': ['boolean', 'string'], 'enum': BOOLEAN_VALUES}

# A compute host name (it may end up in a libvirt URI): RFC 1123, checked
# by nova.hostnames.hostname_problem through the 'hostname' format below;
# the pattern and maxLength say the same for readers of the OpenAPI
# description and for request generators.
hostname = {
    'type': 'string', 'minLength': 1, 'maxLength': hostnames.MAX_LENGTH,
    'format': 'hostname', 'pattern': hostnames.PATTERN,
}

hostname_or_null = dict(hostname, type=['string', 'null'])

name = {
    'type': 'string', 'minLength': 1, 'maxLength': 255,
    'pattern': r'^(?! )[^\x00-\x1f]*(?<! )$',
}

description = {
    'type': ['string', 'null'], 'minLength': 0, 'maxLength': 255,
}

metadata = {
    'type': 'object',
    'patternProperties': {
        '^[a-zA-Z0-9-_:. ]{1,255}$': {'type': 'string', 'maxLength': 255},
    },
    'additionalProperties': False,
}

TRUE_STRINGS = ('1', 't', 'true', 'on', 'y', 'yes')


def bool_from_string(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_STRINGS


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


@FORMAT_CHECKER.checks('hostname', raises=ValueError)
def _check_hostname(value):
    """Strings must be RFC 1123 host names.

    Other types pass here: ``type`` checks them.
    """
    if not isinstance(value, str):
        return True
    problem = hostnames.hostname_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return True


# How a format reads in a message.
_FORMAT_NAMES = {'hostname': 'host name'}


def _error_message(error):
    """The reason part of the 400: a format error says what is wrong."""
    if error.validator == 'format' and error.cause is not None:
        return '%r is not a valid %s: %s' % (
            error.instance,
            _FORMAT_NAMES.get(error.validator_value, error.validator_value),
            error.cause)
    return error.message


def _error_rank(error):
    """Order of the errors: outermost first.

    At one field a format error comes first (its reason is the clearest),
    then the others by message, for a stable answer.
    """
    return (len(error.absolute_path), error.validator != 'format',
            error.message)


def validate(body, body_schema):
    """Raise ValidationError (400) naming the first bad field, as Nova does.

    The message is ``Invalid input for field/attribute <field>. Value:
    <value>. <reason>``, where <field> is the innermost key at fault (for
    a missing key: the object that lacks it, the reason names the key).
    """
    validator = jsonschema.Draft4Validator(body_schema,
                                           format_checker=FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=_error_rank)
    if not errors:
        return
    error = errors[0]
    path = list(error.absolute_path)
    if path:
        detail = ('Invalid input for field/attribute %s. Value: %s. %s'
                  % (path[-1], error.instance, _error_message(error)))
    else:
        detail = _error_message(error)
    raise exception.ValidationError(detail=detail)


def schema(body_schema, min_version=None, max_version=None):
    """Validate ``body`` against body_schema for min..max microversions.

    Stack several to give different schemas to different microversions;
    the first whose range holds the request's version applies.
    """
    low = api_version.APIVersion(min_version) if min_version else None
    high = api_version.APIVersion(max_version) if max_version else None

    def decorator(func):
        schemas = getattr(func, '_schemas', None)
        if schemas is None:
            schemas = []

            @functools.wraps(func)
            def wrapper(self, req, *args, **kwargs):
                for lo, hi, sch in wrapper._schemas:
                    if req.api_version.matches(lo, hi):
                        validate(kwargs.get('body'), sch)
                        break
                return func(self, req, *args, **kwargs)
            wrapper._schemas = schemas
            target = wrapper
        else:
            target = func
        schemas.append((low, high, body_schema))
        return target
    return decorator


def query_params(allowed):
    """Say which query parameters a method reads, without checking them.

    For the OpenAPI description (``nova.api.openstack.openapi``); Nova
    ignores unknown query parameters on these methods.
    """
    def decorator(func):
        func.query_params = tuple(allowed)
        return func
    return decorator


def query_schema(allowed, min_version=None):
    """Reject unknown query parameters (from min_version on) with a 400."""
    low = api_version.APIVersion(min_version) if min_version else None

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, req, *args, **kwargs):
            if req.api_version.matches(low, None):
                unknown = sorted(set(req.GET.keys()) - set(allowed))
                if unknown:
                    raise exception.ValidationError(
                        detail='Invalid input for query parameters %s. '
                               'Value: %s. Additional properties are not '
                               'allowed (%s were unexpected)'
                               % (', '.join(unknown),
                                  ', '.join(req.GET.getall(unknown[0])),
                                  ', '.join(repr(u) for u in unknown)))
            return func(self, req, *args, **kwargs)
        wrapper.query_params = tuple(allowed)
        wrapper.query_strict_from = low
        return wrapper
    return decorator
