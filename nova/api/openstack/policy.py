"""Who may call what: oslo.policy rules with their defaults in code.

Operators override any rule in the file named by ``[oslo_policy]
policy_file`` (``policy.yaml``). A refused call is a 403 with Nova's
message, e.g. ``Policy doesn't allow
os_compute_api:os-migrate-server:migrate_live to be performed.``
"""

import functools
import threading

from oslo_config import cfg
from oslo_policy import policy

from nova import conf as nova_conf
from nova import exception

ADMIN = 'rule:admin_api'
OWNER = 'rule:admin_or_owner'
ANY = '@'

MIGRATE_LIVE = 'os_compute_api:os-migrate-server:migrate_live'
SERVER_MIGRATIONS = 'os_compute_api:servers:migrations:%s'
MIGRATIONS_INDEX = 'os_compute_api:os-migrations:index'
SERVICES_LIST = 'os_compute_api:os-services:list'
SERVICES_UPDATE = 'os_compute_api:os-services:update'
PAUSE = 'os_compute_api:os-pause-server:%s'
RESET_STATE = 'os_compute_api:os-admin-actions:reset_state'
SUSPEND = 'os_compute_api:os-suspend-server:%s'
HYPERVISORS = 'os_compute_api:os-hypervisors:%s'
EXTENDED_ATTRS = 'os_compute_api:os-extended-server-attributes'
INSTANCE_ACTIONS = 'os_compute_api:os-instance-actions:%s'
MIGRATION_PROGRESS = 'os_compute_api:os-migration-progress:show'
SERVERS = 'os_compute_api:servers:%s'

_BASE = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       'Decides who is an administrator.'),
    policy.RuleDefault('admin_api', 'is_admin:True or role:admin',
                       'Administrators only.'),
    policy.RuleDefault('admin_or_owner',
                       'is_admin:True or role:admin or '
                       'project_id:%(project_id)s',
                       'An administrator or a member of the owning '
                       'project.'),
]


def _api(name, rule, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=rule, description=description,
        operations=[{'method': m, 'path': p} for m, p in operations])


_RULES = [
    _api(MIGRATE_LIVE, ADMIN, 'Live migrate a server to a new host.',
         [('POST', '/servers/{server_id}/action (os-migrateLive)')]),
    _api(SERVER_MIGRATIONS % 'index', ADMIN,
         'List the in-progress live migrations of a server.',
         [('GET', '/servers/{server_id}/migrations')]),
    _api(SERVER_MIGRATIONS % 'show', ADMIN,
         'Show an in-progress live migration of a server.',
         [('GET', '/servers/{server_id}/migrations/{migration_id}')]),
    _api(SERVER_MIGRATIONS % 'force_complete', ADMIN,
         'Force an in-progress live migration to complete.',
         [('POST', '/servers/{server_id}/migrations/{migration_id}/action '
                   '(force_complete)')]),
    _api(SERVER_MIGRATIONS % 'delete', ADMIN,
         'Abort an in-progress live migration.',
         [('DELETE', '/servers/{server_id}/migrations/{migration_id}')]),
    _api(MIGRATIONS_INDEX, ADMIN, 'List migrations.',
         [('GET', '/os-migrations')]),
    _api(SERVICES_LIST, ADMIN, 'List compute services.',
         [('GET', '/os-services')]),
    _api(HYPERVISORS % 'list', ADMIN, 'List hypervisors.',
         [('GET', '/os-hypervisors')]),
    _api(HYPERVISORS % 'list-detail', ADMIN, 'List hypervisors in detail.',
         [('GET', '/os-hypervisors/detail')]),
    _api(HYPERVISORS % 'show', ADMIN, 'Show a hypervisor.',
         [('GET', '/os-hypervisors/{hypervisor_id}')]),
    _api(HYPERVISORS % 'statistics', ADMIN,
         'Show the summed figures of all hypervisors (up to 2.87).',
         [('GET', '/os-hypervisors/statistics')]),
    _api(HYPERVISORS % 'uptime', ADMIN,
         "Show a hypervisor host's uptime (up to 2.87).",
         [('GET', '/os-hypervisors/{hypervisor_id}/uptime')]),
    _api(HYPERVISORS % 'search', ADMIN,
         'Search hypervisors by host name (up to 2.52).',
         [('GET', '/os-hypervisors/{hypervisor_hostname}/search')]),
    _api(HYPERVISORS % 'servers', ADMIN,
         'List the servers of hypervisors by host name (up to 2.52).',
         [('GET', '/os-hypervisors/{hypervisor_hostname}/servers')]),
    _api(SERVICES_UPDATE, ADMIN,
         'Enable or disable a compute service, or force it down.',
         [('PUT', '/os-services/{service_id}'),
          ('PUT', '/os-services/enable'), ('PUT', '/os-services/disable'),
          ('PUT', '/os-services/disable-log-reason'),
          ('PUT', '/os-services/force-down')]),
    _api(RESET_STATE, ADMIN,
         "Reset a server's vm_state to active or error and clear its task "
         'state.', [('POST', '/servers/{server_id}/action (os-resetState)')]),
    _api(PAUSE % 'pause', OWNER, 'Pause a server.',
         [('POST', '/servers/{server_id}/action (pause)')]),
    _api(PAUSE % 'unpause', OWNER, 'Unpause a paused server.',
         [('POST', '/servers/{server_id}/action (unpause)')]),
    _api(SUSPEND % 'suspend', OWNER, 'Suspend a server.',
         [('POST', '/servers/{server_id}/action (suspend)')]),
    _api(SUSPEND % 'resume', OWNER, 'Resume a suspended server.',
         [('POST', '/servers/{server_id}/action (resume)')]),
    _api(INSTANCE_ACTIONS % 'list', OWNER,
         'List the actions (live migrations) taken on a server.',
         [('GET', '/servers/{server_id}/os-instance-actions')]),
    _api(INSTANCE_ACTIONS % 'show', OWNER,
         'Show an action (a live migration) taken on a server.',
         [('GET', '/servers/{server_id}/os-instance-actions/{request_id}')]),
    _api(INSTANCE_ACTIONS % 'events', ADMIN,
         "See an action's events before 2.51, and their host and reasons "
         '(the traceback field).',
         [('GET', '/servers/{server_id}/os-instance-actions/{request_id}')]),
    _api(MIGRATION_PROGRESS, ADMIN,
         "Show a live migration's progress, ETA, verdict and decisions "
         '(a project extension).',
         [('GET', '/os-migration-progress/{migration_id}')]),
    _api(EXTENDED_ATTRS, ADMIN,
         'See the OS-EXT-SRV-ATTR fields (host, node, instance name) of '
         'servers.',
         [('GET', '/servers/{server_id}'), ('GET', '/servers/detail')]),
    _api(SERVERS % 'create', ANY, 'Create a server.',
         [('POST', '/servers')]),
    _api(SERVERS % 'create:forced_host', ADMIN,
         'Create a server on a named host (availability zone "zone:host" '
         'or, from 2.74, "host"/"hypervisor_hostname").',
         [('POST', '/servers')]),
    _api(SERVERS % 'index', ANY, 'List servers.', [('GET', '/servers')]),
    _api(SERVERS % 'detail', ANY, 'List servers in detail.',
         [('GET', '/servers/detail')]),
    _api(SERVERS % 'index:get_all_tenants', ADMIN,
         'List the servers of every project (all_tenants).',
         [('GET', '/servers')]),
    _api(SERVERS % 'detail:get_all_tenants', ADMIN,
         'List the servers of every project in detail (all_tenants).',
         [('GET', '/servers/detail')]),
    _api(SERVERS % 'show', OWNER, 'Show a server.',
         [('GET', '/servers/{server_id}')]),
    _api(SERVERS % 'show:host_status', ADMIN,
         'See the host_status field of servers (2.16).',
         [('GET', '/servers/{server_id}')]),
    _api(SERVERS % 'delete', OWNER, 'Delete a server.',
         [('DELETE', '/servers/{server_id}')]),
]


