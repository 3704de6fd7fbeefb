"""The small WSGI framework of the compute API.

A :class:`Router` maps (method, path template) to controller methods; each
route may have several implementations for different microversion ranges
(declared with :func:`versioned`), and ``POST .../action`` routes dispatch
on the body's single key. Every error leaves as Nova's JSON fault body::

    {"badRequest": {"code": 400, "message": "..."}}
"""

import json
import logging
import re
import urllib.parse
import uuid

import webob
import webob.dec
import webob.exc

from nova.api.openstack import api_version
from nova import exception

LOG = logging.getLogger(__name__)

JSON = 'application/json'

# The request body types the compute API reads (as Nova: JSON only). A body
# with no Content-Type is read as JSON too.
SUPPORTED_CONTENT_TYPES = (JSON, 'application/vnd.openstack.compute+json')

# A fault message repeats what the caller sent (a field's value, an action
# name): never more than this many characters of it, whatever was sent.
MAX_FAULT_MESSAGE = 1024

_FAULT_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'badMethod',
    409: 'conflictingRequest',
    413: 'overLimit',
    415: 'badMediaType',
    429: 'overLimit',
    501: 'notImplemented',
    503: 'serviceUnavailable',
}

UNEXPECTED_ERROR = ('Unexpected API Error. Please report this and attach '
                    'the Nova API log if possible.\n%s')


class Request(webob.Request):
    """A request with the caller's context and the microversion."""

    @property
    def context(self):
        return self.environ.get('nova.context')

    @property
    def api_version(self):
        return self.environ.get('nova.api_version', api_version.MIN_VERSION)

    def is_version(self, min_version=None, max_version=None):
        return self.api_version.matches(min_version, max_version)

    def base_url(self, conf=None):
        """Scheme://host[:port] clients reach us at (no trailing slash)."""
        public = None
        if conf is not None:
            public = conf.api.public_endpoint
        if public:
            return public.rstrip('/')
        return self.host_url

    def unsupported_content_type(self):
        """The body's media type when the API cannot read it, else None."""
        content_type = self.content_type
        if not content_type or content_type in SUPPORTED_CONTENT_TYPES:
            return None
        return content_type

    def json_body(self):
        try:
            raw = self.body
        except webob.request.DisconnectionError:
            # The client went away before its whole body arrived (a server
            # that hands the stream over before reading it, unlike waitress).
            raise exception.MalformedRequestBody(
                reason='the client disconnected before sending the whole '
                       'body')
        if not raw:
            return None
        try:
            body = json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            raise exception.MalformedRequestBody(reason=str(exc))
        except RecursionError:
            # json's decoder recurses once per nesting level.
            raise exception.MalformedRequestBody(
                reason='the JSON document is nested too deeply')
        if has_lone_surrogate(body):
            # "\ud800" is valid JSON but no character: the database and
            # every encoder after us would fail on it.
            raise exception.MalformedRequestBody(
                reason='a string holds a lone UTF-16 surrogate escape')
        return body


