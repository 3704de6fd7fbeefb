"""What a host name may look like before it goes anywhere near a URI.

A compute host name given to the API (the ``host`` of ``os-migrateLive``,
the ``host`` of a server create) names a compute service; the libvirt
driver builds ``qemu+tcp://<host>/system`` from it. A name with ``/``,
``@``, ``:``, ``?``, ``#`` or a space would change what that URI means
(another path, a user name, a port, a query), so the API rejects such
names before anything else sees them, and the driver can apply the very
same rule to what it puts in a URI.

The rule is RFC 1123's (as amended RFC 952): dot-separated labels of
ASCII letters, digits and hyphens, each 1-63 characters that neither
start nor end with a hyphen, at most 253 characters in all (the longest
name DNS can carry, without the root's trailing dot). An IPv4 address in
dotted form is such a name too. Underscores are not allowed.

Everything here is a pure function of its arguments.
"""

import ipaddress
import re

MAX_LENGTH = 253
MAX_LABEL_LENGTH = 63

_LABEL = r'[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'

# The same rule as a regular expression, for JSON schemas and the OpenAPI
# description (the total length is their maxLength). ``\Z``-free on
# purpose: JSON Schema patterns are ECMA-262 regular expressions.
PATTERN = r'^%s(?:\.%s)*$' % (_LABEL, _LABEL)

_LABEL_RE = re.compile(r'%s\Z' % _LABEL)
_ALLOWED = frozenset('abcdefghijklmnopqrstuvwxyz'
                     'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.')


def hostname_problem(name):
    """Why ``name`` is not a valid host name, or None when it is one.

    The reason is a short English phrase meant for an error message, for
    example ``character '/' is not allowed``.
    """
    if not isinstance(name, str):
        return 'a host name is a string, not %s' % type(name).__name__
    if not name:
        return 'a host name cannot be empty'
    if len(name) > MAX_LENGTH:
        return ('a host name is at most %d characters long, this one has %d'
                % (MAX_LENGTH, len(name)))
    for char in name:
        if char not in _ALLOWED:
            return ("character %r is not allowed (only ASCII letters, "
                    "digits, '-' and '.')" % char)
    for label in name.split('.'):
        if not label:
            return 'a host name cannot have an empty label (\'..\', or a ' \
                   'leading or trailing \'.\')'
        if len(label) > MAX_LABEL_LENGTH:
            return ('label %r is longer than %d characters'
                    % (label, MAX_LABEL_LENGTH))
        if not _LABEL_RE.match(label):
            return "label %r starts or ends with '-'" % label
    return None


def is_valid_hostname(name):
    """True when ``name`` follows RFC 1123 (see the module docstring)."""
    return hostname_problem(name) is None


def address_problem(value):
    """Like :func:`hostname_problem`, but an IPv6 address is fine too.

    For values that are addresses rather than service names (a
    ``live_migration_inbound_addr``); an IPv6 address needs brackets in a
    URI, which :func:`uri_host` adds.
    """
    if isinstance(value, str) and ':' in value:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return 'not an IPv6 address, and %s' % hostname_problem(value)
        return None
    return hostname_problem(value)


def uri_host(value):
    """``value`` as the host part of a URI: IPv6 addresses in brackets.

    Raises ValueError naming the problem for anything that is neither a
    valid host name nor an IP address.
    """
    problem = address_problem(value)
    if problem is not None:
        raise ValueError('%r is not a valid host: %s' % (value, problem))
    if ':' in value:
        return '[%s]' % value
    return value
