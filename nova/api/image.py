"""A read-only Image API v2 subset, mounted at /image.

``nova boot --image NAME`` and ``openstack server create --image NAME``
resolve image names through the image service of the catalog. This serves
the boot images the compute service knows (kernel + initrd + command
line) as Glance v2 images: ``GET /image``, ``GET /image/v2/images`` (with
``name``, ``id``, ``limit``, ``marker``) and ``GET /image/v2/images/{id}``.
"""

import json

import webob
import webob.dec

from nova.api.openstack import common

attr = common.attr

IMAGE_CREATED = '2026-01-01T00:00:00Z'


def _json(body, status=200):
    resp = webob.Response(status=status, content_type='application/json',
                          charset='utf-8')
    resp.body = json.dumps(body).encode('utf-8')
    return resp


def _not_found(message):
    resp = webob.Response(status=404, content_type='text/plain',
                          charset='utf-8')
    resp.text = '404 Not Found\n\n%s\n' % message
    return resp


class ImageAPI(object):
    """WSGI app below /image (the prefix already popped)."""

    def __init__(self, compute_api, conf):
        self.compute_api = compute_api
        self.conf = conf

    def _base(self, req):
        public = self.conf.api.public_endpoint
        return (public.rstrip('/') if public else req.host_url) + '/image'

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info.rstrip('/') or '/'
        if req.method not in ('GET', 'HEAD'):
            resp = webob.Response(status=405)
            resp.headers['Allow'] = 'GET, HEAD'
            return resp
        if path in ('/', '/versions'):
            return _json({'versions': [{
                'id': 'v2.16', 'status': 'CURRENT',
                'links': [{'rel': 'self',
                           'href': '%s/v2/' % self._base(req)}]}]},
                         status=300 if path == "/" else 200)
        if path == '/v2/images':
            return self._index(req)
        if path.startswith('/v2/images/') and path.count('/') == 3:
            return self._show(req, path.rsplit('/', 1)[-1])
        return _not_found('The image API of this compute service only '
                          'lists and shows images.')

    def view(self, image):
        image_id = attr(image, 'id')
        created = common.isotime(attr(image, 'created_at')) or IMAGE_CREATED
        return {
            'id': image_id,
            'name': attr(image, 'name'),
            'status': 'active',
            'visibility': 'public',
            'protected': False,
            'os_hidden': False,
            'container_format': 'bare',
            'disk_format': 'raw',
            'size': attr(image, 'size', None),
            'virtual_size': None,
            'checksum': None,
            'min_disk': 0,
            'min_ram': 0,
            'owner': None,
            'tags': [],
            'kernel': attr(image, 'kernel'),
            'initrd': attr(image, 'initrd'),
            'cmdline': attr(image, 'cmdline'),
            'created_at': created,
            'updated_at': common.isotime(attr(image, 'updated_at'))
            or created,
            'self': '/v2/images/%s' % image_id,
            'file': '/v2/images/%s/file' % image_id,
            'schema': '/v2/schemas/image',
        }

    def _index(self, req):
        images = [self.view(i) for i in
                  self.compute_api.list_images(req.environ['nova.context'])]
        for key in ('name', 'id', 'status', 'visibility'):
            value = req.GET.get(key)
            if value is not None:
                if value.startswith('in:'):
                    wanted = value[3:].split(',')
                    images = [i for i in images if str(i[key]) in wanted]
                else:
                    images = [i for i in images if str(i[key]) == value]
        images.sort(key=lambda i: i['name'] or '')
        marker = req.GET.get('marker')
        if marker:
            ids = [i['id'] for i in images]
            if marker in ids:
                images = images[ids.index(marker) + 1:]
        limit = req.GET.get('limit')
        body = {'first': '/v2/images', 'schema': '/v2/schemas/images'}
        if limit and limit.isdigit():
            more = len(images) > int(limit)
            images = images[:int(limit)]
            if more and images:
                body['next'] = '/v2/images?marker=%s&limit=%s' % (
                    images[-1]['id'], limit)
        body['images'] = images
        return _json(body)

    def _show(self, req, image_id):
        ctx = req.environ['nova.context']
        try:
            image = self.compute_api.get_image(ctx, image_id)
        except Exception as exc:
            if getattr(exc, 'code', None) in (400, 404):
                image = None
            else:
                raise
        if image is None:
            return _not_found('No image found with ID %s' % image_id)
        return _json(self.view(image))
