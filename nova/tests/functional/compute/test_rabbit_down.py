"""RabbitMQ going away, over the real broker (issue 14 item 7).

A compute process reaches RabbitMQ through a TCP relay in this test
process; cutting the relay is the broker going down for that service
alone (closing its connections and refusing new ones), restoring it is
the broker coming back. The API side (this process) uses a second relay.
Skipped, with the reason, when no broker answers (``NOVA_TEST_RABBIT_URL``).

Measured: how long until the cut-off compute service shows "down" in
os-services and "up" again once the broker is back, and how long a
server create takes to fail while the API's broker is down.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

from oslo_config import cfg
import testtools
from testtools import content

import nova.conf
from nova.compute import api as compute_api
from nova import context as nova_context
from nova.db import api as db_api
from nova import exception
from nova import rpc
from nova.tests.functional.compute import test_rabbit


class Relay(object):
    """TCP relay 127.0.0.1:<port> -> the broker, that can be cut."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.closed = False
        self._lock = threading.Lock()
        self._conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.up = False
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self):
        self.up = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


def relayed_url(url, port):
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit('@', 1)
    host = '127.0.0.1:%d' % port
    netloc = '%s@%s' % (netloc[0], host) if len(netloc) == 2 else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def broker_address(url):
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or '127.0.0.1', parts.port or 5672


class RabbitDownTestCase(testtools.TestCase):
    """One compute service process, reaching the broker through a relay."""

    def setUp(self):
        super(RabbitDownTestCase, self).setUp()
        url = test_rabbit.RABBIT_URL
        reason = test_rabbit.rabbit_reachable(url)
        if reason:
            self.skipTest(reason)
        self.relay = Relay(broker_address(url))
        self.addCleanup(self.relay.close)
        self.tmp, self.db_url, self.db = test_rabbit.seeded_database(
            self, 'nova-rabbit-down-')
        self.image = db_api.image_create(self.db, {
            'name': 'busy', 'kernel': '/boot/vmlinuz',
            'initrd': '/boot/initrd.img', 'cmdline': 'console=ttyS0'})
        self.host = test_rabbit.free_name('lab-a')
        self.exchange = test_rabbit.free_name('nova-test')
        self.conf = cfg.ConfigOpts()
        nova.conf.register_all(self.conf)
        self.conf(args=[], project='nova', default_config_files=[])
        self.conf.set_override('control_exchange', self.exchange)
        self.conf.set_override('service_down_time', 4)
        self.api = compute_api.API(db=self.db, conf=self.conf,
                                   transport=None)
        self.ctx = nova_context.RequestContext('admin', 'admin',
                                               is_admin=True,
                                               roles=['admin'])
        self.start_compute()
        self.wait_for(lambda: self.state() == 'up' and
                      'fake-compute %s: started' % self.host in
                      self.log_text(), timeout=60)

    def start_compute(self):
        conf_path = os.path.join(self.tmp, 'compute.conf')
        # report_interval 1 and service_down_time 4 keep the test short.
        with open(conf_path, 'w') as f:
            f.write('[DEFAULT]\nhost = %s\ntransport_url = %s\n'
                    'control_exchange = %s\nreport_interval = 1\n'
                    'service_down_time = 4\n'
                    '[database]\nconnection = %s\n'
                    '[libvirt]\nvirt_type = qemu\n'
                    % (self.host, relayed_url(test_rabbit.RABBIT_URL,
                                              self.relay.port),
                       self.exchange, self.db_url))
        self.log_path = os.path.join(self.tmp, 'compute.log')
        env = dict(os.environ, NOVA_FAKE_HOSTS='%s=198.18.0.1' % self.host,
                   NOVA_FAKE_SPEED='20', PYTHONUNBUFFERED='1')
        env.pop('NOVA_TEST_CONCURRENCY', None)
        log = open(self.log_path, 'w')
        self.addCleanup(log.close)
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'nova.tests.functional.compute.'
             'fake_compute', '--config-file', conf_path],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env)
        self.addCleanup(self.stop_compute)

    def stop_compute(self):
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                self.fail('compute exited (%s):\n%s'
                          % (self.proc.returncode, self.log_text()[-4000:]))
            if time.monotonic() > deadline:
                self.fail('timed out after %s s\n%s'
                          % (timeout, self.log_text()[-4000:]))
            time.sleep(0.1)

    def state(self):
        return {s.host: s.state for s in
                self.api.list_services(self.ctx)}.get(self.host)

    def test_cut_off_compute_goes_down_and_comes_back(self):
        self.assertEqual('up', self.state())
        cut = time.monotonic()
        self.relay.cut()
        self.wait_for(lambda: self.state() == 'down', timeout=30)
        down_after = time.monotonic() - cut
        self.assertIn('cannot reach the message bus', self.log_text())
        restored = time.monotonic()
        self.relay.restore()
        self.wait_for(lambda: self.state() == 'up', timeout=90)
        up_after = time.monotonic() - restored
        self.assertIn('reaches the message bus again', self.log_text())
        # Down within service_down_time plus a probe's timeout or two.
        self.assertLess(down_after, 4 + 2 * 1 + 3)
        self.addDetail('figures', content.text_content(
            'down after %.1f s, up again %.1f s after the broker returned'
            % (down_after, up_after)))
        record = os.environ.get('NOVA_RABBIT_DOWN_RESULTS')
        if record:
            with open(record, 'a') as f:
                f.write('compute_down_after_s=%.1f compute_up_after_s=%.1f\n'
                        % (down_after, up_after))

    def test_api_create_while_its_broker_is_down(self):
        api_relay = Relay(broker_address(test_rabbit.RABBIT_URL))
        self.addCleanup(api_relay.close)
        transport = rpc.create_transport(
            self.conf, relayed_url(test_rabbit.RABBIT_URL, api_relay.port))
        self.addCleanup(rpc.cleanup_transport, transport, 5.0)
        api = compute_api.API(db=self.db, conf=self.conf,
                              transport=transport)
        api_relay.cut()
        start = time.monotonic()
        self.assertRaises(exception.MessagingUnavailable, api.create_server,
                          self.ctx, 'vm', '1', self.image['id'],
                          host=self.host)
        elapsed = time.monotonic() - start
        # rpc_connection_retries = 3: waits of 1, 3 and 5 s.
        self.assertLess(elapsed, 15)
        (server,) = [s for s in api.list_servers(self.ctx)
                     if s.name == 'vm']
        self.assertEqual('error', server.vm_state)
        record = os.environ.get('NOVA_RABBIT_DOWN_RESULTS')
        if record:
            with open(record, 'a') as f:
                f.write('api_create_failed_after_s=%.1f\n' % elapsed)
