"""Schema-driven fuzzing of the compute API, in process (no network).

Requests are drawn from the OpenAPI description
(``nova.api.openstack.openapi``): an operation, its path parameters (ids
that exist, ids that do not, odd text), query parameters, a microversion
header (in range, ``latest``, out of range, malformed, thousands of
digits, absent), a caller (admin, the owner of some servers, another
project, no token), a body (valid for one of the operation's microversion
schemas, the same shapes with wrong fields, any JSON, bytes that are not
JSON) and its Content-Type (JSON, none, or a type the API does not read).
Each goes to the WSGI application over the real compute API
(``nova.fuzz.world``) and the answer is checked by :func:`problems`:

* never a 5xx;
* every 4xx is Nova's fault body with the status as code and a message;
* a body of a type other than JSON is never accepted (415, or an earlier
  refusal);
* a caller without the admin role who reaches an admin-only operation
  (every migration action) gets 403, whatever the ids and the body.

The unit tests (``test_fuzz``) run a few hundred requests with a fixed
seed; ``tox -e fuzz`` runs the ``nova-api-fuzz`` console script for
thousands and prints the counts::

    nova-api-fuzz --requests 5000 [--seed N]

It needs hypothesis (``pip install nova[fuzz]``; the test requirements
have it).
"""

import argparse
import collections
import json
import sys
import tempfile
import time
import urllib.parse

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nova.api.openstack import api_version
from nova.api.openstack import openapi
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.fuzz import strategies as schema_strategies
from nova.fuzz import world as fuzz_world

METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD')
FAULT_NAMES = frozenset(
    openapi.build_document()['components']['schemas']['Fault'][
        'propertyNames']['enum'])

# Callers: (label, token). 'none' sends no token.
CALLERS = (
    ('admin', fuzz_world.ADMIN_TOKEN),
    ('owner', fuzz_world.OWNER_TOKEN),
    ('other', fuzz_world.OTHER_TOKEN),
    ('none', None),
)
NON_ADMIN = ('owner', 'other')

# Path parameters drawn from the world's ids, by name.
_ID_KEYS = {'server_id': 'server_id', 'migration_id': 'migration_id',
            'hypervisor_id': 'hypervisor_id', 'flavor_id': 'flavor_id',
            'image_id': 'image_id'}


class Operation(object):
    """One operation of the OpenAPI document, with what the fuzzer needs."""

    def __init__(self, document, path, method, op):
        self.path = path
        self.method = method.upper()
        self.op = op
        self.op_id = op['operationId']
        self.params = [p['name'] for p in op.get('parameters', ())
                       if p.get('in') == 'path']
        self.query = [p['name'] for p in op.get('parameters', ())
                      if p.get('in') == 'query']
        body = op.get('requestBody', {})
        self.schemas = [
            (api_version.APIVersion(r['min_version']),
             api_version.APIVersion(r['max_version']),
             openapi.resolve(document, r['schema']))
            for r in body.get('x-openstack-schemas-by-version', ())]
        self.versions = [
            (api_version.APIVersion(r['min_version']),
             api_version.APIVersion(r['max_version']))
            for r in op.get('x-openstack-versions', ())]
        self.action = op.get('x-openstack-action')
        self.admin_only = _admin_only(op.get(
            'x-openstack-policy-checked-first'))
        self.public = op.get('security') == []
        self.body_strategies = {}

    def __repr__(self):
        return '%s %s' % (self.method, self.path)


def _admin_only(rule):
    if not rule:
        return False
    defaults = {r.name: r.check_str for r in policy.list_rules()}
    return defaults.get(rule) == policy.ADMIN


def load_operations():
    document = openapi.build_document()
    ops = []
    for path, item in sorted(document['paths'].items()):
        for method, op in sorted(item.items()):
            # Several actions on one URL: one operation each.
            for sub in op.get('x-openstack-actions', [op]):
                ops.append(Operation(document, path, method, sub))
    return ops


