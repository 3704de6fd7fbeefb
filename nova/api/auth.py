"""Authentication middleware: who is calling, as a RequestContext.

``noauth2`` (the all-in-one, tests): the token ``user:project`` (or just
``user``, which is then also the project) names the caller; the user
``admin`` is an administrator. ``keystone``: keystonemiddleware's
auth_token validates the token in front of :class:`KeystoneContext`, which
reads the identity headers it sets.
"""

import webob
import webob.dec

from nova.api.openstack import wsgi

ADMIN_USER = 'admin'


def make_context(user_id, project_id, is_admin, roles, request_id):
    """A nova.context.RequestContext (the compute API's context)."""
    from nova import context as nova_context
    return nova_context.RequestContext(
        user_id=user_id, project_id=project_id, is_admin=is_admin,
        roles=roles, request_id=request_id)


def _request_id(req):
    return req.environ.setdefault('openstack.request_id',
                                  wsgi.new_request_id())


class _Middleware(object):

    def __init__(self, application):
        self.application = application

    def _forward(self, req):
        resp = req.get_response(self.application)
        resp.headers['x-openstack-request-id'] = _request_id(req)
        return resp


class NoAuthMiddleware(_Middleware):
    """Trust the token: ``user:project``; the user 'admin' is admin."""

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token', '').strip()
        if not token:
            resp = wsgi.fault_response(
                401, 'Authentication required: send an X-Auth-Token '
                     'header "user:project".')
            return resp
        user_id, _sep, project_id = token.partition(':')
        project_id = project_id or user_id
        is_admin = user_id == ADMIN_USER
        roles = ['admin', 'member', 'reader'] if is_admin \
            else ['member', 'reader']
        req.environ['nova.context'] = make_context(
            user_id, project_id, is_admin, roles, _request_id(req))
        return self._forward(req)


class KeystoneContext(_Middleware):
    """Build the context from keystonemiddleware's identity headers."""

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        if req.headers.get('X-Identity-Status', 'Confirmed') != 'Confirmed':
            return wsgi.fault_response(401, 'Authentication required')
        user_id = req.headers.get('X-User-Id') or req.headers.get('X-User')
        project_id = (req.headers.get('X-Project-Id')
                      or req.headers.get('X-Tenant-Id'))
        if not user_id:
            return wsgi.fault_response(401, 'Authentication required')
        roles = [r.strip() for r in req.headers.get('X-Roles', '').split(',')
                 if r.strip()]
        is_admin = 'admin' in [r.lower() for r in roles]
        req.environ['nova.context'] = make_context(
            user_id, project_id, is_admin, roles, _request_id(req))
        return self._forward(req)


def keystone_pipeline(application, conf):
    """keystonemiddleware auth_token -> KeystoneContext -> application."""
    from keystonemiddleware import auth_token
    return auth_token.AuthProtocol(
        KeystoneContext(application),
        {'oslo_config_config': conf})


def pipeline(application, conf):
    if conf.api.auth_strategy == 'noauth2':
        return NoAuthMiddleware(application)
    return keystone_pipeline(application, conf)