def list_rules():
    return _BASE + _RULES


_lock = threading.Lock()
_enforcer = None


def get_enforcer():
    global _enforcer
    with _lock:
        if _enforcer is None:
            # Rules from [oslo_policy] policy_file once the configuration
            # is parsed (the services); defaults only before that (tests).
            conf = nova_conf.CONF
            if not _conf_parsed():
                conf = cfg.ConfigOpts()
                conf([], project='nova', default_config_files=[],
                     default_config_dirs=[])
            enforcer = policy.Enforcer(conf)
            enforcer.register_defaults(list_rules())
            _enforcer = enforcer
        return _enforcer


def _conf_parsed():
    try:
        nova_conf.CONF.find_file('policy.yaml')
    except cfg.NotInitializedError:
        return False
    return True


def reset():
    global _enforcer
    with _lock:
        if _enforcer is not None:
            _enforcer.clear()
        _enforcer = None


def credentials(context):
    return {
        'user_id': context.user_id,
        'project_id': context.project_id,
        'roles': list(getattr(context, 'roles', None) or []),
        'is_admin': bool(context.is_admin),
    }


# Where a request's context keeps the decisions already taken for it.
_DECISIONS = '_nova_policy_decisions'


def _decision_key(action, target):
    try:
        return action, frozenset(target.items())
    except TypeError:  # an unhashable value: decide without the cache
        return None


def authorize(context, action, target=None, fatal=True):
    """Check a rule; raise PolicyNotAuthorized (403) when refused.

    A decision is kept on the request's context, keyed by the rule and the
    target: a server list asks the same questions once per server (the
    extended attributes, host_status), and oslo.policy's enforce, which
    also checks the policy file for changes, cost a third of a GET
    /servers/detail. A context lives for one request, so a policy file
    change still applies from the next request on.
    """
    if target is None:
        target = {'project_id': context.project_id,
                  'user_id': context.user_id}
    key = _decision_key(action, target)
    decisions = getattr(context, _DECISIONS, None)
    if decisions is None:
        decisions = {}
        setattr(context, _DECISIONS, decisions)
    allowed = decisions.get(key) if key is not None else None
    if allowed is None:
        allowed = bool(get_enforcer().enforce(action, target,
                                              credentials(context)))
        if key is not None:
            decisions[key] = allowed
    if not allowed and fatal:
        raise exception.PolicyNotAuthorized(action=action)
    return allowed


def authorizes(rule):
    """Decorate a controller method: check ``rule`` before anything else.

    Before body validation and before any lookup, so that a caller the
    rule refuses learns nothing (not whether the server exists, not what
    a valid body looks like) and always gets the same 403. The rule is
    kept on the method (``policy_rule``) for the OpenAPI description. The
    target is the caller's own project: for rules that do not depend on
    the resource's owner (the admin-only ones).
    """
    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, req, *args, **kwargs):
            authorize(req.context, rule)
            return func(self, req, *args, **kwargs)
        wrapper.policy_rule = rule
        return wrapper
    return decorator
