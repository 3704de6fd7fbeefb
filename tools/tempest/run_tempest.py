#!/usr/bin/env python3
"""Run Tempest's compute API tests against a fresh ``nova-all``.

``tox -e tempest`` calls this script. It starts ``nova-all
--fake-hypervisors`` (two simulated libvirt hosts, SQLite, the in-process
message transport and the identity shim) on a free loopback port, writes a
Tempest workspace whose ``tempest.conf`` describes that cloud (pre-
provisioned accounts, no networking, volume or object service), runs the
tests named in ``include-list.txt`` minus ``exclude-list.txt`` and stops
the service. The exit status is Tempest's.

    tools/tempest/run_tempest.py [--workdir DIR] [--keep] \\
        [--include-list FILE] [--exclude-list FILE] [tempest run args]

Nothing here needs the lab, QEMU or a network beyond loopback.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

ADMIN = ('admin', 'admin')      # the identity shim's administrator
PROJECT = 'tempest'             # the member, manager and reader project
ALT_PROJECT = 'tempest-alt'
PASSWORD = 'secret'             # the shim accepts any password


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def accounts_yaml():
    """Pre-provisioned accounts: one admin and one user per Tempest persona.

    The identity shim makes the user ``admin`` an administrator and every
    other user a member and reader of the project it names; the roles
    here are what Tempest reads to hand out credentials.
    """
    accounts = [
        ('admin', ADMIN[1], ['admin']),
        ('member', PROJECT, ['member']),
        ('manager', PROJECT, ['manager']),
        ('reader', PROJECT, ['reader']),
        ('alt-member', ALT_PROJECT, ['member']),
    ]
    lines = []
    for user, project, roles in accounts:
        lines.append('- username: %s' % user)
        lines.append('  project_name: %s' % project)
        lines.append('  password: %s' % PASSWORD)
        lines.append('  roles: [%s]' % ', '.join(roles))
    return '\n'.join(lines) + '\n'


def tempest_conf(url, image_id, accounts_file, log_file, lock_path):
    """tempest.conf for the all-in-one at ``url``."""
    sections = {
        'DEFAULT': {'log_file': log_file, 'debug': 'true'},
        'oslo_concurrency': {'lock_path': lock_path},
        'auth': {
            'use_dynamic_credentials': 'false',
            'test_accounts_file': accounts_file,
            'default_credentials_domain_name': 'Default',
            'create_isolated_networks': 'false',
            'admin_username': ADMIN[0],
            'admin_project_name': ADMIN[1],
            'admin_password': PASSWORD,
            'admin_domain_name': 'Default',
        },
        'identity': {
            'uri_v3': '%s/identity/v3' % url,
            'auth_version': 'v3',
            'region': 'RegionOne',
            'disable_ssl_certificate_validation': 'true',
        },
        'identity-feature-enabled': {'api_v2': 'false'},
        'compute': {
            'image_ref': image_id,
            'image_ref_alt': image_id,
            'flavor_ref': '1',
            'flavor_ref_alt': '2',
            'min_compute_nodes': '2',
            'min_microversion': '2.1',
            'max_microversion': 'latest',
            'build_timeout': '60',
            'build_interval': '1',
            'region': 'RegionOne',
        },
        'compute-feature-enabled': {
            'live_migration': 'true',
            'live_migrate_back_and_forth': 'false',
            'block_migration_for_live_migration': 'true',
            'volume_backed_live_migration': 'false',
            'can_migrate_between_any_hosts': 'true',
            'pause': 'true',
            'suspend': 'true',
            'cold_migration': 'false',
            'resize': 'false',
            'shelve': 'false',
            'shelve_migrate': 'false',
            'snapshot': 'false',
            'rescue': 'false',
            'console_output': 'false',
            'change_password': 'false',
            'interface_attach': 'false',
            'vnc_console': 'false',
            'spice_console': 'false',
            'serial_console': 'false',
            'rdp_console': 'false',
            'config_drive': 'false',
            'personality': 'false',
            'metadata_service': 'false',
            'attach_encrypted_volume': 'false',
            'stable_rescue': 'false',
            'swap_volume': 'false',
            'disk_config': 'false',
            'hostname_fqdn_sanitization': 'false',
            'nova_policy_roles': 'admin,member,reader',
        },
        'enforce_scope': {'nova': 'false'},
        # neutron: Tempest's live-migration classes skip unless a network
        # service is listed (they ask for a default network, which the
        # pre-provisioned accounts never create). Servers here boot
        # without ports; the tests that use the network API are not in
        # the include list (exclude-list.txt says why).
        'service_available': {
            'nova': 'true', 'glance': 'true', 'neutron': 'true',
            'cinder': 'false', 'swift': 'false', 'horizon': 'false',
        },
        'validation': {'run_validation': 'false'},
        'image-feature-enabled': {'api_v1': 'false'},
    }
    out = []
    for name, values in sections.items():
        out.append('[%s]' % name)
        out.extend('%s = %s' % item for item in values.items())
        out.append('')
    return '\n'.join(out)


def _get_json(url, token=None, timeout=5):
    req = urllib.request.Request(url)
    if token:
        req.add_header('X-Auth-Token', token)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode('utf-8'))


def wait_for_api(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('nova-all exited with %s' % proc.returncode)
        try:
            _get_json(url + '/')
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError('nova-all did not answer at %s within %ss'
                       % (url, timeout))


def wait_for_hypervisors(url, count, timeout=60):
    """Until ``count`` compute nodes have reported (Tempest counts them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = _get_json(url + '/v2.1/os-hypervisors', token='admin:admin')
        if len(body.get('hypervisors', [])) >= count:
            return
        time.sleep(0.3)
    raise RuntimeError('fewer than %d hypervisors reported' % count)


def boot_image_id(url):
    body = _get_json(url + '/image/v2/images', token='admin:admin')
    images = [i for i in body['images'] if i.get('status') == 'active']
    if not images:
        raise RuntimeError('nova-all has no active image')
    return images[0]['id']


def start_nova_all(workdir, port):
    state = os.path.join(workdir, 'state')
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(workdir, 'nova.conf')
    with open(conf, 'w') as handle:
        handle.write('[DEFAULT]\nstate_path = %s\n' % state)
    log = open(os.path.join(workdir, 'nova-all.log'), 'w')
    cmd = [sys.executable, '-m', 'nova.cmd.all', '--config-file', conf,
           '--fake-hypervisors', '--port', str(port)]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                            cwd=workdir, start_new_session=True)


