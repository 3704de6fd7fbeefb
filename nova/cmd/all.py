"""nova-all: the API and two compute services in one process.

    nova-all [--config-file nova.conf] \\
        --compute lab-a=qemu+tcp://198.18.0.1/system,198.18.0.1 \\
        --compute lab-b=qemu+tcp://198.18.0.2/system,198.18.0.2
    nova-all --lab-env /var/tmp/nova-lab/lab.env
    nova-all --fake-hypervisors [--fake-speed 10]

Everything runs on the embedded defaults: the SQLite file under
``state_path`` (created and synced at start, default flavors added), the
in-process ``fake://`` message transport shared by the API and the compute
services, and ``[api] auth_strategy = noauth2`` with the identity shim, so
the unmodified ``nova`` and ``openstack`` clients work at once::

    export OS_AUTH_URL=http://127.0.0.1:8774/identity OS_USERNAME=admin \\
        OS_PASSWORD=admin OS_PROJECT_NAME=admin \\
        OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default

Compute services, each with its own settings:

* ``--compute NAME=URI[,ADDR]``: host name, ``[libvirt] connection_uri``
  and ``live_migration_inbound_addr`` (repeat for each host);
* ``--lab-env FILE``: the two hosts of the project's lab (``tools/lab``
  writes ``/var/tmp/nova-lab/lab.env``; used by default when it exists and
  no ``--compute`` is given), with its virt type, guest kernel and initrd
  (registered as the image ``lab-guest``) and the shared console dir;
* ``--fake-hypervisors``: the simulated libvirt of the tests
  (``nova.simulator.libvirt``) on a clock sped up ``--fake-speed``
  times, no QEMU needed. A guest's metadata ``dirty_rate`` (MiB/s) and
  ``dirty_mib`` give it a workload, as on the lab guest's command line.
"""

import os
import re
import sys

from oslo_config import cfg
from oslo_log import log as logging

import nova.conf
from nova.api.openstack import app as api_app
from nova import cmd
from nova.cmd import api as api_cmd
from nova import exception

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

DEFAULT_LAB_ENV = '/var/tmp/nova-lab/lab.env'
FAKE_HOSTS = ('lab-a', 'lab-b')
FAKE_IMAGE = {'name': 'busybox', 'kernel': '/fake/vmlinuz',
              'initrd': '/fake/initrd.img', 'cmdline': 'console=ttyS0'}
LAB_IMAGE_NAME = 'lab-guest'
MiB = 1024 * 1024

cli_opts = [
    cfg.MultiStrOpt(
        'compute', default=[], metavar='NAME=URI[,ADDR]',
        help='A compute service: host name, libvirt connection URI and '
             'live-migration inbound address. Repeat for each host.'),
    cfg.StrOpt(
        'lab-env', metavar='FILE',
        help='Take the compute hosts from the lab env file written by '
             'tools/lab (default %s when it exists and no --compute is '
             'given).' % DEFAULT_LAB_ENV),
    cfg.BoolOpt(
        'fake-hypervisors', default=False,
        help='Run the compute services on the simulated libvirt (no QEMU) '
             'with hosts lab-a and lab-b.'),
    cfg.FloatOpt(
        'fake-speed', default=10.0, min=0.1,
        help='How many times faster than real time the simulated '
             'hypervisors run.'),
    cfg.FloatOpt(
        'fake-link-mib-s', default=100.0, min=1.0,
        help='Bandwidth of the simulated migration link, MiB/s.'),
    cfg.PortOpt(
        'port',
        help='Port of the API (overrides osapi_compute_listen_port; 0: a '
             'free port, printed at start).'),
    cfg.StrOpt(
        'api-server', default='waitress', choices=['waitress', 'wsgiref'],
        help='HTTP server of the API: waitress (with the [wsgi] limits), '
             'or the standard library\'s wsgiref, only as the reference '
             'point of the load benchmark (tox -e load).'),
]


