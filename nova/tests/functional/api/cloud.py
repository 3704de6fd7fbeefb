"""nova-all in a subprocess, and the operator's clients run against it.

``NovaAll`` starts ``python -m nova.cmd.all --fake-hypervisors`` (the
all-in-one on the simulated libvirt: the real API, compute services,
manager and driver; only libvirt/QEMU is simulated) on a free port with a
fresh state dir, and stops it. ``CLI`` runs the unmodified ``nova`` and
``openstack`` console scripts as an operator types them, pointed at the
all-in-one's identity endpoint.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

START_TIMEOUT = 60.0
_READY = re.compile(r'nova-all: compute API at (http://\S+)/v2\.1')


def find_script(name):
    """A console script of the test environment, or None.

    Next to the interpreter first (the tox or venv bin dir), then PATH.
    """
    here = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(here):
        return here
    return shutil.which(name)


class NovaAll(object):
    """One nova-all process on the simulated hypervisors."""

    def __init__(self, speed=10.0, link_mib_s=100.0, config=None,
                 lab_env=None, state_dir=None):
        """``lab_env``: the lab's env file: run on the real two-host lab
        instead of the simulated hypervisors. ``state_dir``: reuse one
        (a restarted nova-all keeps its database).
        """
        self.speed = speed
        self.link_mib_s = link_mib_s
        self.config = config or {}
        self.lab_env = lab_env
        self.keep_state_dir = state_dir
        self.url = None
        self.process = None
        self.state_dir = None
        self.log_path = None

    def _write_config(self):
        lines = []
        for group, values in sorted(self.config.items()):
            lines.append('[%s]' % group)
            lines.extend('%s = %s' % (k, v) for k, v in sorted(
                values.items()))
        path = os.path.join(self.state_dir, 'nova.conf')
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        return path

    def _hypervisor_args(self):
        if self.lab_env:
            return ['--lab-env', self.lab_env]
        return ['--fake-hypervisors', '--fake-speed', str(self.speed),
                '--fake-link-mib-s', str(self.link_mib_s)]

    def start(self):
        if self.state_dir is None:
            self.state_dir = self.keep_state_dir or tempfile.mkdtemp(
                prefix='nova-all-')
        self.log_path = os.path.join(self.state_dir, 'nova-all.log')
        conf = self._write_config()
        env = dict(os.environ, NOVA_STATE_PATH=self.state_dir,
                   PYTHONUNBUFFERED='1')
        cmd = ([sys.executable, '-m', 'nova.cmd.all', '--config-file', conf]
               + self._hypervisor_args() +
               ['--port', '0', '--log-file', self.log_path])
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, text=True)
        found = {}
        output = []

        def read():
            for line in self.process.stdout:
                output.append(line)
                match = _READY.search(line)
                if match and 'url' not in found:
                    found['url'] = match.group(1)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while 'url' not in found:
            if self.process.poll() is not None or \
                    time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('nova-all did not start:\n%s'
                                   % ''.join(output[-50:]))
            time.sleep(0.05)
        self.url = found['url']
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def cleanup(self):
        self.stop()
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path) as handle:
                return handle.read()
        except OSError:
            return ''

    # -- direct REST calls, for waiting (the CLI is for the operator) ----

    def rest(self, method, path, body=None, token='admin:admin',
             version='latest'):
        data = json.dumps(body).encode('utf-8') if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={'X-Auth-Token': token,
                     'OpenStack-API-Version': 'compute %s' % version,
                     'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def server(self, uuid, token='admin:admin'):
        return self.rest('GET', '/v2.1/servers/%s' % uuid,
                         token=token)[1]['server']

    def migrations(self, **filters):
        query = '&'.join('%s=%s' % kv for kv in sorted(filters.items()))
        return self.rest('GET', '/v2.1/os-migrations?%s' % query)[1][
            'migrations']

    def wait_for(self, predicate, timeout=60.0, interval=0.2, what=None):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for %s'
                                     % (what or predicate))
            time.sleep(interval)

    def wait_for_migration(self, uuid, statuses, timeout=60.0):
        statuses = (statuses,) if isinstance(statuses, str) else statuses

        def check():
            for mig in self.migrations(instance_uuid=uuid):
                if mig['status'] in statuses:
                    return mig
            return None
        return self.wait_for(check, timeout,
                             what='migration of %s in %s' % (uuid, statuses))

    def wait_for_server(self, uuid, status='ACTIVE', host=None,
                        timeout=60.0):
        def check():
            server = self.server(uuid)
            if server['status'] == 'ERROR':
                raise AssertionError('server %s went to ERROR' % uuid)
            if server['status'] == status and server[
                    'OS-EXT-STS:task_state'] is None and (
                    host is None or server['OS-EXT-SRV-ATTR:host'] == host):
                return server
            return None
        return self.wait_for(check, timeout,
                             what='server %s %s on %s' % (uuid, status, host))


class Result(object):

    def __init__(self, args, returncode, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def table(self):
        """Rows of the first table in stdout as dicts."""
        rows = [line for line in self.stdout.splitlines()
                if line.startswith('|')]
        if not rows:
            return []
        header = [c.strip() for c in rows[0].strip('|').split('|')]
        return [dict(zip(header, [c.strip() for c in
                                  row.strip('|').split('|')]))
                for row in rows[1:]]

    def properties(self):
        """``| Property | Value |`` tables (show commands) as a dict."""
        result = {}
        for row in self.table():
            values = list(row.values())
            if len(values) >= 2:
                result[values[0]] = values[1]
        return result

    def __repr__(self):
        return 'Result(%s -> %s)\n%s' % (' '.join(self.args),
                                         self.returncode, self.output)


class CLI(object):
    """The real clients, with the options an operator gives them."""

    def __init__(self, cloud, username='admin', project='admin',
                 password='secret'):
        self.cloud = cloud
        self.username = username
        self.project = project
        self.password = password

    def _auth(self):
        return ['--os-auth-url', '%s/identity' % self.cloud.url,
                '--os-username', self.username,
                '--os-password', self.password,
                '--os-project-name', self.project,
                '--os-user-domain-name', 'Default',
                '--os-project-domain-name', 'Default']

    def _run(self, args, timeout=60):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        proc = subprocess.run(args, capture_output=True, text=True,
                              timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
        return Result(args, proc.returncode, proc.stdout, proc.stderr)

    def nova(self, *args):
        return self._run([find_script('nova')] + self._auth() + list(args))

    def openstack(self, *args):
        return self._run([find_script('openstack')] + self._auth() +
                         ['--os-identity-api-version', '3'] + list(args))
