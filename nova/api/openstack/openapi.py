"""The OpenAPI 3.1 description of the compute API, made from the code.

Everything in the document is read from what serves the requests, so the
two cannot drift apart:

* paths, methods and actions from the router
  (``nova.api.openstack.compute.routes.build_router``);
* request body schemas: the very JSON schemas ``@validation.schema``
  validates bodies with, one per microversion range;
* microversion ranges from ``@wsgi.versioned``, success codes from
  ``@wsgi.response``, query parameters from ``@validation.query_schema``
  and ``@validation.query_params``;
* who may call what from the policy defaults (``nova.api.openstack.policy``),
  and which rule is checked before anything else from
  ``@policy.authorizes``.

The schemas are JSON Schema draft 4 as the API validates them; every
keyword they use reads the same in draft 2020-12, the dialect of OpenAPI
3.1. A committed copy lives in ``doc/source/admin/openapi.json``; a unit
test fails when it differs from what this module generates. Regenerate it
with::

    python -m nova.api.openstack.openapi --output doc/source/admin/openapi.json
"""

import argparse
import copy
import json
import sys

from nova.api.openstack import api_version
from nova.api.openstack.compute import routes
from nova.api.openstack import policy
from nova.api.openstack import wsgi

COMMITTED_COPY = 'doc/source/admin/openapi.json'
REGENERATE = ('python -m nova.api.openstack.openapi --output %s'
              % COMMITTED_COPY)
PREFIX = '/v2.1'

# Resource names for the tags, by controller module.
_TAGS = {
    'servers': 'servers',
    'server_migrations': 'server migrations',
    'migrations': 'os-migrations',
    'instance_actions': 'os-instance-actions',
    'migration_progress': 'os-migration-progress (project extension)',
    'services': 'os-services',
    'hypervisors': 'os-hypervisors',
    'flavors': 'flavors',
    'images': 'images',
    'routes': 'versions',
}

_VERSION_HEADERS = [
    {'$ref': '#/components/parameters/OpenStack-API-Version'},
    {'$ref': '#/components/parameters/X-OpenStack-Nova-API-Version'},
]

_ERROR_DESCRIPTIONS = {
    400: 'Bad request: invalid body, query, path or microversion header.',
    401: 'No or invalid token.',
    403: 'Refused by policy.',
    404: 'No such resource, or the method is not available at the '
         'requested microversion.',
    406: 'The requested microversion is outside the supported range.',
    409: 'The resource is in a state that does not allow the request.',
}


def _version(value):
    return str(value) if value is not None else None


def _handler_id(handler):
    """``<controller module>.<method>``, e.g. ``servers.migrate_live``."""
    module = handler.__module__.rsplit('.', 1)[-1]
    return '%s.%s' % (module, handler.__name__)


def _rules_by_operation():
    """{(method, path template): [policy rules]} from the policy defaults.

    An action's rule names its path as ``.../action (action name)``.
    """
    found = {}
    for rule in policy.list_rules():
        for op in getattr(rule, 'operations', None) or ():
            path, _sep, action = op['path'].partition(' (')
            key = (op['method'], path.strip(), action.rstrip(')') or None)
            found.setdefault(key, []).append(rule)
    return found


def _pick(choose, a, b):
    """``choose`` (min or max) of two versions, None meaning "no bound"."""
    if a is None:
        return b
    if b is None:
        return a
    return choose(api_version.as_version(a), api_version.as_version(b))


def _max(a, b):
    return _pick(max, a, b)


def _min(a, b):
    return _pick(min, a, b)


def body_schemas(handler):
    """[(min, max, schema)] a method validates bodies with, oldest first.

    The range of each schema is cut to the method's own range.
    """
    result = []
    for low, high, schema in getattr(handler, '_schemas', None) or ():
        low = _max(low, getattr(handler, 'min_version', None))
        high = _min(high, getattr(handler, 'max_version', None))
        result.append((_version(low) or api_version.MIN_VERSION_STRING,
                       _version(high), schema))
    result.sort(key=lambda item: api_version.APIVersion(item[0]))
    return result


def _schema_name(op_id, low):
    return '%s.v%s' % (op_id, low)


