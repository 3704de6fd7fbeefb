"""GET /flavors, /flavors/detail, /flavors/{id}.

The lists page and sort as Nova's do: ``sort_key`` (default ``flavorid``)
and ``sort_dir`` (default ``asc``), then ``marker`` (a flavor id: the page
starts after it) and ``limit`` (at most ``[api] max_limit``); a full page
carries a ``flavors_links`` "next" link.
"""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack.compute import views
from nova.api.openstack import validation
from nova import exception


QUERY_PARAMS = ('is_public', 'minRam', 'minDisk', 'limit', 'marker',
                'sort_key', 'sort_dir')

# Nova's sortable flavor columns, with the value each one sorts by here.
SORT_KEYS = {
    'flavorid': lambda v: _sortable(v['id']),
    'id': lambda v: _sortable(v['id']),
    'name': lambda v: v['name'] or '',
    'memory_mb': lambda v: v['ram'],
    'vcpus': lambda v: v['vcpus'],
    'root_gb': lambda v: v['disk'],
    'ephemeral_gb': lambda v: v['ephemeral'],
    'swap': lambda v: v['swap'],
    'rxtx_factor': lambda v: v['rxtx_factor'],
    'is_public': lambda v: bool(v['is_public']),
    'disabled': lambda v: bool(v['disabled']),
    'description': lambda v: v['description'] or '',
    'vcpu_weight': lambda v: 0,
    'created_at': lambda v: _sortable(v['id']),
    'updated_at': lambda v: _sortable(v['id']),
}
SORT_DIRS = ('asc', 'desc')


class MarkerNotFound(exception.NovaException):
    msg_fmt = 'marker [%(marker)s] not found'
    code = 400


class FlavorNotFound(exception.NovaException):
    msg_fmt = 'Flavor %(flavor_id)s could not be found.'
    code = 404


class FlavorsController(base.Controller):

    def _flavors(self, req):
        flavors = list(self.compute_api.list_flavors(req.context))
        values = [(views.flavor_values(f), f) for f in flavors]
        is_public = req.GET.get('is_public')
        if not req.context.is_admin or is_public in (None, 'true', 'True'):
            values = [(v, f) for v, f in values if v['is_public']]
        min_ram = _min_filter(req, 'minRam')
        min_disk = _min_filter(req, 'minDisk')
        if min_ram is not None:
            values = [(v, f) for v, f in values if v['ram'] >= min_ram]
        if min_disk is not None:
            values = [(v, f) for v, f in values if v['disk'] >= min_disk]
        values = _sorted(req, values)
        marker = req.GET.get('marker')
        if marker:
            ids = [v['id'] for v, _f in values]
            if marker not in ids:
                raise MarkerNotFound(marker=marker)
            values = values[ids.index(marker) + 1:]
        limit = common.get_limit(req, self.conf)
        return [f for _v, f in values[:limit]], limit

    def _page(self, req, build):
        flavors, limit = self._flavors(req)
        v = views.Views(req, self.conf)
        body = {'flavors': [build(v, f) for f in flavors]}
        if flavors and len(flavors) == limit and 'limit' in req.GET:
            last = views.flavor_values(flavors[-1])['id']
            body['flavors_links'] = [{
                'rel': 'next',
                'href': '%s?limit=%d&marker=%s' % (
                    common.link(req, self.conf, *self._collection(req)),
                    limit, last)}]
        return body

    @staticmethod
    def _collection(req):
        path = (req.path_info or '').rstrip('/')
        return ('flavors', 'detail') if path.endswith('/detail') \
            else ('flavors',)

    @validation.query_params(QUERY_PARAMS)
    def index(self, req):
        return self._page(req, lambda v, f: v.flavor_brief(f))

    @validation.query_params(QUERY_PARAMS)
    def detail(self, req):
        return self._page(req, lambda v, f: v.flavor_detail(f))

    def show(self, req, flavor_id):
        try:
            flavor = self.compute_api.get_flavor(req.context, flavor_id)
        except exception.NovaException as exc:
            if getattr(exc, 'code', None) in (400, 404):
                raise FlavorNotFound(flavor_id=flavor_id)
            raise
        if flavor is None:
            raise FlavorNotFound(flavor_id=flavor_id)
        return {'flavor': views.Views(req, self.conf).flavor_detail(flavor)}


def _min_filter(req, name):
    """The integer of a minRam/minDisk query parameter, None when absent.

    Anything int() does not read (``abc``, ``²``) is Nova's 400.
    """
    value = req.GET.get(name)
    if value is None or value == '':
        return None
    try:
        return int(value)
    except ValueError:
        raise exception.ValidationError(
            detail='Invalid %s filter [%s]' % (name, value))


def _sorted(req, values):
    """``values`` ([(flavor values, flavor)]) in the order asked for.

    An unknown sort_key or sort_dir is Nova's 400.
    """
    key = req.GET.get('sort_key') or 'flavorid'
    direction = (req.GET.get('sort_dir') or 'asc').lower()
    if key not in SORT_KEYS:
        raise exception.ValidationError(
            detail='Invalid input for query parameters sort_key. Value: '
                   '%s. %r is not one of %s' % (key, key, sorted(SORT_KEYS)))
    if direction not in SORT_DIRS:
        raise exception.ValidationError(
            detail='Invalid input for query parameters sort_dir. Value: '
                   '%s. %r is not one of %s' % (direction, direction,
                                                list(SORT_DIRS)))
    by_id = sorted(values, key=lambda vf: _sortable(vf[0]['id']))
    return sorted(by_id, key=lambda vf: SORT_KEYS[key](vf[0]),
                  reverse=direction == 'desc')


def _sortable(flavor_id):
    return (0, int(flavor_id), '') if str(flavor_id).isdigit() \
        else (1, 0, str(flavor_id))
