"""What every fault drill needs: the real service layer on the real lab,
eyes on libvirt, the database and the guest, a clock, and a clean lab
afterwards.

The services under test are either one ``nova-all --lab-env`` (the API
and the lab-a and lab-b compute services, SQLite, in-process messaging) in
a subprocess, driven through the REST API like an operator
(``DrillTestCase``), or one ``nova-compute`` process per host over
RabbitMQ, when the fault is one service dying
(``processes.ComputeProcessesDrillTestCase``). A drill injects a fault
with ``faults`` and then checks three witnesses that must agree:

* libvirt on each host: where the guest's domain is and its state;
* the guest itself: the counter its program prints every second on the
  serial console keeps rising (a guest that is merely "running" in libvirt
  may be stuck);
* the database the services share: the Migration's status, the server's
  host and task_state.

Figures (outcome, seconds to detect, seconds to recover) are appended as
JSON lines to ``$NOVA_DRILL_RESULTS`` when it is set.
"""

import importlib
import os
import signal
import time

import testtools

from nova.db import api as db_api
from nova.objects import migration as migration_obj
from nova.tests.functional.api import cloud
from nova.tests.functional.drills import faults
from nova.tests.functional.libvirt import lab

MiB = 1024 * 1024
FINAL = (migration_obj.COMPLETED, migration_obj.FAILED, migration_obj.ERROR,
         migration_obj.CANCELLED)
# A guest that cannot converge over BUSY_CAP MiB/s without help: the
# migration runs until something ends it, which leaves time for a fault.
BUSY = {'dirty_mib': '32', 'dirty_rate': '24'}
BUSY_CAP = 16


def _quiet(libvirt):
    """Errors reach us as exceptions; libvirt would print each one too."""
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt


def libvirt_state(uri, uuid):
    """Domain state name of ``uuid`` at ``uri``: None when absent, '?'
    when the daemon does not answer.
    """
    libvirt = _quiet(importlib.import_module('libvirt'))
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return '?'
    try:
        try:
            # Both calls: a domain leaving (end of a migration) may vanish
            # between the look-up and the question.
            state = conn.lookupByUUIDString(uuid).state()[0]
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            return '?'
        return {libvirt.VIR_DOMAIN_RUNNING: 'running',
                libvirt.VIR_DOMAIN_PAUSED: 'paused',
                libvirt.VIR_DOMAIN_SHUTOFF: 'shutoff',
                libvirt.VIR_DOMAIN_CRASHED: 'crashed'}.get(state, str(state))
    finally:
        conn.close()


def destroy_everywhere(env, uuid):
    """Remove the guest from both hosts, whatever state it is in."""
    libvirt = _quiet(importlib.import_module('libvirt'))
    for letter in ('A', 'B'):
        try:
            conn = libvirt.open(env['NOVA_LAB_%s_URI' % letter])
        except libvirt.libvirtError:
            continue
        try:
            dom = conn.lookupByUUIDString(uuid)
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefine()
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()


def stack_figures(env):
    """The lab's stack and each host's libvirt/QEMU, as lab.env has them."""
    figures = {'stack': env.get('NOVA_LAB_STACK', 'debian12')}
    for letter in ('A', 'B'):
        figures['lab_%s' % letter.lower()] = '%s/%s' % (
            env.get('NOVA_LAB_%s_LIBVIRT_VERSION' % letter, '?'),
            env.get('NOVA_LAB_%s_QEMU_VERSION' % letter, '?'))
    return figures


