"""Helpers shared by the controllers: links, times, paging, lookups."""

import datetime

from nova import exception

try:  # pragma: no cover - always present with oslo.utils
    from oslo_utils import timeutils
except ImportError:  # pragma: no cover
    timeutils = None


def _to_datetime(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, (int, float)):
        return datetime.datetime.utcfromtimestamp(value)
    if isinstance(value, str):
        return timeutils.parse_isotime(value) if timeutils else None
    return None


def _naive_utc(value):
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def isotime(value):
    """Server timestamps: ``2026-11-25T20:00:00Z``."""
    value = _naive_utc(_to_datetime(value))
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def dbtime(value):
    """Record timestamps (migrations, services): ``...T20:00:00.000000``."""
    value = _naive_utc(_to_datetime(value))
    return value.strftime('%Y-%m-%dT%H:%M:%S.%f') if value else None


def parse_time_param(name, value):
    """A naive UTC datetime from an ISO 8601 query value, else a 400.

    OverflowError too: a valid time such as 9999-12-31T23:59:59-01:00
    has no UTC datetime.
    """
    try:
        return _naive_utc(timeutils.parse_isotime(value))
    except (ValueError, OverflowError):
        raise exception.ValidationError(
            detail="Invalid input for query parameters %s. Value: %s. "
                   "'%s' is not a 'date-time'" % (name, value, value))


def link(req, conf, *parts, **kwargs):
    base = req.base_url(conf)
    prefix = kwargs.get('prefix', 'v2.1')
    path = '/'.join(str(p) for p in parts)
    if prefix:
        return '%s/%s/%s' % (base, prefix, path)
    return '%s/%s' % (base, path)


def self_links(req, conf, collection, item_id):
    return [
        {'rel': 'self', 'href': link(req, conf, collection, item_id)},
        {'rel': 'bookmark',
         'href': link(req, conf, collection, item_id, prefix='')},
    ]


def get_limit(req, conf):
    value = req.GET.get('limit')
    max_limit = conf.api.max_limit
    if value is None:
        return max_limit
    try:
        limit = int(value)
    except ValueError:
        raise exception.ValidationError(
            detail='limit param must be an integer')
    if limit < 0:
        raise exception.ValidationError(
            detail='limit param must be positive')
    return min(limit, max_limit)


def attr(obj, name, default=None):
    """Attribute or mapping key of a record, default when missing."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)
