"""Compute API microversions: parsing, comparison and the supported range.

A request names its version in ``OpenStack-API-Version: compute X.Y`` (or
the legacy ``X-OpenStack-Nova-API-Version: X.Y``); without either it gets
the minimum, 2.1. ``latest`` means the maximum below.

The maximum is the highest microversion whose behaviour this service
implements for the resources it serves (versions, flavors, images,
servers, os-migrateLive, server migrations, os-migrations, os-services,
os-hypervisors). The microversions on the way there that matter to them:

* 2.3    server show/detail: more OS-EXT-SRV-ATTR fields (admin)
* 2.9    server: ``locked``
* 2.11   os-services: ``forced_down``
* 2.16   server: ``host_status`` (admin)
* 2.19   server: ``description``
* 2.22   POST /servers/{id}/migrations/{mid}/action ``force_complete``
* 2.23   GET /servers/{id}/migrations[/{mid}] with memory/disk bytes;
         os-migrations: ``migration_type`` and ``links``
* 2.24   DELETE /servers/{id}/migrations/{mid} (abort)
* 2.25   os-migrateLive: ``block_migration`` may be ``"auto"``,
         ``disk_over_commit`` removed, only ``host`` and
         ``block_migration`` allowed
* 2.26   server: ``tags``
* 2.30   os-migrateLive: ``force``
* 2.36   the compute image proxy (/images) is gone (404)
* 2.37   server create: ``networks`` required ("auto", "none" or a list)
* 2.47   server: ``flavor`` embeds the flavor's values
* 2.53   os-services and os-hypervisors: UUID ids
* 2.55   flavors: ``description``
* 2.59   os-migrations and server migrations: ``uuid``; os-migrations
         paging (``limit``, ``marker``) and ``changes-since``
* 2.61   flavors: ``extra_specs`` in the flavor body
* 2.63   server: ``trusted_image_certificates``
* 2.65   abort also a ``queued`` or ``preparing`` live migration
* 2.66   os-migrations: ``changes-before``
* 2.68   os-migrateLive: ``force`` removed
* 2.71   server: ``server_groups``
* 2.73   server: ``locked_reason``
* 2.74   server create: ``host`` and ``hypervisor_hostname``
* 2.75   server list/detail reject unknown query parameters; flavor
         ``swap`` is 0 instead of ""
* 2.79   (server volume attach ``delete_on_termination``; nothing to do
         for the resources served here)
* 2.80   os-migrations and server migrations: ``user_id`` and
         ``project_id``; os-migrations filters ``user_id`` and
         ``project_id``
* 2.81   (image cache in aggregates: not served)
* 2.82   (accelerator-request server event: not served)
* 2.83   server list: the vm_state, task_state, power_state, user_id,
         progress and availability_zone filters for every caller
* 2.84   (instance action event details: not served)
* 2.85   (volume attachment update: not served)
* 2.86   (flavor extra spec validation: flavors are read-only here)
* 2.87   (rescue of volume-backed servers: not served)
* 2.88   os-hypervisors: no resource figures and no ``cpu_info`` in
         detail/show, ``uptime`` in show; ``/statistics`` and
         ``/{id}/uptime`` are gone (404)
* 2.89   (volume attachment fields: not served)
* 2.90   server create: ``hostname``; ``OS-EXT-SRV-ATTR:hostname`` shown
         to every caller
* 2.91   (unshelve to a host: not served)
* 2.92   (key pair import only: not served)
* 2.93   (rebuild of volume-backed servers: not served)
* 2.94   server create: ``hostname`` may be a fully qualified name
* 2.95   (evacuate to a stopped server: not served)
* 2.96   server show and list detail: ``pinned_availability_zone``

The list with the reasons is in doc/source/admin/api.rst.
"""

import functools
import re

from nova import exception

MIN_VERSION_STRING = '2.1'
MAX_VERSION_STRING = '2.96'

_VERSION_RE = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')

# More digits than any microversion will have; a longer number is refused
# before int() (Python refuses over 4,300 digits with a ValueError, a 500).
_MAX_DIGITS = 9
# How much of a refused header a fault message repeats.
_ECHO_CHARS = 32

SERVICE_TYPE = 'compute'
HEADER = 'OpenStack-API-Version'
LEGACY_HEADER = 'X-OpenStack-Nova-API-Version'


class APIVersion(object):
    """A compute microversion such as 2.25, ordered numerically."""

    __slots__ = ('major', 'minor')

    def __init__(self, version_string=None, major=0, minor=0):
        if version_string is not None:
            match = _VERSION_RE.match(version_string.strip())
            if not match or max(len(match.group(1)),
                                len(match.group(2))) > _MAX_DIGITS:
                raise exception.InvalidAPIVersionString(
                    version=_echo(version_string))
            major, minor = int(match.group(1)), int(match.group(2))
        self.major = major
        self.minor = minor

    def _key(self):
        return (self.major, self.minor)

    def __eq__(self, other):
        return self._key() == as_version(other)._key()

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self._key() < as_version(other)._key()

    def __le__(self, other):
        return self._key() <= as_version(other)._key()

    def __gt__(self, other):
        return self._key() > as_version(other)._key()

    def __ge__(self, other):
        return self._key() >= as_version(other)._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        return '%d.%d' % (self.major, self.minor)

    def __repr__(self):
        return 'APIVersion(%s)' % self

    def matches(self, min_version=None, max_version=None):
        """True when min_version <= self <= max_version (None: open)."""
        if min_version is not None and self < min_version:
            return False
        if max_version is not None and self > max_version:
            return False
        return True


def _echo(value):
    """``value`` as a fault message may repeat it: short, its length said."""
    if len(value) <= _ECHO_CHARS:
        return value
    return '%s... (%d characters)' % (value[:_ECHO_CHARS], len(value))


def as_version(value):
    if isinstance(value, APIVersion):
        return value
    return _parsed(value)


@functools.lru_cache(maxsize=512)
def _parsed(value):
    """APIVersion of a string, parsed once: views compare the request's
    version with the same few literals ('2.16', '2.47', ...) dozens of
    times per server listed.
    """
    return APIVersion(value)


MIN_VERSION = APIVersion(MIN_VERSION_STRING)
MAX_VERSION = APIVersion(MAX_VERSION_STRING)


def _from_new_header(value):
    """The compute entry of ``OpenStack-API-Version`` or None."""
    for item in value.split(','):
        parts = item.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lower() == SERVICE_TYPE:
            return parts[1].strip()
    return None


def requested_version_string(headers):
    """The version asked for by the request headers, or None."""
    value = headers.get(HEADER)
    if value:
        found = _from_new_header(value)
        if found is not None:
            return found
    legacy = headers.get(LEGACY_HEADER)
    if legacy:
        return legacy.strip()
    return None


def version_for_request(headers):
    """Resolve the request's microversion.

    Raises InvalidAPIVersionString (400) for a malformed value and
    InvalidGlobalAPIVersion (406) for one outside the supported range.
    """
    asked = requested_version_string(headers)
    if asked is None:
        return MIN_VERSION
    if asked.lower() == 'latest':
        return MAX_VERSION
    version = APIVersion(asked)
    if not version.matches(MIN_VERSION, MAX_VERSION):
        raise exception.InvalidGlobalAPIVersion(
            req_ver=str(version), min_ver=MIN_VERSION_STRING,
            max_ver=MAX_VERSION_STRING)
    return version


def response_headers(version):
    return [
        (HEADER, '%s %s' % (SERVICE_TYPE, version)),
        (LEGACY_HEADER, str(version)),
        ('Vary', '%s, %s' % (HEADER, LEGACY_HEADER)),
    ]
