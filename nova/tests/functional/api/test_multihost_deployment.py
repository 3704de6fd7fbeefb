"""The multi-host deployment an operator runs, on the two-host lab.

Laid out as on several machines (doc/source/admin/deployment.rst):

* the controller is this machine's root network namespace: ``nova-api``
  as its own process (its WSGI server), the PostgreSQL server and the
  RabbitMQ broker;
* one ``nova-compute`` per hypervisor, started *inside* that lab host
  (``nsenter`` into the host's network, mount and UTS namespaces: the
  process has the host's address, its hostname and its ``/run/libvirt``,
  so ``[libvirt] connection_uri = qemu:///system`` is that host's libvirtd,
  as on a real hypervisor), with the common ``nova.conf`` plus a file of
  its own (``host``, libvirt, the migration address);
* the computes reach the controller only over the lab's management network
  (``tools/lab/setup.sh`` ``step_mgmt_link``: a bridge at 198.19.0.1 in the
  root namespace, lab-a at .2, lab-b at .3), and each other's libvirtd over
  the hosts' own link (198.18.0.0/24), as a real source compute reaches
  its destination;
* a database of its own on the PostgreSQL server, created, synced with
  ``nova-manage db sync`` and dropped by the test;
* the operator's real ``nova`` CLI against the API.

PostgreSQL and RabbitMQ on the machines this runs on listen on 127.0.0.1
only (and RabbitMQ's ``guest`` user may only log in from loopback), so the
test relays each to the management address with ``socat`` for its
duration: a compute inside a lab host connects to 198.19.0.1, and the
server sees a local client. A real deployment has the servers listen on
the management address instead.

Skipped, with the reason, when PostgreSQL, RabbitMQ, socat, psycopg2 or the
``nova`` client is missing; a lab without the management network (set up
by an older ``setup.sh``) fails under ``NOVA_LAB_REQUIRED`` like a missing
lab.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid as uuid_lib

import testtools

from nova.tests.functional.api import cloud as cloud_lib
from nova.tests.functional.compute import test_rabbit
from nova.tests.functional.drills import base as drills_base
from nova.tests.functional.libvirt import lab

POSTGRESQL_URL = os.environ.get(
    'NOVA_TEST_POSTGRESQL_URL',
    'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres')
RABBIT_URL = test_rabbit.RABBIT_URL
HOSTS = {'lab-a': 'A', 'lab-b': 'B'}
# A guest whose pre-copy lasts long enough to be seen running (128 MiB
# written once, then 4 MiB/s, over a 16 MiB/s cap: about 10 s) and
# converges without help.
GUEST_META = ('--meta', 'dirty_mib=128', '--meta', 'dirty_rate=4')
BANDWIDTH_MIB_S = 16
_API_READY = re.compile(r'nova-api: compute API at (http://\S+)/v2\.1')
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test process dies, so a
    killed run leaves no relay or compute service behind.
    """
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(
            _PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _stop(proc, timeout=20):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _free_port(address):
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def _answers(address, port, timeout=1.0):
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def _ini(path, groups):
    lines = []
    for group, values in groups.items():
        lines.append('[%s]' % group)
        lines.extend('%s = %s' % kv for kv in values.items())
        lines.append('')
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines))
    return path


def postgresql_problem(url):
    """None when the server takes a connection at ``url``, else why not."""
    try:
        import psycopg2  # noqa: F401
        import sqlalchemy as sa
    except ImportError as exc:
        return 'psycopg2 is not installed (test-requirements.txt): %s' % exc
    engine = sa.create_engine(url, connect_args={'connect_timeout': 3})
    try:
        with engine.connect():
            return None
    except Exception as exc:
        return 'PostgreSQL not reachable at %s: %s' % (url, exc)
    finally:
        engine.dispose()


