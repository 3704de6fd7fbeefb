"""The API process's WSGI application: compute, image and identity shim.

URL space::

    /                   compute API versions (no auth)
    /v2.1, /v2.1/       the v2.1 version document (no auth)
    /v2.1/...           the compute API (auth, microversions)
    /v2, /v2/           the v2.0 version document (no auth)
    /v2/...             the same compute API as microversion 2.1, the
                        microversion headers ignored (Nova's legacy v2
                        compatibility mode)
    /image/...          read-only Image API v2 subset (auth)
    /identity/...       Identity v3 shim (noauth2 mode only, no auth)
"""

import io
import logging
import time
import urllib.parse

import webob
import webob.dec

from nova.api import auth
from nova.api import identity
from nova.api import image
from nova.api.openstack import api_version
from nova.api.openstack.compute import routes
from nova.api.openstack import versions
from nova.api.openstack import wsgi

LOG = logging.getLogger(__name__)


def default_compute_api():
    from nova.compute import api as compute_api
    return compute_api.API()


class APIApplication(object):

    def __init__(self, conf, compute_api=None):
        self.conf = conf
        self.compute_api = (compute_api if compute_api is not None
                            else default_compute_api())
        self.compute = auth.pipeline(
            routes.build_router(self.compute_api, conf), conf)
        self.image = None
        if conf.api.image_api:
            self.image = auth.pipeline(
                image.ImageAPI(self.compute_api, conf), conf)
        self.identity = None
        if conf.api.auth_strategy == 'noauth2' and conf.api.identity_shim:
            self.identity = identity.IdentityShim(conf)

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        started = time.monotonic()
        resp = wsgi.undecodable_response(req.environ)
        if resp is None:
            resp = limit_body(req.environ,
                              self.conf.oslo_middleware.max_request_body_size)
        if resp is None:
            resp = self._route(req)
        LOG.info('%s "%s %s" status: %s len: %s time: %.4f',
                 req.remote_addr, req.method, _logged_path(req),
                 resp.status_int, resp.content_length or 0,
                 time.monotonic() - started)
        return resp

    def _route(self, req):
        path = req.path_info or '/'
        if path == '/':
            if req.method not in ('GET', 'HEAD'):
                return wsgi.fault_response(405, 'Method not allowed')
            return versions.versions_response(req, self.conf)
        first = path.split('/')[1]
        if first == 'v2.1':
            rest = path[len('/v2.1'):]
            if rest in ('', '/') and req.method in ('GET', 'HEAD'):
                return versions.version_response(req, self.conf)
            req.path_info_pop()
            return req.get_response(self.compute)
        if first == 'v2':
            rest = path[len('/v2'):]
            if rest in ('', '/') and req.method in ('GET', 'HEAD'):
                return versions.v20_version_response(req, self.conf)
            req.path_info_pop()
            return _legacy_v2(req, self.compute)
        if first == 'identity' and self.identity is not None:
            req.path_info_pop()
            return req.get_response(self.identity)
        if first == 'image' and self.image is not None:
            req.path_info_pop()
            return req.get_response(self.image)
        return wsgi.fault_response(404, 'The resource could not be found.')


def limit_body(environ, limit):
    """The 413 for a body over ``limit`` bytes, else None.

    As Nova's sizelimit filter (``[oslo_middleware]
    max_request_body_size``): a declared length over the limit is refused
    unread. A body of unknown length (chunked, on a server that sets
    ``wsgi.input_terminated``) is read up to the limit and handed on with
    its length, so chunked bodies are decoded, not read as empty.
    """
    declared = environ.get('CONTENT_LENGTH')
    if declared:
        try:
            length = int(declared)
        except ValueError:
            return wsgi.fault_response(400, 'Content-Length is not a number.')
        if length > limit:
            return _too_large(limit)
        return None
    if not environ.get('wsgi.input_terminated'):
        return None
    data = environ['wsgi.input'].read(limit + 1)
    if len(data) > limit:
        return _too_large(limit)
    environ['wsgi.input'] = io.BytesIO(data)
    environ['CONTENT_LENGTH'] = str(len(data))
    return None


def _too_large(limit):
    return wsgi.fault_response(
        413, 'Request is too large: the body is larger than '
             'max_request_body_size (%d bytes).' % limit)


_VERSION_HEADERS = (api_version.HEADER, api_version.LEGACY_HEADER)


def _legacy_v2(req, application):
    """A /v2 request: microversion 2.1 whatever the headers ask for.

    Nova's v2.0 endpoint has no microversions: it neither reads nor
    returns the version headers.
    """
    for name in _VERSION_HEADERS:
        req.headers.pop(name, None)
    resp = req.get_response(application)
    for name in _VERSION_HEADERS:
        resp.headers.pop(name, None)
    vary = [v.strip() for v in resp.headers.get('Vary', '').split(',')
            if v.strip() and v.strip() not in _VERSION_HEADERS]
    if vary:
        resp.headers['Vary'] = ', '.join(vary)
    else:
        resp.headers.pop('Vary', None)
    return resp


def _logged_path(req):
    """The request's path and query as sent (still percent-encoded)."""
    path = urllib.parse.quote(req.environ.get('SCRIPT_NAME', '') +
                              req.environ.get('PATH_INFO', ''),
                              safe="/:@!$&'()*+,;=-._~", encoding='latin-1')
    query = req.environ.get('QUERY_STRING')
    return '%s?%s' % (path, query) if query else path


def build_app(conf, compute_api=None):
    return APIApplication(conf, compute_api)