def has_lone_surrogate(value):
    """True when a string in the JSON value ``value`` cannot be UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode('utf-8')
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def undecodable_part(environ):
    """'path' or 'query string' when that part is not UTF-8, else None.

    WSGI hands both over as latin-1 strings of the raw bytes (PEP 3333);
    webob decodes them as UTF-8 when a controller reads them and raises
    UnicodeDecodeError on bytes such as ``%ff``. Checking first turns that
    into a 400 instead of a 500.
    """
    parts = (('PATH_INFO', 'path', False), ('SCRIPT_NAME', 'path', False),
             ('QUERY_STRING', 'query string', True))
    for key, what, quoted in parts:
        raw = environ.get(key) or ''
        try:
            data = raw.encode('latin-1')
            if quoted:
                data = urllib.parse.unquote_to_bytes(data.replace(b'+', b' '))
            data.decode('utf-8')
        except UnicodeError:
            return what
    return None


def undecodable_response(environ):
    """The 400 for a request whose path or query is not UTF-8, or None."""
    what = undecodable_part(environ)
    if what is None:
        return None
    return fault_response(400, 'The request %s is not valid UTF-8.' % what)


def shorten(message, limit=MAX_FAULT_MESSAGE):
    """``message`` cut to ``limit`` characters, saying how much was cut.

    Messages repeat the offending value; a 100 KiB field must not come
    back as a 100 KiB (or, repr'd, larger) answer.
    """
    if len(message) <= limit:
        return message
    tail = limit // 4
    head = limit - tail
    return '%s ... [%d characters left out] ... %s' % (
        message[:head], len(message) - head - tail, message[-tail:])


def fault_body(code, message):
    name = _FAULT_NAMES.get(code, 'computeFault')
    message = shorten(message)
    return {name: {'code': code, 'message': message}}


def json_response(body, status=200, headers=None):
    response = webob.Response(status=status, content_type=JSON,
                              charset='utf-8')
    if body is not None:
        response.body = json.dumps(body).encode('utf-8')
    else:
        response.body = b''
        if status in (202, 204):
            # No entity: do not advertise a JSON one.
            response.content_type = None
    for name, value in headers or ():
        response.headers[name] = value
    return response


def fault_response(code, message, headers=None):
    return json_response(fault_body(code, message), status=code,
                         headers=headers)


def error_to_response(exc):
    """Map an exception to Nova's fault response."""
    if isinstance(exc, exception.NovaException):
        code = getattr(exc, 'code', 500) or 500
        message = getattr(exc, 'message', None) or str(exc)
        if code >= 500:
            LOG.error('API request failed: %s', message)
        return fault_response(int(code), message)
    if isinstance(exc, webob.exc.HTTPException):
        return fault_response(exc.code, exc.explanation or exc.title)
    LOG.exception('Unexpected exception in API method')
    return fault_response(500, UNEXPECTED_ERROR % type(exc))


# -- controller method decorators --------------------------------------------

def response(code):
    """Success status of a controller method (default 200)."""
    def decorator(func):
        func.wsgi_code = code
        return func
    return decorator


def versioned(min_version=None, max_version=None):
    """The microversion range a controller method implements."""
    def decorator(func):
        func.min_version = (api_version.APIVersion(min_version)
                            if min_version else None)
        func.max_version = (api_version.APIVersion(max_version)
                            if max_version else None)
        return func
    return decorator


# -- routing ------------------------------------------------------------------

_PARAM_RE = re.compile(r'\{(\w+)\}')


def _compile(template):
    pattern = ''
    last = 0
    for match in _PARAM_RE.finditer(template):
        pattern += re.escape(template[last:match.start()])
        pattern += '(?P<%s>[^/]+)' % match.group(1)
        last = match.end()
    pattern += re.escape(template[last:])
    return re.compile('^%s/?$' % pattern)


class _Route(object):

    def __init__(self, template):
        self.template = template
        self.regex = _compile(template)
        # method -> list of handlers; 'POST' actions go to self.actions
        self.methods = {}
        self.actions = {}


def _pick(handlers, version):
    for handler in handlers:
        if version.matches(getattr(handler, 'min_version', None),
                           getattr(handler, 'max_version', None)):
            return handler
    return None


class Router(object):
    """The compute API application below the /v2.1 prefix.

    ``wants_version`` makes the router parse the microversion headers and
    echo them on every response (the compute API); the image API shim
    uses the same router without microversions.
    """

    def __init__(self, wants_version=True):
        self._routes = []
        self._by_template = {}
        self.wants_version = wants_version

    def _route(self, template):
        route = self._by_template.get(template)
        if route is None:
            route = _Route(template)
            self._routes.append(route)
            self._by_template[template] = route
        return route

    @property
    def routes(self):
        """(template, method, action name or None, handlers) in order.

        What the router serves, for its OpenAPI description.
        """
        for route in self._routes:
            for method in sorted(route.methods):
                if method == 'POST' and route.actions:
                    for name in sorted(route.actions):
                        yield (route.template, method, name,
                               list(route.actions[name]))
                else:
                    yield (route.template, method, None,
                           list(route.methods[method]))

    def add(self, method, template, *handlers):
        self._route(template).methods.setdefault(method, []).extend(handlers)

    def add_action(self, template, name, *handlers):
        route = self._route(template + '/action')
        route.actions.setdefault(name, []).extend(handlers)
        route.methods.setdefault('POST', [])

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, req):
        bad = undecodable_response(req.environ)
        if bad is not None:
            return bad
        headers = []
        if self.wants_version:
            try:
                version = api_version.version_for_request(req.headers)
            except exception.NovaException as exc:
                return error_to_response(exc)
            req.environ['nova.api_version'] = version
            headers = api_version.response_headers(version)
        try:
            resp = self._dispatch(req)
        except Exception as exc:
            resp = error_to_response(exc)
        for name, value in headers:
            resp.headers[name] = value
        return resp

    def _dispatch(self, req):
        path = req.path_info or '/'
        if len(path) > 1:
            path = path.rstrip('/')
        for route in self._routes:
            match = route.regex.match(path)
            if match:
                return self._call_route(req, route, match.groupdict())
        return fault_response(404, 'The resource could not be found.')

    def _call_route(self, req, route, params):
        method = req.method
        if method == 'HEAD':
            method = 'GET'
        if route.actions and method == 'POST':
            return self._call_action(req, route, params)
        handlers = route.methods.get(method)
        if not handlers:
            allowed = ', '.join(sorted(route.methods))
            return fault_response(
                405, 'The method specified is not allowed for this '
                     'resource.', headers=[('Allow', allowed)])
        body = None
        if method in ('POST', 'PUT'):
            body = _read_body(req)
        handler = _pick(handlers, req.api_version)
        if handler is None:
            raise exception.VersionNotFoundForAPIMethod(
                version=str(req.api_version))
        return self._invoke(req, handler, params, body)

    def _call_action(self, req, route, params):
        body = _read_body(req)
        if not isinstance(body, dict) or len(body) != 1:
            raise exception.MalformedRequestBody(
                reason='an action body is an object with a single key, '
                       'the action name')
        name = next(iter(body))
        handlers = route.actions.get(name)
        if handlers is None:
            raise webob.exc.HTTPBadRequest(
                explanation='There is no such action: %s' % name)
        handler = _pick(handlers, req.api_version)
        if handler is None:
            raise exception.VersionNotFoundForAPIMethod(
                version=str(req.api_version))
        return self._invoke(req, handler, params, body)

    def _invoke(self, req, handler, params, body):
        kwargs = dict(params)
        if req.method in ('POST', 'PUT'):
            kwargs['body'] = body
        result = handler(req, **kwargs)
        if isinstance(result, webob.Response):
            return result
        code = getattr(handler, 'wsgi_code', 200)
        return json_response(result, status=code)


def _read_body(req):
    """The request's JSON body; 415 for a body of another media type."""
    unsupported = req.unsupported_content_type()
    if unsupported is not None and req.body:
        raise webob.exc.HTTPUnsupportedMediaType(
            explanation='Unsupported Content-Type %s: the compute API reads '
                        'application/json bodies.' % shorten(unsupported, 64))
    return req.json_body()


def new_request_id():
    return 'req-%s' % uuid.uuid4()