class Relay(object):
    """``socat`` forwarding ``listen``:<free port> to ``target``."""

    def __init__(self, name, listen, target_host, target_port):
        self.name = name
        self.listen = listen
        self.target = (target_host, target_port)
        self.port = None
        self.proc = None

    def start(self):
        self.port = _free_port(self.listen)
        self.proc = subprocess.Popen(
            [shutil.which('socat'),
             'TCP-LISTEN:%d,bind=%s,reuseaddr,fork' % (self.port, self.listen),
             'TCP:%s:%d' % self.target],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while not _answers(self.listen, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                _stop(self.proc)
                raise AssertionError('relay for %s on %s:%s did not start: %s'
                                     % (self.name, self.listen, self.port,
                                        self.proc.stderr.read()))
            time.sleep(0.05)
        return self

    def stop(self):
        _stop(self.proc, timeout=5)


class Database(object):
    """A database of the test's own on the PostgreSQL server."""

    def __init__(self, admin_url):
        import sqlalchemy as sa
        self.sa = sa
        self.admin_url = sa.engine.make_url(admin_url)
        self.name = 'nova_multihost_%s' % uuid_lib.uuid4().hex[:10]

    def _admin(self, statement):
        engine = self.sa.create_engine(self.admin_url,
                                       isolation_level='AUTOCOMMIT')
        try:
            with engine.connect() as conn:
                conn.execute(self.sa.text(statement))
        finally:
            engine.dispose()

    def create(self):
        self._admin('CREATE DATABASE "%s"' % self.name)
        return self

    def drop(self):
        # FORCE (PostgreSQL 13+): a service killed mid-run may still hold
        # a connection through the relay.
        self._admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)

    def url(self, host, port):
        return self.admin_url.set(host=host, port=port,
                                  database=self.name).render_as_string(
                                      hide_password=False)


class ApiProcess(cloud_lib.NovaAll):
    """``nova-api`` in its own process; the REST helpers of NovaAll."""

    def __init__(self, config_files, log_path):
        super(ApiProcess, self).__init__()
        self.config_files = config_files
        self.log_path = log_path
        self.output = []

    def start(self):
        cmd = [sys.executable, '-m', 'nova.cmd.api']
        for path in self.config_files:
            cmd += ['--config-file', path]
        cmd += ['--log-file', self.log_path]
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        env.pop('NOVA_TEST_CONCURRENCY', None)
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, text=True,
            preexec_fn=_die_with_parent)
        found = {}

        def read():
            for line in self.process.stdout:
                self.output.append(line)
                match = _API_READY.search(line)
                if match and 'url' not in found:
                    found['url'] = match.group(1)
        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + cloud_lib.START_TIMEOUT
        while 'url' not in found:
            if self.process.poll() is not None or \
                    time.monotonic() > deadline:
                self.stop()
                raise AssertionError('nova-api did not start:\n%s\n%s'
                                     % (''.join(self.output[-50:]),
                                        self.log()[-5000:]))
            time.sleep(0.05)
        self.url = found['url']
        return self

    def cleanup(self):
        self.stop()