class ComputeSpec(object):

    def __init__(self, name, uri, addr=None, extra=None):
        self.name = name
        self.uri = uri
        self.addr = addr
        self.extra = dict(extra or {})

    def overrides(self):
        libvirt = {'connection_uri': self.uri}
        if self.addr:
            libvirt['live_migration_inbound_addr'] = self.addr
        libvirt.update(self.extra.get('libvirt', {}))
        values = {k: v for k, v in self.extra.items() if k != 'libvirt'}
        values['host'] = self.name
        values['libvirt'] = libvirt
        return values

    def __repr__(self):
        return 'ComputeSpec(%s, %s, %s)' % (self.name, self.uri, self.addr)


def parse_compute(value):
    """``NAME=URI[,ADDR]`` -> ComputeSpec."""
    name, sep, rest = value.partition('=')
    if not sep or not name or not rest:
        raise ValueError('--compute wants NAME=URI[,ADDR], got %r' % value)
    uri, _sep, addr = rest.partition(',')
    return ComputeSpec(name.strip(), uri.strip(), addr.strip() or None)


def read_env_file(path):
    """KEY=value lines (``export`` and quotes tolerated)."""
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            if line.startswith('export '):
                line = line[len('export '):]
            key, sep, value = line.partition('=')
            if not sep:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
                value = value[1:-1]
            values[key.strip()] = value
    return values


def lab_computes(env):
    """The compute hosts of a lab env: NOVA_LAB_{A,B}_{HOSTNAME,URI,ADDR}."""
    extra = {'libvirt': {}}
    if env.get('NOVA_LAB_VIRT_TYPE') in ('kvm', 'qemu'):
        extra['libvirt']['virt_type'] = env['NOVA_LAB_VIRT_TYPE']
    shared = env.get('NOVA_LAB_SHARED_DIR')
    if shared:
        console = os.path.join(shared, 'console')
        os.makedirs(console, exist_ok=True)
        extra['libvirt']['guest_console_dir'] = console
    if env.get('NOVA_LAB_BRIDGE'):
        # Guests asking for a network (metadata net_ip) get a NIC there.
        extra['libvirt']['guest_bridge'] = env['NOVA_LAB_BRIDGE']
    letters = sorted({m.group(1) for m in
                      (re.match(r'^NOVA_LAB_([A-Z])_URI$', k) for k in env)
                      if m})
    specs = []
    for letter in letters:
        prefix = 'NOVA_LAB_%s_' % letter
        name = env.get(prefix + 'HOSTNAME') or 'lab-%s' % letter.lower()
        specs.append(ComputeSpec(name, env[prefix + 'URI'],
                                 env.get(prefix + 'ADDR'), extra))
    if not specs:
        raise ValueError('no NOVA_LAB_<X>_URI in the lab env')
    return specs


def _register_cli_opts(conf):
    for opt in cli_opts:
        try:
            conf.register_cli_opt(opt)
        except cfg.ArgsAlreadyParsedError:
            raise
        except cfg.DuplicateOptError:
            pass


def _set_all_in_one_defaults(conf):
    conf.set_default('auth_strategy', 'noauth2', group='api')
    conf.set_default('osapi_compute_listen', '127.0.0.1')
    # The API shares this process, so the GIL, with the compute services:
    # one API worker leaves them the most (tox -e load measured migrations
    # under 50 clients at 0.96-0.98 of their quiet rate with 1 worker,
    # 0.71-0.85 with 2 to 8) and also serves the most requests per second
    # (doc/source/admin/serving-the-api.rst).
    conf.set_default('threads', 1, group='wsgi')


# -- the process ------------------------------------------------------------

