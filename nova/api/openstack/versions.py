"""Version discovery: GET /, GET /v2 and GET /v2.1.

Two versions are listed, as Nova lists them: v2.1 (CURRENT, with
microversions) and v2.0 (SUPPORTED), the legacy v2 compatibility mode that
serves the same resources at ``/v2`` as microversion 2.1 and ignores the
microversion headers.
"""

from nova.api.openstack import api_version
from nova.api.openstack import wsgi

V21_UPDATED = '2013-07-23T11:33:21Z'
V20_UPDATED = '2011-01-21T11:33:21Z'
MEDIA_TYPE = 'application/vnd.openstack.compute+json;version=2.1'
V20_MEDIA_TYPE = 'application/vnd.openstack.compute+json;version=2'
DESCRIBED_BY = {'rel': 'describedby', 'type': 'text/html',
                'href': 'https://docs.openstack.org/'}


def v21_document(base_url):
    return {
        'id': 'v2.1',
        'status': 'CURRENT',
        'version': api_version.MAX_VERSION_STRING,
        'min_version': api_version.MIN_VERSION_STRING,
        'updated': V21_UPDATED,
        'links': [
            {'rel': 'self', 'href': '%s/v2.1/' % base_url},
            dict(DESCRIBED_BY),
        ],
        'media-types': [{'base': 'application/json', 'type': MEDIA_TYPE}],
    }


def v20_document(base_url):
    """The legacy v2 endpoint: no microversions (empty version fields)."""
    return {
        'id': 'v2.0',
        'status': 'SUPPORTED',
        'version': '',
        'min_version': '',
        'updated': V20_UPDATED,
        'links': [
            {'rel': 'self', 'href': '%s/v2/' % base_url},
            dict(DESCRIBED_BY),
        ],
        'media-types': [{'base': 'application/json',
                         'type': V20_MEDIA_TYPE}],
    }


def _listed(doc):
    listed = {k: v for k, v in doc.items() if k != 'media-types'}
    listed['links'] = [doc['links'][0]]
    return listed


def versions_response(req, conf):
    """GET /: v2.0 first, then v2.1, as Nova lists them."""
    base = req.base_url(conf)
    return wsgi.json_response({'versions': [
        _listed(v20_document(base)), _listed(v21_document(base))]})


def version_response(req, conf):
    """GET /v2.1 and /v2.1/: the v2.1 document."""
    return wsgi.json_response(
        {'version': v21_document(req.base_url(conf))})


def v20_version_response(req, conf):
    """GET /v2 and /v2/: the v2.0 document."""
    return wsgi.json_response(
        {'version': v20_document(req.base_url(conf))})
