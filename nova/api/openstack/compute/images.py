"""The compute API's image proxy, GET /images[/detail|/{id}] (until 2.35).

Images here are kernel+initrd boot images (id, name, kernel, initrd,
cmdline) known to the compute service.
"""

from nova.api.openstack import common
from nova.api.openstack.compute import base
from nova.api.openstack import wsgi
from nova import exception

attr = common.attr

IMAGE_CREATED = '2026-01-01T00:00:00Z'


class ImageNotFound(exception.NovaException):
    msg_fmt = 'Image not found.'
    code = 404


def find_image(compute_api, context, image_id):
    try:
        image = compute_api.get_image(context, image_id)
    except exception.NovaException as exc:
        if getattr(exc, 'code', None) in (400, 404):
            raise ImageNotFound()
        raise
    if image is None:
        raise ImageNotFound()
    return image


class ImagesController(base.Controller):

    def _brief(self, req, image):
        image_id = attr(image, 'id')
        return {'id': image_id, 'name': attr(image, 'name'),
                'links': common.self_links(req, self.conf, 'images',
                                           image_id)}

    def _detail(self, req, image):
        body = self._brief(req, image)
        created = common.isotime(attr(image, 'created_at')) or IMAGE_CREATED
        body.update({
            'status': 'ACTIVE',
            'progress': 100,
            'minDisk': 0,
            'minRam': 0,
            'created': created,
            'updated': common.isotime(attr(image, 'updated_at')) or created,
            'metadata': {
                'kernel': attr(image, 'kernel'),
                'initrd': attr(image, 'initrd'),
                'cmdline': attr(image, 'cmdline'),
            },
            'OS-EXT-IMG-SIZE:size': attr(image, 'size', 0) or 0,
        })
        return body

    @wsgi.versioned(max_version='2.35')
    def index(self, req):
        return {'images': [self._brief(req, i)
                           for i in self.compute_api.list_images(
                               req.context)]}

    @wsgi.versioned(max_version='2.35')
    def detail(self, req):
        return {'images': [self._detail(req, i)
                           for i in self.compute_api.list_images(
                               req.context)]}

    @wsgi.versioned(max_version='2.35')
    def show(self, req, image_id):
        return {'image': self._detail(
            req, find_image(self.compute_api, req.context, image_id))}
