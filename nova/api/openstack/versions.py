"""Version discovery: GET / and GET /v2.1."""

from nova.api.openstack import api_version
from nova.api.openstack import wsgi

V21_UPDATED = '2013-07-23T11:33:21Z'
MEDIA_TYPE = 'application/vnd.openstack.compute+json;version=2.1'


def v21_document(base_url):
    return {
        'id': 'v2.1',
        'status': 'CURRENT',
        'version': api_version.MAX_VERSION_STRING,
        'min_version': api_version.MIN_VERSION_STRING,
        'updated': V21_UPDATED,
        'links': [
            {'rel': 'self', 'href': '%s/v2.1/' % base_url},
            {'rel': 'describedby', 'type': 'text/html',
             'href': 'https://docs.openstack.org/'},
        ],
        'media-types': [{'base': 'application/json', 'type': MEDIA_TYPE}],
    }


def versions_response(req, conf):
    """GET /: the compute API versions (only v2.1 is served)."""
    doc = v21_document(req.base_url(conf))
    listed = {k: v for k, v in doc.items() if k != 'media-types'}
    listed['links'] = [doc['links'][0]]
    return wsgi.json_response({'versions': [listed]})


def version_response(req, conf):
    """GET /v2.1 and /v2.1/: the v2.1 document."""
    return wsgi.json_response(
        {'version': v21_document(req.base_url(conf))})