class AllInOne(object):
    """Database, transport, compute services and the API server."""

    def __init__(self, conf=CONF, specs=None, fake=False, fake_speed=10.0,
                 fake_link_mib_s=100.0, lab_env=None, api_server='waitress'):
        self.conf = conf
        self.api_server = api_server
        self.specs = list(specs or [])
        self.fake = fake
        self.fake_speed = fake_speed
        self.fake_link_mib_s = fake_link_mib_s
        self.lab_env = lab_env or {}
        self.hypervisors = None
        self.services = []
        self.server = None
        self.db = None
        self.transport = None

    def _database(self):
        from nova.db import api as db_api
        from nova.db import defaults
        from nova.db import migration
        url = self.conf.database.connection
        if url.startswith('sqlite:///'):
            directory = os.path.dirname(url[len('sqlite:///'):])
            if directory:
                os.makedirs(directory, exist_ok=True)
        db = db_api.Database.from_conf(self.conf)
        db.check_connection()
        migration.db_sync(db.engine)
        for name in defaults.seed(db):
            LOG.info('Created flavor %s', name)
        return db

    def _ensure_image(self, values):
        from nova.db import api as db_api
        if not db_api.image_get_by_name(self.db, values['name']):
            db_api.image_create(self.db, dict(values))
            LOG.info('Registered image %s (%s)', values['name'],
                     values['kernel'])

    def _fake_world(self):
        from nova.simulator import libvirt as fakelibvirt
        from nova.simulator import migration_model
        clock = fakelibvirt.RealTimeClock(speed=self.fake_speed, tick=0.02)
        world = fakelibvirt.Hypervisors(clock=clock)
        world.set_link(migration_model.Link(
            bandwidth=self.fake_link_mib_s * MiB, setup_time=0.2))
        for spec in self.specs:
            aliases = [spec.addr] if spec.addr else []
            conn = world.add_host(spec.name, aliases=aliases)
            _give_workloads(conn, migration_model)
        return world

    def _driver_for(self, spec, conf):
        if self.hypervisors is None:
            return None
        from nova.virt.libvirt import driver as libvirt_driver
        from nova.virt.libvirt import host as libvirt_host
        host = libvirt_host.Host(self.hypervisors.uri(spec.name),
                                 libvirt_module=self.hypervisors.module,
                                 event_loop=False)
        return libvirt_driver.LibvirtDriver(host=host, conf=conf,
                                            clock=self.hypervisors.clock)

    def start(self):
        from nova.compute import api as compute_api
        from nova.compute import service as compute_service
        from nova import rpc
        self.db = self._database()
        self.transport = rpc.get_transport(self.conf)
        if self.fake:
            self.hypervisors = self._fake_world()
            self._ensure_image(FAKE_IMAGE)
        elif self.lab_env.get('NOVA_LAB_KERNEL'):
            self._ensure_image({
                'name': LAB_IMAGE_NAME,
                'kernel': self.lab_env['NOVA_LAB_KERNEL'],
                'initrd': self.lab_env['NOVA_LAB_INITRD'],
                'cmdline': 'console=ttyS0'})
        services = []
        for spec in self.specs:
            overrides = spec.overrides()
            if self.fake:
                overrides['libvirt']['connection_uri'] = \
                    self.hypervisors.uri(spec.name)
                overrides['libvirt'].setdefault('virt_type', 'qemu')
            conf = compute_service.build_conf(overrides=overrides,
                                              base=self.conf)
            services.append(compute_service.ComputeService(
                conf=conf, driver=self._driver_for(spec, conf), db=self.db,
                transport=self.transport))
        self._start_services(services)
        api = compute_api.API(db=self.db, conf=self.conf,
                              transport=self.transport)
        self.server = api_cmd.serve(api_app.build_app(self.conf, api),
                                    self.conf, name='nova-all-api',
                                    server=self.api_server)
        return self

    def _start_services(self, services):
        """Start the compute services side by side, not one after another.

        A service settles, as it starts, the migrations a previous run of
        this process left unfinished, and asks their destination where the
        guest is. The destination is a service of this same process: started
        one after another, the first one's question waits for a service
        that starts only after it gave up (``SETTLE_RPC_TIMEOUT``), and the
        API stays closed meanwhile.
        """
        from nova import utils
        handles = [(service, utils.spawn(service.start))
                   for service in services]
        failed = None
        for service, handle in handles:
            try:
                handle.wait()
            except Exception as exc:
                LOG.error('Compute service %s did not start: %s',
                          service.host, exc)
                failed = failed or exc
                continue
            self.services.append(service)
        if failed is not None:
            raise failed

    @property
    def url(self):
        return self.server.url if self.server else None

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception:
                LOG.exception('Stopping compute service %s failed',
                              service.host)
        self.services = []
        if self.hypervisors is not None:
            self.hypervisors.clock.stop()
        if self.transport is not None:
            from nova import rpc
            rpc.cleanup_transport(self.transport)
            self.transport = None
        if self.db is not None:
            self.db.dispose()


