"""Start-up checks of the configuration, before a service does anything.

oslo.config converts a value from a file only when the value is read, so a
bad one used to surface at its first use: a live migration that failed an
hour after start with ``ConfigFileValueError`` in the log, a heartbeat
thread that died without a log line. ``errors`` reads every registered
option once, so each bad value is found at start, and adds the checks that
span several options. The console scripts print what it finds, one line
per problem, and exit with status 1 (``exit_on_errors``).

The constraints themselves (``min``, ``choices``, types) live on the option
definitions in ``nova.conf``, where the generated configuration reference
shows them.
"""

import ipaddress
import re
import sys

from oslo_config import cfg

_VALUE_ERRORS = (cfg.ConfigSourceValueError, cfg.TemplateSubstitutionError,
                 cfg.RequiredOptError, ValueError)
_LOCATION = re.compile(r"from LocationInfo\(.*?detail='([^']*)'\)")
# rfc3986's validation error, as URIOpt passes it on: a tuple's repr.
_TUPLE_REASON = re.compile(r'^\("(.*?)", .*\)$')
_LOOPBACK_NAMES = ('localhost', 'localhost.localdomain', 'ip6-localhost')


def _raw_value(conf, group, name):
    """The text a config file gave the option, when it can be found.

    Only to quote it in the error; oslo.config has no public accessor for
    the unconverted value, so anything unexpected just leaves it out.
    """
    try:
        value, _loc = conf._namespace._get_file_value(
            [(group or 'DEFAULT', name)])
    except Exception:
        return None
    if isinstance(value, list):
        value = value[-1] if value else None
    return value


def describe(conf, group, name, exc):
    """One line: where the bad value is and what is wrong with it."""
    text = str(exc)
    reason = text.split(' is not valid: ', 1)[-1].strip()
    reason = _TUPLE_REASON.sub(r'\1', reason)
    where = _LOCATION.search(text)
    label = '[%s] %s' % (group or 'DEFAULT', name)
    raw = _raw_value(conf, group, name)
    if raw is not None:
        label += ' = %s' % raw
    if where and where.group(1):
        label += ' (%s)' % where.group(1)
    return '%s: %s' % (label, reason.rstrip('.'))


def option_errors(conf):
    """Read every registered option; one message per value that fails."""
    problems = []
    for key in list(conf):
        try:
            value = conf[key]
        except _VALUE_ERRORS as exc:
            problems.append(describe(conf, None, key, exc))
            continue
        if not isinstance(value, cfg.ConfigOpts.GroupAttr):
            continue
        for name in list(value):
            try:
                getattr(value, name)
            except _VALUE_ERRORS as exc:
                problems.append(describe(conf, key, name, exc))
    return problems


def is_loopback(address):
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost names."""
    address = (address or '').strip().strip('[]').lower()
    if address in _LOOPBACK_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, 'ipv4_mapped', None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _get(conf, group, name):
    """An option's value, or None where it is not registered or bad (a bad
    value is already reported by ``option_errors``).
    """
    try:
        return getattr(conf[group], name) if group else conf[name]
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError,
            *_VALUE_ERRORS):
        return None


def combination_errors(conf, api=False):
    """Checks across options, and of URLs whose syntax no type covers."""
    problems = []
    interval = _get(conf, None, 'report_interval')
    down_time = _get(conf, None, 'service_down_time')
    if interval is not None and down_time is not None \
            and down_time <= interval:
        problems.append(
            '[DEFAULT] service_down_time = %s must be larger than '
            'report_interval = %s: every service would show "down" between '
            'two heartbeats' % (down_time, interval))
    if _get(conf, 'libvirt', 'live_migration_with_native_tls') and \
            _get(conf, 'libvirt', 'live_migration_tunnelled'):
        problems.append(
            '[libvirt] live_migration_with_native_tls and '
            'live_migration_tunnelled are both true: pick one (native TLS '
            'encrypts the direct stream and keeps post-copy, parallel '
            'connections and block migration; the tunnel loses them)')
    url = _get(conf, 'database', 'connection')
    if url:
        reason = _database_url_error(url)
        if reason:
            problems.append('[database] connection: %s' % reason)
    transport_url = _get(conf, None, 'transport_url')
    if transport_url:
        reason = _transport_url_error(conf, transport_url)
        if reason:
            problems.append('[DEFAULT] transport_url: %s' % reason)
    if api and _get(conf, 'api', 'auth_strategy') == 'noauth2':
        listen = _get(conf, None, 'osapi_compute_listen')
        if listen is not None and not is_loopback(listen) \
                and not _get(conf, 'api', 'noauth2_allow_remote'):
            problems.append(
                '[api] auth_strategy = noauth2 with osapi_compute_listen = '
                '%s: noauth2 makes anyone who reaches the port an '
                'administrator; listen on 127.0.0.1, use keystone, or set '
                '[api] noauth2_allow_remote = true if that is really '
                'wanted' % listen)
    return problems


def _database_url_error(url):
    import sqlalchemy as sa
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:
        return 'not an SQLAlchemy URL (%s)' % exc
    try:
        dialect = parsed.get_dialect()
        getattr(dialect, 'import_dbapi', None) and dialect.import_dbapi()
    except Exception as exc:
        return 'no driver for %s (%s)' % (parsed.drivername, exc)
    return None


def _transport_url_error(conf, url):
    import oslo_messaging as messaging
    try:
        messaging.TransportURL.parse(conf, url)
    except Exception as exc:
        return 'not a transport URL (%s)' % exc
    return None


def errors(conf, api=False):
    """Every problem of ``conf``, one line each; [] when it is usable.

    ``api``: also the checks of a process that serves the REST API.
    """
    return option_errors(conf) + combination_errors(conf, api=api)


def check(conf, api=False):
    """Raise InvalidConfiguration listing every problem of ``conf``."""
    from nova import exception
    found = errors(conf, api=api)
    if found:
        raise exception.InvalidConfiguration(reason='; '.join(found))


def warn_insecure(conf, log):
    """Warn about settings that are allowed but unsafe."""
    if _get(conf, 'api', 'auth_strategy') != 'noauth2':
        return
    listen = _get(conf, None, 'osapi_compute_listen')
    log.warning('auth_strategy is noauth2: every caller is trusted (token '
                '"user:project", the user "admin" is an administrator); '
                'listening on %s. Use keystone in production.', listen)


def exit_on_errors(conf, prog, log=None, api=False, out=None):
    """For console scripts: print each problem, return 1, or 0 if none."""
    out = out or sys.stderr
    found = errors(conf, api=api)
    # The log too when it goes to a file (on stderr it would say it twice).
    to_log = log is not None and _get(conf, None, 'log_file')
    for problem in found:
        out.write('%s: invalid configuration: %s\n' % (prog, problem))
        if to_log:
            log.error('Invalid configuration: %s', problem)
    out.flush()
    if found:
        return 1
    if api and log is not None:
        warn_insecure(conf, log)
    return 0