# Content-Type headers of a body: None sends none (read as JSON).
JSON_TYPES = (None, 'application/json', 'application/json; charset=UTF-8',
              'application/vnd.openstack.compute+json')
OTHER_TYPES = ('text/plain', 'application/x-www-form-urlencoded',
               'application/xml', 'multipart/form-data; boundary=x',
               'text/html; charset=utf-8', 'application/jsonx')


def readable_type(content_type):
    """True when the API reads a body sent with this Content-Type."""
    if content_type is None:
        return True
    media = content_type.split(';', 1)[0]  # as webob reads it
    return media in ('',) + wsgi.SUPPORTED_CONTENT_TYPES


class Request(object):
    """A drawn request and what the checks need to know about it."""

    def __init__(self, operation, method, path, query, version_header,
                 version, caller, token, body, clean_path,
                 content_type='application/json'):
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.version_header = version_header
        self.version = version
        self.caller = caller
        self.token = token
        self.body = body
        self.clean_path = clean_path
        self.content_type = content_type

    def unreadable_body(self):
        """True when the body has a Content-Type the API must refuse."""
        return bool(self.body) and not readable_type(self.content_type)

    def malformed_body(self):
        """True when the router refuses the body on reading (400): not
        JSON, or a string with a lone surrogate. Any method with a body
        (PUT too, not only actions).
        """
        if not self.body:
            return False
        try:
            body = json.loads(self.body.decode('utf-8'))
            json.dumps(body, ensure_ascii=False).encode('utf-8')
        except (ValueError, UnicodeDecodeError, UnicodeEncodeError,
                AttributeError, RecursionError):
            return True
        return False

    def url(self):
        return self.path + ('?' + self.query if self.query else '')

    def __repr__(self):
        version = self.version_header[1] if self.version_header else None
        if version and len(version) > 60:
            version = '%s...(%d characters)' % (version[:40], len(version))
        return ('%s %s %s=%r token=%r content-type=%r body=%r'
                % (self.method, self.url(), self.version_header[0]
                   if self.version_header else None, version,
                   self.token, self.content_type,
                   self.body[:300] if self.body else None))

    def dispatches_to_operation(self):
        """True when the router must run the operation's method.

        Its method, a path whose parameters are plain segments, a
        microversion the operation serves and, for an action, a body
        naming that action (else the router itself answers: 400, 404 or
        405 before any controller runs).
        """
        op = self.operation
        if self.method != op.method or not self.clean_path:
            return False
        if self.method in ('POST', 'PUT') and (
                self.unreadable_body() or self.malformed_body()):
            return False
        if self.version is None or not any(
                self.version.matches(lo, hi) for lo, hi in op.versions):
            return False
        if op.action is not None:
            try:
                body = json.loads(self.body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError, AttributeError,
                    RecursionError):
                return False
            if not (isinstance(body, dict) and list(body) == [op.action]):
                return False
            try:
                json.dumps(body, ensure_ascii=False).encode('utf-8')
            except UnicodeEncodeError:
                # A lone surrogate: a malformed body, refused on reading.
                return False
        return True


# -- strategies -------------------------------------------------------------

_odd_segments = st.one_of(
    st.text(min_size=1, max_size=30),
    st.integers(-2 ** 70, 2 ** 70).map(str),
    st.sampled_from(['0', '-1', '1.5', '%', '..', ' ', 'latest', 'detail',
                     'null', '00000000-0000-0000-0000-000000000000',
                     str(2 ** 63), str(2 ** 64), '\u00e9', '\x00', 'a/b']))


def _long_versions():
    """Numbers of up to thousands of digits, well or badly formed."""
    digits = st.integers(10, 6000).map(lambda n: '1' * n)
    return st.one_of(
        digits.map(lambda d: '2.' + d), digits.map(lambda d: d + '.1'),
        digits.map(lambda d: '2.' + d + 'x'),
        st.integers(2 ** 31, 2 ** 70).map(lambda n: '2.%d' % n))