class LabCloud(cloud.NovaAll):
    """nova-all on the lab; it can also crash (SIGKILL) and come back."""

    def crash(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


class Stopwatch(object):
    """Seconds since the fault, on the monotonic clock."""

    def __init__(self):
        self.t0 = None

    def start(self):
        self.t0 = time.monotonic()

    def read(self):
        return round(time.monotonic() - self.t0, 2)


class LabDrillTestCase(testtools.TestCase):
    """The lab, its witnesses and the figures; subclasses run the services
    (``self.db`` is their database) and say how to boot and migrate.
    """

    # nova.conf settings of the services under test, per drill class.
    config = {}

    def setUp(self):
        super(LabDrillTestCase, self).setUp()
        self.env = lab.env_for_test(self)
        self.uri = {'lab-a': self.env['NOVA_LAB_A_URI'],
                    'lab-b': self.env['NOVA_LAB_B_URI']}
        # Runs last: whatever the drill broke, the next test gets a lab.
        self.addCleanup(faults.restore, self.env)
        faults.restore(self.env)
        self.servers = []
        lab.keep_logs_on_failure(
            self, self.env, lambda: [self.console(u) for u in self.servers])

    def service_config(self):
        """nova.conf groups for the services: drill defaults + ``config``."""
        config = {'DEFAULT': {'report_interval': 2,
                              'service_down_time': 30,
                              'live_migration_rpc_timeout': 20},
                  'libvirt': {'live_migration_bandwidth': BUSY_CAP,
                              'live_migration_monitor_interval': 1}}
        for group, values in self.config.items():
            config.setdefault(group, {}).update(values)
        return config

    def boot(self, name, metadata, host='lab-a'):
        raise NotImplementedError()

    def live_migrate(self, uuid, host='lab-b'):
        raise NotImplementedError()

    def track(self, uuid):
        """Remove the guest from the lab after the drill, whatever happens."""
        self.servers.append(uuid)
        self.addCleanup(destroy_everywhere, self.env, uuid)
        return uuid

    # -- waiting ------------------------------------------------------------

    def wait_for(self, predicate, timeout, interval=0.25, what='condition'):
        try:
            return lab.wait_for(predicate, timeout, interval, what)
        except AssertionError:
            raise AssertionError('timed out after %ss waiting for %s'
                                 % (timeout, what))

    # -- servers and migrations ----------------------------------------------

    def wait_booted(self, uuid):
        """Until the server is active and its guest program reports."""
        def active():
            inst = self.instance(uuid)
            self.assertNotEqual('error', inst['vm_state'],
                                inst['fault_message'])
            return inst['vm_state'] == 'active' and inst['task_state'] is None
        self.wait_for(active, 60, what='server %s active' % uuid)
        self.wait_for(lambda: len(self.reports(uuid)) >= 2, 120,
                      what='the guest program of %s to report' % uuid)

    def console(self, uuid):
        return os.path.join(self.env['NOVA_LAB_SHARED_DIR'], 'console',
                            '%s.log' % uuid)

    def reports(self, uuid):
        return lab.console_reports(self.console(uuid))

    def migration(self, uuid):
        """The server's (latest) Migration row, from the database."""
        rows = db_api.migration_get_all(self.db, {'instance_uuid': uuid})
        self.assertTrue(rows, 'no migration for %s' % uuid)
        return sorted(rows, key=lambda r: r['id'])[-1]

    def service(self, host):
        """The nova-compute service row of ``host``."""
        return db_api.service_get_by_host_and_binary(self.db, host,
                                                     'nova-compute')

    def instance(self, uuid):
        return db_api.instance_get_by_uuid(self.db, uuid)

    def wait_copying(self, uuid, mib=8):
        """Until the libvirt job has moved ``mib`` MiB (pre-copy under way)."""
        def copying():
            row = self.migration(uuid)
            self.assertNotIn(row['status'], FINAL,
                             'migration ended before the fault')
            return (row['status'] == migration_obj.RUNNING and
                    (row['memory_processed'] or 0) >= mib * MiB)
        self.wait_for(copying, 120, what='the migration of %s to copy' % uuid)

    def wait_final(self, uuid, watch, timeout):
        """Until the Migration leaves the in-progress statuses; the
        stopwatch reading then is the time to detect.
        """
        self.wait_for(lambda: self.migration(uuid)['status'] in FINAL,
                      timeout, what='the migration to be recorded as ended')
        return watch.read()

    def where(self, uuid):
        """{'lab-a': state or None, 'lab-b': ...} as libvirt reports it."""
        return {host: libvirt_state(uri, uuid)
                for host, uri in self.uri.items()}

    def running_on(self, uuid):
        hosts = [h for h, s in self.where(uuid).items() if s == 'running']
        return hosts[0] if len(hosts) == 1 else None

    def wait_recovered(self, uuid, host, watch, timeout=90):
        """Until the guest runs on ``host`` only, counts on, and the server
        record says the same (host, no task). Returns the time to recover.
        """
        before = self.reports(uuid)
        seen = before[-1]['t'] if before else -1

        def settled():
            inst = self.instance(uuid)
            reports = self.reports(uuid)
            return (inst['task_state'] is None and inst['host'] == host and
                    self.where(uuid)[host] == 'running' and
                    reports and reports[-1]['t'] > seen)
        self.wait_for(settled, timeout, interval=0.5,
                      what='the guest running on %s with matching records'
                           % host)
        return watch.read()

    def wait_settled(self, uuid, watch, timeout=120):
        """Until the records stop moving and the guest is somewhere for good.

        Settled means: no task on the server and either the guest runs on
        the host the server record names (counting on), or the Migration
        is ``error`` with the guest on both hosts (post-copy broken, both
        halves kept for an operator). Which host won is not assumed: libvirt 9.0 and 11.3
        end some faults differently. Returns (outcome, seconds).
        """
        before = self.reports(uuid)
        seen = before[-1]['t'] if before else -1
        outcome = []

        def settled():
            inst = self.instance(uuid)
            row = self.migration(uuid)
            if inst['task_state'] is not None or row['status'] not in FINAL:
                return False
            where = self.where(uuid)
            if (row['status'] == migration_obj.ERROR and
                    all(where.get(h) for h in (row['source_compute'],
                                               row['dest_compute']))):
                outcome.append('kept-both')
                return True
            reports = self.reports(uuid)
            if (where.get(inst['host']) == 'running' and
                    reports and reports[-1]['t'] > seen):
                outcome.append('on-destination'
                               if inst['host'] == row['dest_compute']
                               else 'on-source')
                return True
            return False
        self.wait_for(settled, timeout, interval=0.5,
                      what='the records of %s to settle' % uuid)
        return outcome[-1], watch.read()

    def assertInvariants(self, uuid, outcome):
        """What must hold after any fault, on any stack.

        * the guest runs in exactly one place, or (``kept-both``) it is
          paused with both halves kept and the Migration says ``error``;
        * the Migration and the server name where the guest really is;
        * nothing is destroyed: the guest exists, its program never
          restarted, lost no write and its counter keeps rising.
        """
        where = self.where(uuid)
        row = self.migration(uuid)
        inst = self.instance(uuid)
        source, dest = row['source_compute'], row['dest_compute']
        self.assertTrue(any(state is not None for state in where.values()),
                        'the guest is gone from both hosts: %s' % where)
        if outcome == 'kept-both':
            self.assertEqual(migration_obj.ERROR, row['status'])
            self.assertEqual({source, dest},
                             {h for h, st in where.items() if st}, where)
            self.assertEqual(1, sum(1 for st in where.values()
                                    if st == 'running'), where)
            return
        self.assertEqual(dest if outcome == 'on-destination' else source,
                         inst['host'], 'outcome %s' % outcome)
        running = [h for h, st in where.items() if st == 'running']
        self.assertEqual([inst['host']], running,
                         'guest runs on %s, the server record says %s'
                         % (where, inst['host']))
        other = dest if inst['host'] == source else source
        self.wait_for(lambda: self.where(uuid)[other] is None, 30,
                      what='no leftover of the guest on %s' % other)
        if inst['host'] == dest:
            self.assertEqual(migration_obj.COMPLETED, row['status'])
        else:
            self.assertIn(row['status'], (migration_obj.FAILED,
                                          migration_obj.ERROR,
                                          migration_obj.CANCELLED))
        self.assertEqual(inst['host'], inst['node'])
        self.assertIsNone(inst['task_state'])
        self.assertEqual('active', inst['vm_state'])
        self.assertGuestCounts(uuid)

    # -- the three witnesses ---------------------------------------------------

    def assertGuestOn(self, uuid, host, status):
        """libvirt, the guest and the database agree: it runs on ``host``."""
        other = 'lab-b' if host == 'lab-a' else 'lab-a'
        where = self.where(uuid)
        self.assertEqual('running', where[host], where)
        self.assertNotEqual('running', where[other], where)
        row = self.migration(uuid)
        inst = self.instance(uuid)
        self.assertEqual(status, row['status'])
        self.assertEqual(host, inst['host'])
        self.assertEqual(host, inst['node'])
        self.assertIsNone(inst['task_state'])
        self.assertEqual('active', inst['vm_state'])
        self.assertGuestCounts(uuid)

    def assertGuestCounts(self, uuid, more=2):
        """Its console counter keeps rising: no restart, no lost write."""
        before = self.reports(uuid)
        lab.wait_reports_or_crash(self, self.console(uuid),
                                  len(before) + more,
                                  self.env['NOVA_LAB_VIRT_TYPE'])
        after = self.reports(uuid)
        verdict, evidence = lab.guest_verdict(self.console(uuid), before[-1])
        self.assertEqual('ok', verdict, 'guest %s: %s' % (verdict, evidence))
        self.assertGreater(after[-1]['t'], before[-1]['t'])
        self.assertGreaterEqual(after[-1]['pages'], before[-1]['pages'])
        self.assertEqual(0, after[-1]['bad'])
        self.assertEqual([], lab.console_problems(self.console(uuid)))

    # -- figures ---------------------------------------------------------------

    def record(self, drill, uuid, outcome, detect_s, recover_s, **extra):
        row = self.migration(uuid)
        inst = self.instance(uuid)
        figures = {'drill': drill, 'outcome': outcome,
                   'detect_s': detect_s, 'recover_s': recover_s,
                   'guest_on': self.running_on(uuid),
                   'migration_status': row['status'],
                   'instance_host': inst['host'],
                   'task_state': inst['task_state'],
                   'virt_type': self.env['NOVA_LAB_VIRT_TYPE']}
        figures.update(stack_figures(self.env))
        figures.update(extra)
        self.write_figures(figures)
        return figures

    def write_figures(self, figures):
        lab.write_figures(self, 'NOVA_DRILL_RESULTS', figures)


class DrillTestCase(LabDrillTestCase):
    """The services are one ``nova-all --lab-env``; driven over REST."""

    def setUp(self):
        super(DrillTestCase, self).setUp()
        self.cloud = LabCloud(config=self.service_config(),
                              lab_env=lab.env_path())
        self.addCleanup(self.cloud.cleanup)
        self.addCleanup(self._attach_log)
        self.cloud.start()
        self.db = db_api.Database('sqlite:///%s' % os.path.join(
            self.cloud.state_dir, 'nova.sqlite'))
        self.addCleanup(self.db.dispose)
        self.wait_for(self._services_up, 60, what='both compute services')

    def _attach_log(self):
        self.addDetail('nova-all.log', testtools.content.text_content(
            self.cloud.log()[-30000:]))

    def _services_up(self):
        status, body = self.cloud.rest('GET', '/v2.1/os-services')
        if status != 200:
            return False
        up = {s['host'] for s in body['services'] if s['state'] == 'up'}
        return {'lab-a', 'lab-b'} <= up

    def boot(self, name, metadata, host='lab-a'):
        """A server on ``host`` (``nova boot --host``, microversion 2.74)."""
        status, body = self.cloud.rest('GET', '/v2.1/images',
                                       version='2.1')
        image = [i for i in body['images'] if i['name'] == 'lab-guest'][0]
        status, body = self.cloud.rest('POST', '/v2.1/servers', {
            'server': {'name': name, 'imageRef': image['id'],
                       'flavorRef': '1', 'metadata': metadata,
                       'networks': 'none', 'host': host}}, version='2.74')
        self.assertEqual(202, status, body)
        return self.track(body['server']['id'])

    def live_migrate(self, uuid, host='lab-b'):
        status, body = self.cloud.rest(
            'POST', '/v2.1/servers/%s/action' % uuid,
            {'os-migrateLive': {'host': host, 'block_migration': 'auto'}},
            version='2.30')
        self.assertEqual(202, status, body)
