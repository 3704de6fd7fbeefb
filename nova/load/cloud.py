"""A ``nova-all --fake-hypervisors`` process to measure, and its REST API."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ADMIN = 'admin:admin'
# Shorter than the defaults so the run sees the server close idle and slow
# connections within its bounded time; the figures say which were used.
CONF_TEXT = """[DEFAULT]
state_path = %(state)s
[wsgi]
client_socket_timeout = %(idle)d
request_read_timeout = %(read)d
"""


class Rest(object):
    """Keep-alive JSON client of one API endpoint."""

    def __init__(self, host, port, token=ADMIN):
        self.host, self.port, self.token = host, port, token
        self.conn = None

    def call(self, method, path, body=None, version='2.79'):
        headers = {'X-Auth-Token': self.token,
                   'OpenStack-API-Version': 'compute %s' % version}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                text = resp.read()
                if resp.getheader('Connection', '').lower() == 'close' or \
                        resp.version == 10:
                    self.close()
                return resp.status, json.loads(text) if text else None
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError('unreachable')

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class AllInOne(object):
    """Start, populate and stop one nova-all process."""

    def __init__(self, api_server, idle_timeout=10, read_timeout=10,
                 threads=None):
        self.api_server = api_server
        self.state = tempfile.mkdtemp(prefix='nova-load-')
        self.conf_file = os.path.join(self.state, 'nova.conf')
        with open(self.conf_file, 'w') as handle:
            handle.write(CONF_TEXT % {'state': self.state,
                                      'idle': idle_timeout,
                                      'read': read_timeout})
            if threads:
                handle.write('threads = %d\n' % threads)
        self.log_path = os.path.join(self.state, 'nova-all.log')
        self.proc = None
        self.host = '127.0.0.1'
        self.port = None
        self.settings = {'client_socket_timeout': idle_timeout,
                         'request_read_timeout': read_timeout,
                         'threads': threads or 'default'}

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=90):
        log = open(self.log_path, 'w')
        env = dict(os.environ, NOVA_STATE_PATH=self.state)
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'nova.cmd.all', '--fake-hypervisors',
             '--port', '0', '--api-server', self.api_server,
             '--config-file', self.conf_file],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        pattern = re.compile(r'compute API at http://127\.0\.0\.1:(\d+)/v2')
        while time.monotonic() < deadline:
            with open(self.log_path) as handle:
                match = pattern.search(handle.read())
            if match:
                self.port = int(match.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError('nova-all did not start; see %s' % self.log_path)

    def rest(self):
        return Rest(self.host, self.port)

    def wait(self, check, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise RuntimeError('timed out waiting for %s' % what)

    def populate(self, count):
        """``count`` ACTIVE servers spread over lab-a and lab-b."""
        rest = self.rest()

        def services_up():
            status, body = rest.call('GET', '/v2.1/os-services')
            return status == 200 and sum(
                1 for s in body['services'] if s['state'] == 'up') >= 2

        self.wait(services_up, 60, 'both compute services')
        status, body = rest.call('GET', '/v2.1/images', version='2.1')
        image = [i for i in body['images'] if i['name'] == 'busybox'][0]
        ids = []
        for index in range(count):
            status, body = rest.call('POST', '/v2.1/servers', {'server': {
                'name': 'load-%d' % index, 'imageRef': image['id'],
                'flavorRef': '1', 'networks': 'none',
                'host': ('lab-a', 'lab-b')[index % 2]}}, version='2.74')
            if status != 202:
                raise RuntimeError('boot failed: %s %s' % (status, body))
            ids.append(body['server']['id'])

        def all_active():
            status, body = rest.call('GET', '/v2.1/servers/detail')
            states = [s['status'] for s in body['servers']]
            if 'ERROR' in states:
                raise RuntimeError('a server went to ERROR while booting')
            return states.count('ACTIVE') == count

        self.wait(all_active, 120, '%d ACTIVE servers' % count)
        rest.close()
        return ids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
