"""Options of the compute REST API service (nova-api, nova-all)."""

from oslo_config import cfg

api_group = cfg.OptGroup(
    'api', title='API options',
    help='Options of the compute REST API (nova-api and nova-all).')

api_opts = [
    cfg.StrOpt(
        'auth_strategy',
        default='keystone',
        choices=[
            ('keystone', 'Validate tokens with keystonemiddleware '
                         '(configure it in [keystone_authtoken]).'),
            ('noauth2', 'No authentication: the token "user:project" '
                        'names the caller; the user "admin" is an '
                        'administrator. For the all-in-one and tests '
                        'only.'),
        ],
        help="""
How the API authenticates requests.

With ``noauth2`` the API also serves a minimal Identity v3 endpoint under
``/identity`` (see ``identity_shim``), so that the unmodified ``nova`` and
``openstack`` clients can log in with any password and find the compute and
image endpoints in the service catalog. ``nova-all`` defaults to
``noauth2``.
"""),
    cfg.BoolOpt(
        'identity_shim',
        default=True,
        help="""
Serve the minimal Identity v3 endpoint (``/identity``) when
``auth_strategy`` is ``noauth2``. It issues tokens of the form
``user:project`` for any user name and password, with a service catalog
listing this API as ``compute`` and ``image``. Never enabled with
``keystone``.
"""),
    cfg.BoolOpt(
        'image_api',
        default=True,
        help="""
Serve a read-only Image API v2 subset (``/image/v2/images``) backed by the
boot images this compute service knows, so clients can resolve
``--image`` names. With ``keystone`` register it in the catalog as the
``image`` service if no Glance is deployed.
"""),
    cfg.BoolOpt(
        'noauth2_allow_remote',
        default=False,
        help="""
Allow ``auth_strategy = noauth2`` while ``osapi_compute_listen`` is not a
loopback address.

``noauth2`` trusts whatever the token says, and the user ``admin`` is an
administrator: anyone who reaches the port is one. The API services
therefore refuse to start with ``noauth2`` on any address but a loopback one
(127.0.0.0/8, ``::1``, ``localhost``) unless this option is true. A warning
is logged at start whenever ``noauth2`` is on.
"""),
    cfg.URIOpt(
        'public_endpoint',
        schemes=['http', 'https'],
        help="""
Base URL clients reach this API at, e.g. ``http://api.example.org:8774``.
Used for links in responses and in the identity shim's catalog. Unset: the
scheme, host and port of each request.
"""),
    cfg.StrOpt(
        'region_name',
        default='RegionOne',
        help='Region named in the identity shim\'s service catalog.'),
    cfg.IntOpt(
        'max_limit',
        default=1000,
        min=1,
        help="""
The most items a collection (servers, migrations) returns in one response;
clients page with ``limit`` and ``marker``.
"""),
]

wsgi_opts = [
    cfg.HostAddressOpt(
        'osapi_compute_listen',
        default='0.0.0.0',
        help='IP address the compute API listens on.'),
    cfg.PortOpt(
        'osapi_compute_listen_port',
        default=8774,
        help='Port the compute API listens on (0: any free port).'),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: oslo.config keeps overrides in the
    # group object (the all-in-one has one ConfigOpts per compute service).
    group = cfg.OptGroup(api_group.name, title=api_group.title,
                         help=api_group.help)
    conf.register_group(group)
    conf.register_opts(api_opts, group=group)
    conf.register_opts(wsgi_opts)


def list_opts():
    return {api_group.name: api_opts, 'DEFAULT': wsgi_opts}
