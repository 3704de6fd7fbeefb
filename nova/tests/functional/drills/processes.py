"""Drills whose fault is one compute service dying: each service is its own
``nova-compute`` process on its lab host, over a real RabbitMQ.

Layout as on two machines: a ``nova-compute`` process per lab host (the
console script's code, ``python -m nova.cmd.compute``), the compute API in
the test process (``nova.compute.api.API``, what nova-api runs), one SQLite
file, and RabbitMQ at ``$NOVA_TEST_RABBIT_URL`` (default
rabbit://guest:guest@127.0.0.1:5672/) with an exchange of the drill's own,
so runs sharing the broker do not hear each other. Without a broker the
drills skip and say why.
"""

import os
import signal
import subprocess
import sys
import uuid as uuid_lib

from oslo_config import cfg
import testtools

import nova.conf
from nova.compute import api as compute_api
from nova import context as nova_context
from nova.db import api as db_api
from nova import rpc
from nova.tests.functional.compute import test_rabbit
from nova.tests.functional.drills import base

RABBIT_URL = test_rabbit.RABBIT_URL


class ComputeProcessesDrillTestCase(base.LabDrillTestCase):

    def setUp(self):
        super(ComputeProcessesDrillTestCase, self).setUp()
        reason = test_rabbit.rabbit_reachable(RABBIT_URL)
        if reason:
            self.skipTest(reason)
        self.tmp, self.db_url, self.db = test_rabbit.seeded_database(
            self, 'nova-drill-')
        self.image = db_api.image_create(self.db, {
            'name': 'lab-guest', 'kernel': self.env['NOVA_LAB_KERNEL'],
            'initrd': self.env['NOVA_LAB_INITRD'],
            'cmdline': 'console=ttyS0'})
        self.exchange = 'nova-drill-%s' % uuid_lib.uuid4().hex[:8]
        self.conf = cfg.ConfigOpts()
        nova.conf.register_all(self.conf)
        self.conf(args=[], project='nova', default_config_files=[])
        self.conf.set_override('control_exchange', self.exchange)
        self.transport = rpc.create_transport(self.conf, RABBIT_URL)
        self.addCleanup(self.transport.cleanup)
        self.api = compute_api.API(db=self.db, conf=self.conf,
                                   transport=self.transport)
        self.ctx = nova_context.RequestContext('admin', 'admin',
                                               is_admin=True,
                                               roles=['admin'])
        self.procs = {}
        self.addCleanup(self._attach_logs)
        for host in ('lab-a', 'lab-b'):
            self.write_conf(host)
            self.start_compute(host)
        self.wait_services_up()

    def write_conf(self, host):
        letter = host[-1].upper()
        config = self.service_config()
        config['DEFAULT'].update({
            'host': host, 'transport_url': RABBIT_URL,
            'control_exchange': self.exchange, 'state_path': self.tmp})
        config.setdefault('database', {})['connection'] = self.db_url
        config['libvirt'].update({
            'connection_uri': self.env['NOVA_LAB_%s_URI' % letter],
            'live_migration_inbound_addr':
                self.env['NOVA_LAB_%s_ADDR' % letter],
            'virt_type': self.env['NOVA_LAB_VIRT_TYPE'],
            'guest_console_dir': os.path.join(
                self.env['NOVA_LAB_SHARED_DIR'], 'console')})
        lines = []
        for group, values in sorted(config.items()):
            lines.append('[%s]' % group)
            lines.extend('%s = %s' % kv for kv in sorted(values.items()))
        with open(self._path(host, '.conf'), 'w') as handle:
            handle.write('\n'.join(lines) + '\n')

    def _path(self, host, suffix):
        return os.path.join(self.tmp, host + suffix)

    def start_compute(self, host):
        """``nova-compute --config-file <host>.conf`` as a process."""
        log = open(self._path(host, '.out'), 'a')
        self.addCleanup(log.close)
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        env.pop('NOVA_TEST_CONCURRENCY', None)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'nova.cmd.compute', '--config-file',
             self._path(host, '.conf'), '--log-file',
             self._path(host, '.log')],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env)
        self.procs[host] = proc
        self.addCleanup(self.stop_compute, host)
        return proc

    def stop_compute(self, host, sig=signal.SIGTERM):
        proc = self.procs.get(host)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill_compute(self, host):
        """SIGKILL: the process ends mid-work, with no clean stop."""
        self.stop_compute(host, signal.SIGKILL)

    def wait_services_up(self):
        def up():
            for host, proc in self.procs.items():
                self.assertIsNone(proc.poll(), 'nova-compute %s exited'
                                  % host)
            states = {s.host: s.state
                      for s in self.api.list_services(self.ctx)}
            return (states.get('lab-a') == 'up' and
                    states.get('lab-b') == 'up')
        self.wait_for(up, 60, what='both nova-compute services up')

    def _attach_logs(self):
        for host in ('lab-a', 'lab-b'):
            for suffix in ('.log', '.out'):
                try:
                    with open(self._path(host, suffix)) as handle:
                        text = handle.read()
                except OSError:
                    continue
                self.addDetail('%s%s' % (host, suffix),
                               testtools.content.text_content(
                                   text[-30000:]))

    def boot(self, name, metadata, host='lab-a'):
        inst = self.api.create_server(self.ctx, name, '1',
                                      self.image['id'], metadata=metadata,
                                      host=host)
        return self.track(inst.uuid)

    def live_migrate(self, uuid, host='lab-b'):
        self.api.live_migrate(self.ctx, uuid, host=host)
