"""Start-up validation: every option read at start, bad combinations and
noauth2 on a public address refused, one line each, exit status 1.
"""

import io
import os
import subprocess
import sys

import fixtures
from oslo_config import cfg
import testtools

import nova.conf
from nova.conf import validation
from nova import exception


def _conf(testcase, text='', args=()):
    tmp = testcase.useFixture(fixtures.TempDir()).path
    path = os.path.join(tmp, 'nova.conf')
    with open(path, 'w') as f:
        f.write(text)
    conf = cfg.ConfigOpts()
    nova.conf.register_all(conf)
    conf(args=['--config-file', path] + list(args), project='nova',
         default_config_files=[])
    return conf, path


BAD = """[DEFAULT]
report_interval = -5
[libvirt]
live_migration_downtime = -1
live_migration_timeout_action = foo
live_migration_completion_timeout = abc
"""


class OptionErrorsTestCase(testtools.TestCase):

    def test_defaults_are_valid(self):
        conf, _path = _conf(self)
        self.assertEqual([], validation.errors(conf, api=True))

    def test_each_bad_value_found_with_its_file(self):
        conf, path = _conf(self, BAD)
        found = validation.errors(conf)
        self.assertEqual(4, len(found), found)
        by_option = {line.split(' = ')[0]: line for line in found}
        self.assertEqual(
            {'[DEFAULT] report_interval',
             '[libvirt] live_migration_downtime',
             '[libvirt] live_migration_timeout_action',
             '[libvirt] live_migration_completion_timeout'},
            set(by_option))
        self.assertIn('= -1 (%s): Should be greater than or equal to 100'
                      % path, by_option['[libvirt] live_migration_downtime'])
        self.assertIn("found 'foo'",
                      by_option['[libvirt] live_migration_timeout_action'])
        self.assertIn("'abc'",
                      by_option['[libvirt] live_migration_completion_timeout'])
        for line in found:
            self.assertNotIn('\n', line)

    def test_machine_type_entries(self):
        conf, _path = _conf(self, '[libvirt]\nhw_machine_type = '
                                  'x86_64=pc-i440fx-7.2,aarch64=virt\n')
        self.assertEqual([], validation.errors(conf))
        conf, _path = _conf(self, '[libvirt]\nhw_machine_type = x86_64:pc\n')
        [line] = validation.errors(conf)
        self.assertIn('[libvirt] hw_machine_type = x86_64:pc', line)

    def test_check_raises_invalid_configuration(self):
        conf, _path = _conf(self, BAD)
        exc = self.assertRaises(exception.InvalidConfiguration,
                                validation.check, conf)
        self.assertIn('report_interval', str(exc))

    def test_down_time_must_exceed_report_interval(self):
        conf, _path = _conf(self, '[DEFAULT]\nreport_interval = 30\n'
                                  'service_down_time = 30\n')
        found = validation.errors(conf)
        self.assertEqual(1, len(found), found)
        self.assertIn('service_down_time = 30 must be larger', found[0])

    def test_urls(self):
        conf, _path = _conf(self, '[DEFAULT]\ntransport_url = nothing\n'
                                  '[database]\nconnection = nosuchdb://x/y\n'
                                  '[api]\npublic_endpoint = ftp://x/\n')
        found = validation.errors(conf)
        self.assertEqual(3, len(found), found)
        text = '\n'.join(found)
        self.assertIn('[DEFAULT] transport_url: not a transport URL', text)
        self.assertIn('[database] connection:', text)
        self.assertIn("[api] public_endpoint = ftp://x/", text)
        self.assertIn("but was 'ftp'", text)

    def test_database_options_bounded(self):
        conf, _path = _conf(self, '[database]\nconnect_timeout = 0\n'
                                  'read_timeout = x\n')
        found = validation.errors(conf)
        self.assertEqual(['[database] connect_timeout',
                          '[database] read_timeout'],
                         sorted(line.split(' = ')[0] for line in found))