_CMDLINE_NUMBER = r'(?:^|\s)%s=([0-9]+)(?=\s|$)'


def _give_workloads(conn, migration_model):
    """Fake guests dirty memory as their kernel command line asks.

    The driver puts the instance metadata ``dirty_mib``/``dirty_rate`` on
    the guest's command line, where the lab guest's /init reads them; the
    simulated host reads them from the domain XML the same way.
    """
    import xml.etree.ElementTree as ET
    define = conn.defineXML

    def define_with_workload(xml):
        dom = define(xml)
        try:
            cmdline = ET.fromstring(xml).findtext('os/cmdline') or ''
        except ET.ParseError:
            return dom
        values = {}
        for key in ('dirty_mib', 'dirty_rate'):
            match = re.search(_CMDLINE_NUMBER % key, cmdline)
            if match:
                values[key] = int(match.group(1))
        if values.get('dirty_rate'):
            working = values.get('dirty_mib', 128) * MiB
            dom.workload = migration_model.Workload(
                ram=dom.memory, dirty_rate=values['dirty_rate'] * MiB,
                working_set=min(working, dom.memory))
        return dom

    conn.defineXML = define_with_workload


def computes_from_conf(conf):
    """(specs, lab_env) from --compute, --lab-env or --fake-hypervisors."""
    specs = [parse_compute(v) for v in conf.compute]
    lab_env = {}
    lab_path = conf.lab_env
    if not specs and not lab_path and not conf.fake_hypervisors \
            and os.path.exists(DEFAULT_LAB_ENV):
        lab_path = DEFAULT_LAB_ENV
    if lab_path:
        lab_env = read_env_file(lab_path)
        if not specs:
            specs = lab_computes(lab_env)
    if not specs and conf.fake_hypervisors:
        specs = [ComputeSpec(name, None, name) for name in FAKE_HOSTS]
    if not specs:
        raise ValueError('no compute hosts: give --compute NAME=URI[,ADDR] '
                         '(twice), --lab-env FILE (tools/lab writes %s) or '
                         '--fake-hypervisors' % DEFAULT_LAB_ENV)
    return specs, lab_env


def main(argv=None):
    _register_cli_opts(CONF)
    _set_all_in_one_defaults(CONF)
    api_cmd.parse_args(sys.argv[1:] if argv is None else argv, CONF,
                       prog='nova-all')
    if CONF.port is not None:
        CONF.set_override('osapi_compute_listen_port', CONF.port)
    try:
        specs, lab_env = computes_from_conf(CONF)
    except (ValueError, OSError) as exc:
        print('nova-all: %s' % exc, file=sys.stderr)
        return 2
    from nova.conf import validation
    if validation.exit_on_errors(CONF, 'nova-all', LOG, api=True):
        return 1
    aio = AllInOne(CONF, specs, fake=CONF.fake_hypervisors,
                   fake_speed=CONF.fake_speed,
                   fake_link_mib_s=CONF.fake_link_mib_s, lab_env=lab_env,
                   api_server=CONF.api_server)
    try:
        aio.start()
    except (exception.DatabaseUnavailable, exception.DatabaseNotSynced,
            exception.InvalidConfiguration) as exc:
        print('nova-all: %s' % exc, file=sys.stderr, flush=True)
        aio.stop()
        return 1
    except Exception:
        LOG.exception('nova-all could not start')
        aio.stop()
        return 1
    hosts = ', '.join('%s (%s)' % (s.host, s.conf.libvirt.connection_uri)
                      for s in aio.services)
    print('nova-all: compute API at %s/v2.1, identity at %s/identity; '
          'compute hosts: %s' % (aio.url, aio.url, hosts), flush=True)
    try:
        cmd.wait_for_signal()
    finally:
        aio.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