class MultiHostDeploymentTestCase(testtools.TestCase):

    def setUp(self):
        super(MultiHostDeploymentTestCase, self).setUp()
        self.t0 = time.monotonic()
        self.env = lab.env_for_test(self)
        self.mgmt = self.env.get('NOVA_LAB_MGMT_ADDR')
        if not self.mgmt:
            message = ('the lab has no management network (lab.env lacks '
                       'NOVA_LAB_MGMT_ADDR): re-run tools/lab/setup.sh')
            if os.environ.get('NOVA_LAB_REQUIRED'):
                self.fail(message)
            self.skipTest(message)
        for tool, why in (('socat', 'relays PostgreSQL and RabbitMQ to the '
                                    'management address (apt-get install '
                                    'socat; tools/lab/setup.sh does)'),
                          ('nsenter', 'starts nova-compute inside a lab '
                                      'host (util-linux)')):
            if shutil.which(tool) is None:
                self.skipTest('%s is not installed: it %s' % (tool, why))
        if cloud_lib.find_script('nova') is None:
            self.skipTest('the nova client is not installed '
                          '(test-requirements.txt)')
        reason = (postgresql_problem(POSTGRESQL_URL) or
                  test_rabbit.rabbit_reachable(RABBIT_URL))
        if reason:
            self.skipTest(reason)

        self.tmp = tempfile.mkdtemp(prefix='nova-multihost-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.procs = {}
        self.addOnException(self._attach_logs)
        self.timings = {}

        # The controller's servers, at the management address.
        rabbit = urllib.parse.urlsplit(RABBIT_URL)
        db = Database(POSTGRESQL_URL)
        admin = db.admin_url
        self.relays = {
            'rabbitmq': Relay('rabbitmq', self.mgmt, rabbit.hostname,
                              rabbit.port or 5672).start(),
            'postgresql': Relay('postgresql', self.mgmt, admin.host,
                                admin.port or 5432).start()}
        for relay in self.relays.values():
            self.addCleanup(relay.stop)
        self.addCleanup(db.drop)
        db.create()
        self.db_url = db.url(self.mgmt, self.relays['postgresql'].port)
        userinfo = rabbit.netloc.rpartition('@')[0]
        self.transport_url = urllib.parse.urlunsplit(rabbit._replace(
            netloc='%s%s:%d' % (userinfo + '@' if userinfo else '',
                                self.mgmt, self.relays['rabbitmq'].port)))
        self.exchange = 'nova-multihost-%s' % uuid_lib.uuid4().hex[:8]

        # One nova.conf for every node, and one file per role.
        self.common = _ini(self._path('nova.conf'), {
            'DEFAULT': {'transport_url': self.transport_url,
                        'control_exchange': self.exchange,
                        'report_interval': 2,
                        'service_down_time': 20,
                        'live_migration_rpc_timeout': 30},
            'database': {'connection': self.db_url}})
        api_conf = _ini(self._path('api.conf'), {
            'DEFAULT': {'osapi_compute_listen': '127.0.0.1',
                        'osapi_compute_listen_port': 0},
            'api': {'auth_strategy': 'noauth2'}})

        self.manage('db', 'sync')
        self.manage('image', 'create', '--name', 'lab-guest',
                    '--kernel', self.env['NOVA_LAB_KERNEL'],
                    '--initrd', self.env['NOVA_LAB_INITRD'],
                    '--cmdline', 'console=ttyS0')
        self.api = ApiProcess([self.common, api_conf],
                              self._path('nova-api.log'))
        self.addCleanup(self.api.cleanup)
        self.api.start()
        self.cli = cloud_lib.CLI(self.api)
        for host in HOSTS:
            self.start_compute(host)
        self.api.wait_for(self._services_up, 90,
                          what='both nova-compute services up')
        self.timings['setup_s'] = round(time.monotonic() - self.t0, 1)

    # -- the deployment --------------------------------------------------------

    def _path(self, name):
        return os.path.join(self.tmp, name)

    def manage(self, *args):
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.manage', '--config-file',
             self.common] + list(args), capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(0, proc.returncode, 'nova-manage %s:\n%s%s' % (
            ' '.join(args), proc.stdout, proc.stderr))
        return proc.stdout

    def keeper_pid(self, host):
        path = self.env['NOVA_LAB_%s_KEEPER_PIDFILE' % HOSTS[host]]
        with open(path) as handle:
            return int(handle.read().split()[0])

    def start_compute(self, host):
        """nova-compute inside ``host``: nsenter -n -m -u into its keeper."""
        letter = HOSTS[host]
        state = self._path(host)
        os.makedirs(state)
        host_conf = _ini(self._path('%s.conf' % host), {
            'DEFAULT': {'host': host, 'state_path': state},
            'libvirt': {
                'connection_uri': 'qemu:///system',
                'virt_type': self.env['NOVA_LAB_VIRT_TYPE'],
                'live_migration_inbound_addr':
                    self.env['NOVA_LAB_%s_ADDR' % letter],
                'live_migration_bandwidth': BANDWIDTH_MIB_S,
                'guest_console_dir': self.console_dir()}})
        out = open(self._path('%s.out' % host), 'w')
        self.addCleanup(out.close)
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        env.pop('NOVA_TEST_CONCURRENCY', None)
        proc = subprocess.Popen(
            ['nsenter', '-t', str(self.keeper_pid(host)), '-n', '-m', '-u',
             '--', sys.executable, '-m', 'nova.cmd.compute',
             '--config-file', self.common, '--config-file', host_conf,
             '--log-file', self._path('%s.log' % host)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, preexec_fn=_die_with_parent)
        self.procs[host] = proc
        self.addCleanup(_stop, proc)

    def console_dir(self):
        path = os.path.join(self.env['NOVA_LAB_SHARED_DIR'], 'console')
        os.makedirs(path, exist_ok=True)
        return path

    def _services_up(self):
        for host, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError('nova-compute on %s exited with %s'
                                     % (host, proc.returncode))
        status, body = self.api.rest('GET', '/v2.1/os-services')
        return status == 200 and set(HOSTS) <= {
            s['host'] for s in body['services']
            if s['binary'] == 'nova-compute' and s['state'] == 'up'}

    def _attach_logs(self, exc_info):
        names = ['nova-api.log'] + ['%s%s' % (h, s) for h in HOSTS
                                    for s in ('.log', '.out')]
        for name in names:
            try:
                with open(self._path(name), errors='replace') as handle:
                    text = handle.read()
            except OSError:
                continue
            self.addDetail(name, testtools.content.text_content(
                text[-30000:]))
        for name, relay in getattr(self, 'relays', {}).items():
            if relay.proc is not None and relay.proc.poll() is not None:
                self.addDetail('relay %s' % name,
                               testtools.content.text_content(
                                   'exited %s' % relay.proc.returncode))

    # -- checks ----------------------------------------------------------------

    def ok(self, result):
        self.assertEqual(0, result.returncode, result)
        return result

    def compute_log(self, host):
        with open(self._path('%s.log' % host), errors='replace') as handle:
            return handle.read()

    def assert_inside(self, host):
        """The service's process is in the host's network namespace."""
        def netns(pid):
            return os.stat('/proc/%d/ns/net' % pid).st_ino
        self.assertEqual(os.stat('/run/netns/%s' % self.env[
            'NOVA_LAB_%s_NETNS' % HOSTS[host]]).st_ino,
            netns(self.procs[host].pid), '%s: not in the host' % host)
        self.assertNotEqual(netns(os.getpid()), netns(self.procs[host].pid))

    def assert_service_list(self):
        rows = self.ok(self.cli.nova('service-list')).table()
        computes = {r['Host']: (r['Status'], r['State']) for r in rows
                    if r['Binary'] == 'nova-compute'}
        self.assertEqual({'lab-a': ('enabled', 'up'),
                          'lab-b': ('enabled', 'up')}, computes, rows)

    def delete(self, server_id):
        self.cli.nova('delete', server_id)
        try:
            self.api.wait_for(lambda: self.api.rest(
                'GET', '/v2.1/servers/%s' % server_id)[0] == 404, 60,
                what='server %s deleted' % server_id)
        finally:
            drills_base.destroy_everywhere(self.env, server_id)

    def test_boot_and_live_migrate_across_hosts(self):
        for host in HOSTS:
            self.assert_inside(host)
        self.assert_service_list()

        # Boot on lab-a; the guest program reports on its console.
        t = time.monotonic()
        result = self.ok(self.cli.nova(
            'boot', '--flavor', 'lab.small', '--image', 'lab-guest',
            '--availability-zone', 'nova:lab-a', *(GUEST_META + (
                'mh-%s' % uuid_lib.uuid4().hex[:6],))))
        server_id = result.properties()['id']
        self.addCleanup(self.delete, server_id)
        self.api.wait_for_server(server_id, 'ACTIVE', host='lab-a',
                                 timeout=90)
        console = os.path.join(self.console_dir(), '%s.log' % server_id)
        lab.wait_for(lambda: lab.console_reports(console), 90,
                     what='the guest program to report')
        self.timings['boot_s'] = round(time.monotonic() - t, 1)
        self.assertEqual('running', drills_base.libvirt_state(
            self.env['NOVA_LAB_A_URI'], server_id))

        # Live-migrate it to lab-b: seen in progress, then completed.
        t = time.monotonic()
        self.ok(self.cli.nova('live-migration', server_id, 'lab-b'))
        mig = self.api.wait_for_migration(server_id, 'running', timeout=60)
        listed = self.ok(self.cli.nova('server-migration-list',
                                       server_id)).table()
        self.assertEqual([str(mig['id'])], [r['Id'] for r in listed],
                         'the migration finished before it was listed')
        self.assertEqual(('lab-a', 'lab-b'), (listed[0]['Source Compute'],
                                              listed[0]['Dest Compute']))
        self.api.wait_for_server(server_id, 'ACTIVE', host='lab-b',
                                 timeout=90)
        self.timings['migration_s'] = round(time.monotonic() - t, 1)
        rows = self.ok(self.cli.nova('migration-list', '--instance-uuid',
                                     server_id)).table()
        self.assertEqual(
            [('completed', 'live-migration', 'lab-a', 'lab-b')],
            [(r['Status'], r['Type'], r['Source Compute'],
              r['Dest Compute']) for r in rows])
        self.assertEqual([], self.ok(self.cli.nova(
            'server-migration-list', server_id)).table())

        # Libvirt agrees, and the guest came through intact.
        self.assertEqual((None, 'running'), (
            drills_base.libvirt_state(self.env['NOVA_LAB_A_URI'], server_id),
            drills_base.libvirt_state(self.env['NOVA_LAB_B_URI'], server_id)))
        before = lab.console_reports(console)[-1]
        lab.wait_for(lambda: lab.console_reports(console)[-1]['t'] >
                     before['t'], 30, what='the guest to report on lab-b')
        self.assertEqual(('ok', []), lab.guest_verdict(console))

        # The source compute, inside lab-a, sees the destination's libvirt
        # over the hosts' link: post-copy recovery can ask it.
        dest_uri = 'qemu+tcp://%s/system' % self.env['NOVA_LAB_B_ADDR']
        self.assertIn('Destination libvirt %s is reachable from this '
                      'compute service' % dest_uri, self.compute_log('lab-a'))
        self.assert_service_list()
        self.timings['total_s'] = round(time.monotonic() - self.t0, 1)
        lab.write_figures(self, 'NOVA_LAB_RESULTS',
                          dict(self.timings, test='multihost_deployment'))
