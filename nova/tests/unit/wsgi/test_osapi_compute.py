"""nova.wsgi.osapi_compute: the application external WSGI servers load."""

import json
import os
import subprocess
import sys

import fixtures
import testtools

from nova.wsgi import reference

# Imports the module as uWSGI or gunicorn would, then serves one request
# with the standard library server (the one WSGI server always at hand).
_SERVE_ONE = """
import json, sys, threading, urllib.request
from nova.wsgi import osapi_compute
from nova.wsgi import reference
server = reference.Server(osapi_compute.application).start()
try:
    with urllib.request.urlopen(server.url + '/', timeout=10) as resp:
        print(json.dumps({'status': resp.status,
                          'body': json.loads(resp.read())}))
finally:
    server.stop()
"""


class ConfigFilesTestCase(testtools.TestCase):

    def setUp(self):
        super(ConfigFilesTestCase, self).setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        for name in ('nova.conf', 'extra.conf'):
            with open(os.path.join(self.tmp, name), 'w') as handle:
                handle.write('[DEFAULT]\n')

    def test_default_directory_and_file(self):
        from nova.wsgi import osapi_compute
        self.assertEqual([os.path.join(self.tmp, 'nova.conf')],
                         osapi_compute.config_files(
                             {'OS_NOVA_CONFIG_DIR': self.tmp}))

    def test_named_files_missing_skipped(self):
        from nova.wsgi import osapi_compute
        self.assertEqual(
            [os.path.join(self.tmp, 'extra.conf'), '/dev/null'],
            osapi_compute.config_files(
                {'OS_NOVA_CONFIG_DIR': self.tmp,
                 'OS_NOVA_CONFIG_FILES':
                     'extra.conf; missing.conf;/dev/null'}))


class ApplicationTestCase(testtools.TestCase):

    def test_module_serves_the_api(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(tmp, 'nova.conf'), 'w') as handle:
            handle.write('[DEFAULT]\nstate_path = %s\n'
                         '[api]\nauth_strategy = noauth2\n' % tmp)
        env = dict(os.environ, OS_NOVA_CONFIG_DIR=tmp)
        env.pop('OS_NOVA_CONFIG_FILES', None)
        out = subprocess.run([sys.executable, '-c', _SERVE_ONE], env=env,
                             capture_output=True, timeout=60, text=True)
        self.assertEqual(0, out.returncode, out.stderr)
        answer = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual(200, answer['status'])
        self.assertIn('v2.1',
                      [v['id'] for v in answer['body']['versions']])

    def _import_with(self, text):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(tmp, 'nova.conf'), 'w') as handle:
            handle.write('[DEFAULT]\nstate_path = %s\n%s' % (tmp, text))
        env = dict(os.environ, OS_NOVA_CONFIG_DIR=tmp)
        env.pop('OS_NOVA_CONFIG_FILES', None)
        return subprocess.run(
            [sys.executable, '-c', 'from nova.wsgi import osapi_compute'],
            env=env, capture_output=True, timeout=60, text=True)

    def test_bad_options_stop_the_import(self):
        # The checks nova-api runs at start: a bad value and a bad
        # combination, one line each.
        out = self._import_with(
            '[libvirt]\nlive_migration_downtime = -1\n'
            'live_migration_with_native_tls = true\n'
            'live_migration_tunnelled = true\n')
        self.assertNotEqual(0, out.returncode)
        lines = [line for line in out.stderr.splitlines()
                 if line.startswith('nova-api-wsgi: invalid configuration: ')]
        self.assertEqual(2, len(lines), out.stderr)
        text = '\n'.join(lines)
        self.assertIn('[libvirt] live_migration_downtime = -1', text)
        self.assertIn('live_migration_tunnelled are both true', text)
        # The import fails with the exception (oslo.log's hook logs it).
        self.assertIn('nova.exception.InvalidConfiguration: Invalid '
                      'configuration: [libvirt] live_migration_downtime',
                      out.stdout + out.stderr)

    def test_noauth2_warned_not_refused(self):
        # The external server binds its own address: osapi_compute_listen
        # (0.0.0.0 by default) says nothing about where this app listens.
        out = self._import_with('[api]\nauth_strategy = noauth2\n')
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertNotIn('invalid configuration', out.stderr)
        self.assertIn('auth_strategy is noauth2', out.stdout + out.stderr)

    def test_reference_server_is_the_standard_library(self):
        self.assertTrue(reference.simple_server.__name__.startswith(
            'wsgiref'))