def _version_headers():
    top = api_version.MAX_VERSION.minor
    valid = st.integers(1, top).map(lambda minor: '2.%d' % minor)
    value = st.one_of(
        valid, valid, valid, valid, st.just('latest'),
        st.sampled_from(['2.0', '2.%d' % (top + 1), '3.0', '1.1', '2.100',
                         '2.22', '2.23', '2.24', '2.25', '2.35', '2.36',
                         '2.65', '2.74', '2.75', '2.', '.1', '2..1',
                         '2.1.1', '02.1', '2.01', '-2.1', '2.-1', ' ',
                         'compute', 'LATEST', '2.1 2.2', '2.\u0661']),
        _long_versions(),
        st.text(max_size=12))
    return st.one_of(
        st.none(),
        st.tuples(st.just('OpenStack-API-Version'),
                  value.map(lambda v: 'compute %s' % v)),
        st.tuples(st.just('X-OpenStack-Nova-API-Version'), value))


def effective_version(header):
    """The microversion the API must serve for this header.

    None when the header is one it must refuse (malformed or out of
    range).
    """
    if header is None:
        return api_version.MIN_VERSION
    name, value = header
    if name == 'OpenStack-API-Version':
        value = api_version._from_new_header(value)
        if value is None:
            return api_version.MIN_VERSION
    elif not value:
        return api_version.MIN_VERSION  # an empty header is no header
    value = value.strip()
    if not value:
        return None  # blanks: a header that names no version (400)
    if value.lower() == 'latest':
        return api_version.MAX_VERSION
    try:
        version = api_version.APIVersion(value)
    except Exception:
        return None
    if not version.matches(api_version.MIN_VERSION, api_version.MAX_VERSION):
        return None
    return version


def _hinted(value, hints, draw):
    """``value`` with some fields set to values that exist in the world.

    A schema allows any flavorRef; only an existing one gets a create
    past the flavor lookup to the code behind it.
    """
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key in hints and draw(st.booleans()):
                item = draw(st.sampled_from(hints[key]))
            if key in _FILL and isinstance(item, dict) and draw(
                    st.booleans()):
                # Add what an optional-looking but needed field lacks.
                item = dict(item)
                for name in _FILL[key]:
                    item.setdefault(name, draw(st.sampled_from(hints[name])))
            result[key] = _hinted(item, hints, draw)
        return result
    if isinstance(value, list):
        return [_hinted(item, hints, draw) for item in value]
    return value


# Fields that objects under these keys need to get far (create needs an
# image, and from 2.37 networks).
_FILL = {'server': ('imageRef', 'flavorRef', 'networks')}


_HINTS = {}


def _hints(ids):
    """Values that exist in the world, by field name (one dict per ids)."""
    cached = _HINTS.get(id(ids))
    if cached is None or cached[0] is not ids:
        cached = (ids, _make_hints(ids))
        _HINTS[id(ids)] = cached
    return cached[1]


def _make_hints(ids):
    hosts = ids['host']
    return {
        'imageRef': ids['image_id'], 'uuid': ids['image_id'],
        'flavorRef': ids['flavor_id'], 'host': hosts + [None],
        'hypervisor_hostname': hosts,
        'availability_zone': ['nova'] + ['nova:%s' % h for h in hosts],
        'networks': ['none', 'auto', []], 'min_count': [1, 2],
        'block_device_mapping_v2': [[]],
        'max_count': [1, 3, '1000000'],
        'block_migration': ['auto', False, True],
    }


@st.composite
def _json_body(draw, strategy, hints):
    value = draw(strategy)
    if hints is not None:
        value = _hinted(value, hints, draw)
    return json.dumps(value).encode('utf-8')