def stop(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tempest_command(args):
    exe = shutil.which('tempest', path=os.path.dirname(sys.executable)) \
        or shutil.which('tempest')
    if exe is None:
        raise RuntimeError('tempest is not installed (tox -e tempest '
                           'installs it)')
    return exe


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workdir', help='Where the workspace, logs and '
                        'the service state go (default: a temporary '
                        'directory, kept when a test fails).')
    parser.add_argument('--keep', action='store_true',
                        help='Keep the work directory.')
    parser.add_argument('--include-list',
                        default=os.path.join(HERE, 'include-list.txt'))
    parser.add_argument('--exclude-list',
                        default=os.path.join(HERE, 'exclude-list.txt'))
    parser.add_argument('--concurrency', type=int, default=1,
                        help='Tempest workers (one: the identity shim has '
                        'a single administrator account to hand out).')
    # Anything else goes to "tempest run" (e.g. --regex instead of the
    # include list).
    args, extra = parser.parse_known_args(argv)

    workdir = args.workdir or tempfile.mkdtemp(prefix='nova-tempest-')
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    exe = tempest_command(args)
    port = free_port()
    url = 'http://127.0.0.1:%d' % port
    started = time.monotonic()
    proc = start_nova_all(workdir, port)
    rc = 1
    try:
        wait_for_api(url, proc)
        wait_for_hypervisors(url, 2)
        ws = os.path.join(workdir, 'workspace')
        if not os.path.isdir(ws):
            subprocess.run([exe, 'init', '--name', 'nova-%d' % port, ws],
                           check=True, stdout=subprocess.DEVNULL)
        accounts = os.path.join(ws, 'etc', 'accounts.yaml')
        with open(accounts, 'w') as handle:
            handle.write(accounts_yaml())
        with open(os.path.join(ws, 'etc', 'tempest.conf'), 'w') as handle:
            handle.write(tempest_conf(
                url, boot_image_id(url), accounts,
                os.path.join(workdir, 'tempest.log'),
                os.path.join(workdir, 'locks')))
        cmd = [exe, 'run', '--concurrency', str(args.concurrency)]
        if '--regex' not in extra and '-r' not in extra:
            cmd += ['--include-list', os.path.abspath(args.include_list)]
        if args.exclude_list and os.path.exists(args.exclude_list):
            cmd += ['--exclude-list', os.path.abspath(args.exclude_list)]
        cmd += extra
        print('tempest: %s against %s (work dir %s)'
              % (' '.join(cmd[1:]), url, workdir), flush=True)
        rc = subprocess.call(cmd, cwd=ws)
    finally:
        stop(proc)
        print('tempest: finished in %.0f s, exit status %s'
              % (time.monotonic() - started, rc), flush=True)
        if rc == 0 and not (args.keep or args.workdir):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print('tempest: logs in %s (nova-all.log, tempest.log)'
                  % workdir, flush=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
