"""A minimal Identity v3 endpoint for the no-auth all-in-one.

The unmodified ``nova`` and ``openstack`` clients authenticate before they
call the compute API: they discover the identity API version, ask for a
token and read the compute and image endpoints from the token's service
catalog. In ``auth_strategy = noauth2`` mode this module answers those
calls, under ``/identity``:

* ``GET /identity`` and ``GET /identity/v3``: version discovery;
* ``POST /identity/v3/auth/tokens``: any user name and password (or an
  existing token) is accepted; the token issued is ``user:project``, the
  very token the no-auth compute API reads, and the catalog lists this
  process as ``compute`` (``/v2.1``), ``image`` (``/image``) and
  ``identity`` (``/identity``);
* ``GET``/``HEAD``/``DELETE /identity/v3/auth/tokens``: validate/revoke.

It authenticates nothing: never expose it outside a test or lab host.
Real deployments use Keystone and ``auth_strategy = keystone``.
"""

import datetime
import hashlib
import json
import uuid

import webob
import webob.dec

ADMIN_USER = 'admin'
DOMAIN = {'id': 'default', 'name': 'Default'}
V3_ID = 'v3.14'
V3_UPDATED = '2020-04-07T00:00:00Z'
MEDIA_TYPE = 'application/vnd.openstack.identity-v3+json'
TOKEN_LIFETIME = datetime.timedelta(hours=12)


def _json(body, status=200, headers=None):
    resp = webob.Response(status=status, content_type='application/json',
                          charset='utf-8')
    resp.body = json.dumps(body).encode('utf-8')
    for name, value in headers or ():
        resp.headers[name] = value
    return resp


def _error(status, title, message):
    return _json({'error': {'code': status, 'title': title,
                            'message': message}}, status=status)


def _stable_id(kind, name):
    return hashlib.md5(('%s:%s' % (kind, name)).encode('utf-8'),
                       usedforsecurity=False).hexdigest()


def _time(value):
    return value.strftime('%Y-%m-%dT%H:%M:%S.000000Z')


class IdentityShim(object):
    """WSGI app mounted at /identity (the prefix already popped)."""

    def __init__(self, conf):
        self.conf = conf

    def _base(self, req):
        public = self.conf.api.public_endpoint
        return (public.rstrip('/') if public else req.host_url)

    def v3_document(self, req):
        return {
            'id': V3_ID,
            'status': 'stable',
            'updated': V3_UPDATED,
            'links': [{'rel': 'self',
                       'href': '%s/identity/v3/' % self._base(req)}],
            'media-types': [{'base': 'application/json',
                             'type': MEDIA_TYPE}],
        }

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info.rstrip('/') or '/'
        if path == '/' and req.method in ('GET', 'HEAD'):
            return _json({'versions': {'values': [self.v3_document(req)]}},
                         status=300)
        if path == '/v3' and req.method in ('GET', 'HEAD'):
            return _json({'version': self.v3_document(req)})
        if path == '/v3/auth/tokens':
            if req.method == 'POST':
                return self._issue(req)
            if req.method in ('GET', 'HEAD'):
                return self._validate(req)
            if req.method == 'DELETE':
                return webob.Response(status=204)
        if path == '/v3/auth/catalog' and req.method == 'GET':
            token = self._parse(req.headers.get('X-Auth-Token', ''))
            if token is None:
                return _error(401, 'Unauthorized',
                              'The request you have made requires '
                              'authentication.')
            return _json({'catalog': self.catalog(req)})
        return _error(404, 'Not Found',
                      'The identity shim of the no-auth all-in-one only '
                      'serves version discovery and /v3/auth/tokens.')

    # -- tokens ---------------------------------------------------------------

    def _issue(self, req):
        try:
            body = json.loads(req.body.decode('utf-8') or '{}')
            auth = body['auth']
            identity = auth['identity']
            methods = identity['methods']
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(400, 'Bad Request',
                          'Expecting {"auth": {"identity": {"methods": '
                          '[...]}}}.')
        user = project = None
        if 'password' in methods:
            user_ref = identity.get('password', {}).get('user', {})
            user = user_ref.get('name') or user_ref.get('id')
        elif 'token' in methods:
            parsed = self._parse(identity.get('token', {}).get('id', ''))
            if parsed:
                user, project = parsed
        if not user:
            return _error(401, 'Unauthorized',
                          'The request you have made requires '
                          'authentication.')
        scope = auth.get('scope') or {}
        project_ref = scope.get('project')
        if project_ref:
            project = project_ref.get('name') or project_ref.get('id')
        elif scope.get('system') or scope.get('domain'):
            project = None
        token_id = '%s:%s' % (user, project) if project else user
        return _json({'token': self._token_body(req, user, project,
                                                methods)},
                     status=201, headers=[('X-Subject-Token', token_id)])

    def _validate(self, req):
        parsed = self._parse(req.headers.get('X-Subject-Token', ''))
        if parsed is None:
            return _error(404, 'Not Found', 'Could not find token.')
        user, project = parsed
        return _json({'token': self._token_body(req, user, project,
                                                ['token'])},
                     headers=[('X-Subject-Token',
                               req.headers['X-Subject-Token'])])

    @staticmethod
    def _parse(token):
        token = (token or '').strip()
        if not token:
            return None
        user, _sep, project = token.partition(':')
        return user, (project or user)

    def _token_body(self, req, user, project, methods):
        now = datetime.datetime.now(datetime.timezone.utc)
        is_admin = user == ADMIN_USER
        role_names = (['admin', 'member', 'reader'] if is_admin
                      else ['member', 'reader'])
        token = {
            'methods': list(methods),
            'user': {'id': user, 'name': user, 'domain': DOMAIN,
                     'password_expires_at': None},
            'audit_ids': [uuid.uuid4().hex[:22]],
            'issued_at': _time(now),
            'expires_at': _time(now + TOKEN_LIFETIME),
            'is_domain': False,
        }
        if project:
            token['project'] = {'id': project, 'name': project,
                                'domain': DOMAIN}
            token['roles'] = [{'id': _stable_id('role', r), 'name': r}
                              for r in role_names]
            token['catalog'] = self.catalog(req)
        return token

    def catalog(self, req):
        base = self._base(req)
        region = self.conf.api.region_name
        services = [('compute', 'nova', '%s/v2.1' % base)]
        if self.conf.api.image_api:
            services.append(('image', 'glance', '%s/image' % base))
        services.append(('identity', 'keystone', '%s/identity' % base))
        catalog = []
        for service_type, name, url in services:
            catalog.append({
                'id': _stable_id('service', service_type),
                'type': service_type,
                'name': name,
                'endpoints': [
                    {'id': _stable_id(service_type, interface),
                     'interface': interface, 'region': region,
                     'region_id': region, 'url': url}
                    for interface in ('public', 'internal', 'admin')],
            })
        return catalog