def _body(operation, hints=None, version=None):
    """Bytes of a body for the operation (None: no body).

    Mostly valid for the schema of ``version`` (when the operation has
    one), else for any of its schemas, with wild fields, or not JSON.
    Built once per operation and version.
    """
    key = (str(version), id(hints))
    cache = operation.body_strategies
    if key not in cache:
        cache[key] = (hints, _build_body(operation, hints, version))
    return cache[key][1]


def _build_body(operation, hints, version):
    encoded = st.builds(lambda v: json.dumps(v).encode('utf-8'),
                        schema_strategies.json_values)
    options = [st.none(), encoded,
               st.binary(max_size=40),
               st.sampled_from([b'{', b'null', b'[]', b'{}', b'\xff\xfe',
                                b'{"a": NaN}', b'1e999', b'"x"',
                                b'[' * 5000 + b']' * 5000])]
    for _lo, _hi, schema in operation.schemas:
        for wild in (False, False, True):
            options.append(_json_body(
                schema_strategies.from_schema(schema, wild), hints))
    if operation.schemas:
        matching = [_json_body(schema_strategies.from_schema(schema), hints)
                    for lo, hi, schema in operation.schemas
                    if version is not None and version.matches(lo, hi)]
        return st.one_of(matching * 3 + [st.one_of(options[4:]),
                                         st.one_of(options)])
    return st.one_of(options)


def _focused_body(operation, hints, version):
    """A body valid for ``version``, with existing ids (cached)."""
    key = ('focused', str(version), id(hints))
    cache = operation.body_strategies
    if key not in cache:
        cache[key] = (hints, st.one_of([
            _json_body(schema_strategies.from_schema(schema), hints)
            for lo, hi, schema in operation.schemas
            if version.matches(lo, hi)]))
    return cache[key][1]


def _rarely(draw, one_in):
    """True about once in ``one_in`` draws.

    Hypothesis likes the ends of a range; True sits in the middle.
    """
    half = one_in // 2
    return draw(st.sampled_from([False] * half + [True]
                                + [False] * (one_in - half - 1)))


def _focused_version(draw, operation):
    """A header asking for a microversion the operation serves."""
    low, high = draw(st.sampled_from(operation.versions or [
        (api_version.MIN_VERSION, api_version.MAX_VERSION)]))
    minor = draw(st.integers(low.minor, high.minor))
    return ('OpenStack-API-Version', 'compute 2.%d' % minor)


