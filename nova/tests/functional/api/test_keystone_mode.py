"""nova-api with ``auth_strategy = keystone``: keystonemiddleware in front.

The identity service keystonemiddleware talks to is nova-all's identity
shim (a stand-in for Keystone: it issues and validates ``user:project``
tokens); nova-api shares nova-all's database file.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import testtools

from nova.tests.functional.api import cloud as cloud_lib


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class KeystoneModeTestCase(testtools.TestCase):

    def setUp(self):
        super(KeystoneModeTestCase, self).setUp()
        self.cloud = cloud_lib.NovaAll().start()
        self.addCleanup(self.cloud.cleanup)
        port = _free_port()
        conf = os.path.join(self.cloud.state_dir, 'api.conf')
        identity = '%s/identity' % self.cloud.url
        with open(conf, 'w') as handle:
            handle.write(
                '[DEFAULT]\nstate_path = %s\n'
                'osapi_compute_listen = 127.0.0.1\n'
                'osapi_compute_listen_port = %d\n'
                '[api]\nauth_strategy = keystone\n'
                '[keystone_authtoken]\nwww_authenticate_uri = %s\n'
                'auth_url = %s\nauth_type = password\nusername = nova\n'
                'password = secret\nproject_name = service\n'
                'user_domain_name = Default\n'
                'project_domain_name = Default\n'
                % (self.cloud.state_dir, port, identity, identity))
        self.url = 'http://127.0.0.1:%d' % port
        log = open(os.path.join(self.cloud.state_dir, 'nova-api.log'), 'w')
        self.addCleanup(log.close)
        self.api = subprocess.Popen(
            [sys.executable, '-m', 'nova.cmd.api', '--config-file', conf],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(self._stop_api)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + '/', timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or \
                        self.api.poll() is not None:
                    raise AssertionError('nova-api did not start')
                time.sleep(0.1)

    def _stop_api(self):
        if self.api.poll() is None:
            self.api.send_signal(signal.SIGTERM)
            try:
                self.api.wait(10)
            except subprocess.TimeoutExpired:
                self.api.kill()
                self.api.wait()

    def get(self, path, token=None):
        headers = {'OpenStack-API-Version': 'compute latest'}
        if token:
            headers['X-Auth-Token'] = token
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw

    def test_tokens_are_validated(self):
        status, _body = self.get('/v2.1/servers')
        self.assertEqual(401, status)
        status, body = self.get('/v2.1/os-services', token='admin:admin')
        self.assertEqual(200, status, body)
        self.assertEqual(['lab-a', 'lab-b'],
                         sorted(s['host'] for s in body['services']))
        status, body = self.get('/v2.1/os-migrations', token='demo:demo')
        self.assertEqual(403, status)
        self.assertEqual("Policy doesn't allow os_compute_api:"
                         "os-migrations:index to be performed.",
                         body['forbidden']['message'])
        # Version discovery needs no token.
        status, body = self.get('/')
        self.assertEqual(200, status)