class Noauth2TestCase(testtools.TestCase):

    def errors(self, text):
        conf, _path = _conf(self, text)
        return validation.errors(conf, api=True)

    def test_refused_on_a_public_address(self):
        found = self.errors('[DEFAULT]\nosapi_compute_listen = 0.0.0.0\n'
                            '[api]\nauth_strategy = noauth2\n')
        self.assertEqual(1, len(found), found)
        self.assertIn('noauth2 with osapi_compute_listen = 0.0.0.0', found[0])
        self.assertIn('noauth2_allow_remote', found[0])

    def test_allowed_when_asked_for(self):
        self.assertEqual([], self.errors(
            '[DEFAULT]\nosapi_compute_listen = 0.0.0.0\n[api]\n'
            'auth_strategy = noauth2\nnoauth2_allow_remote = true\n'))

    def test_loopback_and_keystone_are_fine(self):
        for listen in ('127.0.0.1', '127.0.1.1', '::1', 'localhost'):
            self.assertEqual([], self.errors(
                '[DEFAULT]\nosapi_compute_listen = %s\n[api]\n'
                'auth_strategy = noauth2\n' % listen), listen)
        self.assertEqual([], self.errors(
            '[DEFAULT]\nosapi_compute_listen = 0.0.0.0\n'))

    def test_only_checked_for_api_services(self):
        conf, _path = _conf(self, '[DEFAULT]\nosapi_compute_listen = '
                                  '0.0.0.0\n[api]\nauth_strategy = noauth2\n')
        self.assertEqual([], validation.errors(conf, api=False))

    def test_is_loopback(self):
        for address in ('127.0.0.1', '127.3.2.1', '::1', '[::1]',
                        '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'):
            self.assertTrue(validation.is_loopback(address), address)
        for address in ('0.0.0.0', '::', '10.0.0.1', '198.18.0.1',
                        'example.org', '', None):
            self.assertFalse(validation.is_loopback(address), address)

    def test_warning_whenever_noauth2_is_on(self):
        logger = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        conf, _path = _conf(self, '[DEFAULT]\nosapi_compute_listen = '
                                  '127.0.0.1\n[api]\nauth_strategy = '
                                  'noauth2\n')
        out = io.StringIO()
        import logging
        log = logging.getLogger('nova.test')
        self.assertEqual(0, validation.exit_on_errors(conf, 'nova-api', log,
                                                      api=True, out=out))
        self.assertEqual('', out.getvalue())
        self.assertIn('auth_strategy is noauth2', logger.output)

    def test_exit_on_errors_prints_one_line_each(self):
        conf, _path = _conf(self, BAD)
        out = io.StringIO()
        self.assertEqual(1, validation.exit_on_errors(conf, 'nova-x',
                                                      out=out))
        lines = out.getvalue().splitlines()
        self.assertEqual(4, len(lines))
        for line in lines:
            self.assertTrue(line.startswith('nova-x: invalid configuration: '),
                            line)


class ConsoleScriptsTestCase(testtools.TestCase):
    """The real console scripts, in a child process each (they parse the
    global CONF): exit status 1 and the lines on stderr, before any service
    starts (bounded: each must end within 60 s).
    """

    def run_script(self, module, text, *args):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'nova.conf')
        with open(path, 'w') as f:
            f.write(text)
        env = dict(os.environ, NOVA_STATE_PATH=tmp)
        proc = subprocess.run(
            [sys.executable, '-m', module, '--config-file', path] +
            list(args), capture_output=True, text=True, timeout=60, env=env,
            stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stderr

    def test_nova_compute_bad_values(self):
        code, err = self.run_script('nova.cmd.compute', BAD)
        self.assertEqual(1, code, err)
        self.assertIn('nova-compute: invalid configuration: [libvirt] '
                      'live_migration_downtime = -1', err)
        self.assertIn('[DEFAULT] report_interval = -5', err)

    def test_nova_api_bad_value(self):
        code, err = self.run_script(
            'nova.cmd.api', '[libvirt]\nlive_migration_timeout_action = '
                            'foo\n[DEFAULT]\nosapi_compute_listen_port = 0\n')
        self.assertEqual(1, code, err)
        self.assertIn("nova-api: invalid configuration: [libvirt] "
                      "live_migration_timeout_action = foo", err)

    def test_nova_all_noauth2_public(self):
        code, err = self.run_script(
            'nova.cmd.all', '[DEFAULT]\nosapi_compute_listen = 0.0.0.0\n',
            '--fake-hypervisors', '--port', '0')
        self.assertEqual(1, code, err)
        self.assertIn('nova-all: invalid configuration: [api] auth_strategy '
                      '= noauth2 with osapi_compute_listen = 0.0.0.0', err)

    def test_nova_manage_bad_database_option(self):
        code, err = self.run_script(
            'nova.cmd.manage', '[database]\nconnect_timeout = -1\n',
            'db', 'version')
        self.assertEqual(1, code, err)
        self.assertIn('ERROR: invalid configuration: [database] '
                      'connect_timeout = -1', err)