@st.composite
def requests(draw, operations, ids, focused=False, callers=None):
    """A Request for one of ``operations``.

    ``callers``: (label, token) pairs to draw the caller from.
    ``focused``: ids that exist, a microversion the operation serves, a
    body valid for it and a caller with a token, so that requests get
    past validation into the compute API (to 2xx, 404 and 409).
    """
    if focused:
        # What changes state is where the compute API does the most.
        operations = [op for op in operations
                      for _ in range(1 if op.method == 'GET' else 4)]
    operation = draw(st.sampled_from(operations))
    path = operation.path
    clean = True
    for name in operation.params:
        known = ids.get(_ID_KEYS.get(name, ''), ())
        choices = [_odd_segments]
        if known:
            choices = [st.sampled_from(known)] * 3 + choices
            if focused:
                choices = [st.sampled_from(known)]
        value = draw(st.one_of(choices))
        if not value or '/' in value:
            clean = False
        segment = urllib.parse.quote(value, safe='')
        path = path.replace('{%s}' % name, segment)
    if not focused and _rarely(draw, 10):
        path += '/'
    pairs = []
    if operation.query:
        for name in draw(st.lists(st.sampled_from(operation.query),
                                  max_size=3)):
            pairs.append((name, draw(st.one_of(
                st.text(max_size=20),
                st.sampled_from(['1', '0', 'true', '-1', str(2 ** 64),
                                 '2026-11-25T12:00:00Z',
                                 '9999-12-31T23:59:59-01:00', 'lab-a',
                                 '\u00b2', 'running', 'live-migration'])
                | (st.sampled_from(ids['migration_uuid'] + ids['server_id'])
                   if name in ('marker', 'instance_uuid') else st.nothing()),
            ))))
    if not focused and _rarely(draw, 8):
        pairs.append((draw(st.text(min_size=1, max_size=10)),
                      draw(st.text(max_size=10))))
    query = urllib.parse.urlencode(pairs)
    if not focused and _rarely(draw, 30):
        query += '&raw=%ff'
        clean = False
    if focused:
        header = _focused_version(draw, operation)
        callers = callers or CALLERS[:1] * 3 + CALLERS[1:2]
    else:
        header = draw(_version_headers())
        # Mostly the admin: most operations are admin-only.
        callers = callers or CALLERS[:1] * 4 + CALLERS[1:]
    version = effective_version(header)
    caller, token = draw(st.sampled_from(callers))
    method = operation.method
    if not focused and _rarely(draw, 15):
        method = draw(st.sampled_from(METHODS))
    if focused and operation.schemas:
        body = draw(_focused_body(operation, _hints(ids), version))
    elif focused and operation.method not in ('POST', 'PUT'):
        body = None
    else:
        body = draw(_body(operation, _hints(ids), version))
    content_type = 'application/json'
    if not focused:
        content_type = draw(st.one_of(
            st.sampled_from(JSON_TYPES), st.sampled_from(JSON_TYPES),
            st.sampled_from(OTHER_TYPES),
            st.text(min_size=1, max_size=20).filter(_header_safe)))
    return Request(operation, method, path, query, header, version, caller,
                   token, body, clean, content_type)


def _header_safe(value):
    """A header value webob can send (latin-1, no line break)."""
    try:
        value.encode('latin-1')
    except UnicodeEncodeError:
        return False
    return '\r' not in value and '\n' not in value and value.strip() == value


# -- checks --------------------------------------------------------------------

