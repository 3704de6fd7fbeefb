"""Base class of the compute API controllers."""

from nova.api.openstack import policy


class Controller(object):

    def __init__(self, compute_api, conf):
        self.compute_api = compute_api
        self.conf = conf

    @staticmethod
    def authorize(req, action, target=None, fatal=True):
        return policy.authorize(req.context, action, target, fatal=fatal)