def _operation(template, method, action, handlers, rules, components):
    handler = handlers[0]
    op_id = _handler_id(handler)
    tag = _TAGS.get(op_id.split('.')[0], op_id.split('.')[0])
    matched = rules.get((method, template, action), [])
    enforced = getattr(handler, 'policy_rule', None)
    summary = (handler.__doc__ or '').strip().split('\n')[0]
    if not summary and matched:
        summary = matched[0].description
    if not summary:
        summary = '%s %s%s' % (method, PREFIX, template)
    op = {
        'operationId': op_id,
        'tags': [tag],
        'summary': summary,
        'parameters': [],
        'responses': {},
        'x-openstack-versions': [
            {'min_version': (_version(getattr(h, 'min_version', None))
                             or api_version.MIN_VERSION_STRING),
             'max_version': (_version(getattr(h, 'max_version', None))
                             or api_version.MAX_VERSION_STRING)}
            for h in handlers],
    }
    if action is not None:
        op['x-openstack-action'] = action
    if matched:
        op['x-openstack-policy'] = [
            {'name': r.name, 'check_str': r.check_str} for r in matched]
    if enforced:
        # Checked before the body is validated or anything is looked up:
        # a caller it refuses gets 403 whatever the request holds.
        op['x-openstack-policy-checked-first'] = enforced
    for name in wsgi._PARAM_RE.findall(template):
        op['parameters'].append({'name': name, 'in': 'path',
                                 'required': True,
                                 'schema': {'type': 'string'}})
    query = getattr(handler, 'query_params', None) or ()
    for name in sorted(query):
        op['parameters'].append({'name': name, 'in': 'query',
                                 'required': False,
                                 'schema': {'type': 'string'}})
    strict = getattr(handler, 'query_strict_from', None)
    if strict is not None:
        op['x-openstack-unknown-query-rejected-from'] = str(strict)
    op['parameters'].extend(copy.deepcopy(_VERSION_HEADERS))
    schemas = [(_handler_id(h),) + item for h in handlers
               for item in body_schemas(h)]
    if schemas:
        refs = []
        for h_id, low, high, schema in schemas:
            name = _schema_name(h_id, low)
            components[name] = copy.deepcopy(schema)
            refs.append({'min_version': low,
                         'max_version': high or api_version.MAX_VERSION_STRING,
                         'schema': {'$ref': '#/components/schemas/%s' % name}})
        op['requestBody'] = {
            'required': True,
            'content': {'application/json': {'schema': (
                refs[0]['schema'] if len(refs) == 1 else
                {'anyOf': [r['schema'] for r in refs]})}},
            'x-openstack-schemas-by-version': refs,
        }
    code = getattr(handler, 'wsgi_code', 200)
    op['responses'][str(code)] = {
        'description': 'Success.' if code != 204 else 'Deleted.'}
    errors = [400, 401, 404, 406]
    if enforced or matched:
        errors.append(403)
    if method in ('POST', 'DELETE'):
        errors.append(409)
    for error in sorted(errors):
        op['responses'][str(error)] = {
            '$ref': '#/components/responses/%d' % error}
    return op


def _merge_action(into, op):
    """Several actions on one URL (POST .../action): one operation.

    OpenAPI has one operation per path and method. Its body is any of the
    actions' bodies; each action's own complete operation (id, policy,
    microversions, body schemas) is kept in ``x-openstack-actions``.
    """
    if 'x-openstack-actions' not in into:
        first = copy.deepcopy(into)
        tag = into['tags'][0]
        for key in list(into):
            if key.startswith('x-openstack'):
                del into[key]
        into['operationId'] = '%s.actions' % first['operationId'].split(
            '.')[0]
        into['summary'] = 'Actions; the body names one.'
        into['x-openstack-actions'] = [first]
        into['tags'] = [tag]
    into['x-openstack-actions'].append(op)
    subs = into['x-openstack-actions']
    into['description'] = 'Actions: %s.' % ', '.join(
        sub['x-openstack-action'] for sub in subs)
    refs = []
    for sub in subs:
        refs.extend(sub['requestBody']['x-openstack-schemas-by-version'])
        for code, value in sub['responses'].items():
            into['responses'].setdefault(code, copy.deepcopy(value))
    into['responses'] = dict(sorted(into['responses'].items()))
    into['requestBody'] = {
        'required': True,
        'content': {'application/json': {'schema': {
            'anyOf': [r['schema'] for r in refs]}}},
    }


def _error_responses():
    fault = {'application/json': {
        'schema': {'$ref': '#/components/schemas/Fault'}}}
    return {str(code): {'description': text, 'content': copy.deepcopy(fault)}
            for code, text in sorted(_ERROR_DESCRIPTIONS.items())}