def problems(request, status, body):
    """What is wrong with the answer ``status``/``body`` to ``request``.

    An empty list when nothing is.
    """
    found = []
    if status >= 500:
        found.append('%d' % status)
    if status >= 400:
        try:
            fault = json.loads(body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            fault = None
        if request.method == 'HEAD':
            pass
        elif not (isinstance(fault, dict) and len(fault) == 1):
            found.append('%d without a fault body: %r' % (status, body[:200]))
        else:
            (name, detail), = fault.items()
            if name not in FAULT_NAMES:
                found.append('unknown fault name %r' % name)
            if not isinstance(detail, dict) or detail.get('code') != status:
                found.append('fault code differs from the status %d: %r'
                             % (status, detail))
            elif not (isinstance(detail.get('message'), str)
                      and detail['message'].strip()):
                found.append('fault without a message: %r' % detail)
    elif status >= 300 or status < 200:
        found.append('unexpected status %d' % status)
    if (request.method in ('POST', 'PUT') and request.unreadable_body()
            and 200 <= status < 300):
        found.append('a %r body was accepted (%d), not refused with 415'
                     % (request.content_type, status))
    op = request.operation
    if (op.admin_only and request.caller in NON_ADMIN
            and request.dispatches_to_operation() and status != 403):
        found.append('non-admin %s on admin-only %s got %d, not 403'
                     % (request.caller, op.op_id, status))
    return found


# -- driving the app --------------------------------------------------------

class Counts(object):
    """Requests tried and answers by class, for the report."""

    def __init__(self):
        self.total = 0
        self.by_class = collections.Counter()
        self.by_status = collections.Counter()
        self.by_operation = collections.Counter()
        self.forbidden_admin_only = 0
        self.failures = []

    def add(self, request, status, found):
        self.total += 1
        self.by_class['%dxx' % (status // 100)] += 1
        self.by_status[status] += 1
        self.by_operation[request.operation.op_id] += 1
        if (request.operation.admin_only and request.caller in NON_ADMIN
                and status == 403):
            self.forbidden_admin_only += 1
        if found:
            self.failures.append((request, status, found))

    def report(self):
        lines = ['requests tried: %d' % self.total]
        for name in ('2xx', '4xx', '5xx'):
            lines.append('%s: %d' % (name, self.by_class.get(name, 0)))
        others = sum(v for k, v in self.by_class.items()
                     if k not in ('2xx', '4xx', '5xx'))
        if others:
            lines.append('other: %d' % others)
        lines.append('403 to non-admin on admin-only operations: %d'
                     % self.forbidden_admin_only)
        lines.append('by status: %s' % ', '.join(
            '%d=%d' % item for item in sorted(self.by_status.items())))
        lines.append('by operation: %s' % ', '.join(
            '%s=%d' % item for item in sorted(self.by_operation.items())))
        lines.append('requests with problems: %d' % len(self.failures))
        return '\n'.join(lines)


def send(app, request):
    import webob
    req = webob.Request.blank('/', method=request.method)
    req.environ['PATH_INFO'] = urllib.parse.unquote(
        request.path, encoding='latin-1')
    req.environ['QUERY_STRING'] = request.query
    if request.token is not None:
        req.headers['X-Auth-Token'] = request.token
    if request.version_header is not None:
        name, value = request.version_header
        req.headers[name] = value
    if request.body is not None:
        req.body = request.body
        if request.content_type is None:
            req.environ.pop('CONTENT_TYPE', None)
        else:
            req.environ['CONTENT_TYPE'] = request.content_type
    resp = req.get_response(app)
    return resp.status_int, resp.body


def check(world, request, counts=None, reset=True):
    """Send ``request``; return its problems (and count it)."""
    if reset:
        world.reset()
    status, body = send(world.app, request)
    found = problems(request, status, body)
    if counts is not None:
        counts.add(request, status, found)
    return found


def hypothesis_settings(examples, seed_derandomize=True):
    return settings(max_examples=examples, derandomize=seed_derandomize,
                    deadline=None, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


def any_requests(operations, ids):
    """Half anything, half focused on getting into the compute API."""
    return st.one_of(requests(operations, ids),
                     requests(operations, ids, focused=True))


def run(world, operations, examples, counts, reset=True, strategy=None):
    """Fuzz ``examples`` requests; collect every problem in ``counts``."""
    if strategy is None:
        strategy = any_requests(operations, world.ids)

    @hypothesis_settings(examples)
    @given(strategy)
    def one(request):
        check(world, request, counts, reset=reset)
    one()
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Fuzz the compute API in process and print the counts.')
    parser.add_argument('--requests', type=int, default=5000,
                        help='how many requests to generate (default 5000)')
    parser.add_argument('--seed', type=int, default=None,
                        help='a seed for a different run than the default '
                             '(derandomized) one')
    args = parser.parse_args(argv)
    import nova.conf
    conf = nova.conf.CONF
    conf([], project='nova', default_config_files=[])
    conf.set_override('auth_strategy', 'noauth2', group='api')
    import logging
    logging.disable(logging.CRITICAL)
    policy.reset()
    world = fuzz_world.World(conf, tempfile.mkdtemp(prefix='nova-fuzz-'))
    operations = load_operations()
    counts = Counts()
    started = time.monotonic()
    strategy = any_requests(operations, world.ids)
    sets = hypothesis_settings(args.requests, args.seed is None)

    @sets
    @given(strategy)
    def one(request):
        check(world, request, counts)
    if args.seed is not None:
        from hypothesis import seed
        one = seed(args.seed)(one)
    one()
    print(counts.report())
    print('seconds: %.1f' % (time.monotonic() - started))
    for request, status, found in counts.failures[:20]:
        print('PROBLEM %s -> %d: %s' % (request, status, '; '.join(found)))
    return 1 if counts.failures else 0


if __name__ == '__main__':
    sys.exit(main())
