"""GET /flavors, /flavors/detail, /flavors/{id}."""

from nova.api.openstack.compute import base
from nova.api.openstack.compute import views
from nova.api.openstack import validation
from nova import exception


QUERY_PARAMS = ('is_public', 'minRam', 'minDisk')


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
        values.sort(key=lambda vf: (_sortable(vf[0]['id'])))
        return [f for _v, f in values]

    @validation.query_params(QUERY_PARAMS)
    def index(self, req):
        v = views.Views(req, self.conf)
        return {'flavors': [v.flavor_brief(f) for f in self._flavors(req)]}

    @validation.query_params(QUERY_PARAMS)
    def detail(self, req):
        v = views.Views(req, self.conf)
        return {'flavors': [v.flavor_detail(f) for f in self._flavors(req)]}

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


def _sortable(flavor_id):
    return (0, int(flavor_id), '') if str(flavor_id).isdigit() \
        else (1, 0, str(flavor_id))
