"""The request context: who asks, for which project, with which request id.

The REST API builds one per request (policy is enforced there); the compute
API and the compute services receive it, and it crosses RPC as a dict.
"""

from oslo_context import context as oslo_context


class RequestContext(oslo_context.RequestContext):
    """RequestContext(user_id, project_id, is_admin, roles, request_id)."""

    def __init__(self, user_id=None, project_id=None, is_admin=False,
                 roles=None, request_id=None, **kwargs):
        kwargs.setdefault('overwrite', False)
        super(RequestContext, self).__init__(
            user_id=user_id, project_id=project_id, is_admin=bool(is_admin),
            roles=list(roles or []), request_id=request_id, **kwargs)

    def to_dict(self):
        values = super(RequestContext, self).to_dict()
        values['user_id'] = self.user_id
        values['project_id'] = self.project_id
        return values

    @classmethod
    def from_dict(cls, values, **kwargs):
        return cls(user_id=values.get('user_id') or values.get('user'),
                   project_id=(values.get('project_id') or
                               values.get('project') or
                               values.get('tenant')),
                   is_admin=values.get('is_admin', False),
                   roles=values.get('roles'),
                   request_id=values.get('request_id'),
                   global_request_id=values.get('global_request_id'),
                   auth_token=values.get('auth_token'))

    def elevated(self):
        """A copy with admin rights (for the services' own housekeeping)."""
        ctx = self.from_dict(self.to_dict())
        ctx.is_admin = True
        if 'admin' not in ctx.roles:
            ctx.roles.append('admin')
        return ctx


def get_admin_context(request_id=None):
    """The context of a service acting on its own behalf."""
    return RequestContext(user_id=None, project_id=None, is_admin=True,
                          roles=['admin'], request_id=request_id)