def _fault_schemas():
    names = sorted(set(wsgi._FAULT_NAMES.values()) | {'computeFault'})
    return {
        'Fault': {
            'description': "Nova's error body: one key naming the fault.",
            'type': 'object', 'minProperties': 1, 'maxProperties': 1,
            'propertyNames': {'enum': names},
            'additionalProperties': {
                '$ref': '#/components/schemas/FaultDetail'},
        },
        'FaultDetail': {
            'type': 'object', 'required': ['code', 'message'],
            'properties': {
                'code': {'type': 'integer', 'minimum': 400,
                         'maximum': 599},
                'message': {'type': 'string', 'minLength': 1},
            },
        },
    }


def _versions_paths():
    """GET /, GET /v2.1 and GET /v2: served before authentication."""
    def op(op_id, summary):
        return {'get': {
            'operationId': op_id, 'tags': ['versions'], 'summary': summary,
            'security': [],
            'responses': {'200': {'description': 'Success.'}}}}
    return {
        '/': op('versions.index', 'The compute API versions.'),
        PREFIX + '/': op('versions.show', 'The v2.1 version document '
                                          '(also at %s).' % PREFIX),
        '/v2/': op('versions.show_v2', 'The v2.0 version document (also '
                                       'at /v2); below /v2 the same '
                                       'resources as /v2.1 at '
                                       'microversion 2.1.'),
    }


def build_document(conf=None):
    """The OpenAPI 3.1 document (a dict) of the compute API."""
    if conf is None:
        import nova.conf
        conf = nova.conf.CONF
    router = routes.build_router(None, conf)
    rules = _rules_by_operation()
    components = {}
    paths = _versions_paths()
    for template, method, action, handlers in router.routes:
        if template == '/':
            # GET /v2.1/ is answered before the router (no token needed).
            continue
        item = paths.setdefault(PREFIX + template, {})
        op = _operation(template, method, action, handlers, rules,
                        components)
        key = method.lower()
        if key in item:
            _merge_action(item[key], op)
        else:
            item[key] = op
    components.update(_fault_schemas())
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'Compute API (live migration subset)',
            'version': api_version.MAX_VERSION_STRING,
            'description': (
                'The parts of the OpenStack Compute API v2.1 this service '
                'serves, generated from its router, JSON schemas and '
                'policy defaults by nova.api.openstack.openapi. '
                'Microversions %s to %s; request body schemas per '
                'microversion range are listed in '
                'x-openstack-schemas-by-version.'
                % (api_version.MIN_VERSION_STRING,
                   api_version.MAX_VERSION_STRING)),
        },
        'servers': [{'url': '/', 'description': 'nova-api or nova-all'}],
        'security': [{'X-Auth-Token': []}],
        'paths': paths,
        'components': {
            'schemas': components,
            'responses': _error_responses(),
            'parameters': {
                'OpenStack-API-Version': {
                    'name': 'OpenStack-API-Version', 'in': 'header',
                    'required': False,
                    'description': "'compute X.Y' or 'compute latest'; "
                                   'without it: %s.'
                                   % api_version.MIN_VERSION_STRING,
                    'schema': {'type': 'string'}},
                'X-OpenStack-Nova-API-Version': {
                    'name': 'X-OpenStack-Nova-API-Version', 'in': 'header',
                    'required': False,
                    'description': "The legacy header: 'X.Y' or 'latest'.",
                    'schema': {'type': 'string'}},
            },
            'securitySchemes': {
                'X-Auth-Token': {
                    'type': 'apiKey', 'in': 'header',
                    'name': 'X-Auth-Token',
                    'description': 'A Keystone token; with noauth2, '
                                   '"user:project".'},
            },
        },
    }


def render(document):
    """The document as the committed file holds it (stable text)."""
    return json.dumps(document, indent=2, sort_keys=True) + '\n'


def resolve(document, schema):
    """``schema`` with every local ``$ref`` replaced by what it names."""
    if isinstance(schema, dict):
        ref = schema.get('$ref')
        if isinstance(ref, str) and ref.startswith('#/'):
            target = document
            for part in ref[2:].split('/'):
                target = target[part]
            return resolve(document, target)
        return {k: resolve(document, v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [resolve(document, v) for v in schema]
    return schema


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Print (or write, or check) the OpenAPI description '
                    'of the compute API.')
    parser.add_argument('--output', help='write it to this file')
    parser.add_argument('--check', metavar='FILE',
                        help='exit 1 when FILE differs from the generated '
                             'document')
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.check:
        with open(args.check) as f:
            if f.read() != text:
                sys.stderr.write('%s is out of date; regenerate it with: %s\n'
                                 % (args.check, REGENERATE))
                return 1
        return 0
    if args.output:
        with open(args.output, 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
