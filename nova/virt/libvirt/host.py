"""The libvirt connection of one compute host.

``Host`` opens the connection, answers version questions and delivers
domain lifecycle events. The libvirt-python module is injected (the real one
by default) so that tests and the benchmark run the same code on the fake.
"""

import threading
from typing import Any, Dict

from oslo_log import log as logging
from oslo_utils import importutils

from nova import utils
from nova.virt.libvirt import guest as libvirt_guest

LOG = logging.getLogger(__name__)

# libvirt's default event loop, started once per libvirt module.
_EVENT_LOOPS: Dict[int, Any] = {}
_EVENT_LOOPS_LOCK = threading.Lock()


def version_to_int(version):
    """(major, minor, micro) -> libvirt's integer form major*1e6+minor*1e3."""
    major, minor, micro = (tuple(version) + (0, 0, 0))[:3]
    return major * 1000000 + minor * 1000 + micro


def int_to_version(number):
    return (number // 1000000, (number // 1000) % 1000, number % 1000)


def _ignore_libvirt_error(context, error):
    pass


def load_libvirt():
    """Import the real libvirt-python module (lazily: tests never need it)."""
    return importutils.import_module('libvirt')


class Host(object):
    """Connection to one libvirt daemon."""

    def __init__(self, uri='', libvirt_module=None, event_loop=True):
        """``event_loop``: run libvirt's default event loop in a thread.

        Real libvirt needs it to deliver events; the fake delivers them
        synchronously and tests pass False.
        """
        self._uri = uri or 'qemu:///system'
        self._libvirt = libvirt_module or load_libvirt()
        self._want_event_loop = event_loop
        self._conn = None
        self._lock = threading.Lock()
        self._lifecycle_handlers = []
        self._iteration_handlers = []
        self._event_thread = None

    @property
    def libvirt(self):
        return self._libvirt

    @property
    def uri(self):
        return self._uri

    # -- connection -------------------------------------------------------

    def get_connection(self):
        with self._lock:
            if self._conn is None or not self._is_alive(self._conn):
                self._conn = self._connect()
            return self._conn

    def _is_alive(self, conn):
        try:
            return bool(conn.isAlive())
        except self._libvirt.libvirtError:
            return False

    def _connect(self):
        lv = self._libvirt
        if self._want_event_loop:
            self._start_event_loop()
        LOG.debug('Connecting to libvirt at %s', self._uri)
        if hasattr(lv, 'registerErrorHandler'):
            # Errors reach us as exceptions; stop libvirt printing them too.
            lv.registerErrorHandler(_ignore_libvirt_error, None)
        conn = lv.open(self._uri)
        conn.domainEventRegisterAny(
            None, lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            self._on_lifecycle_event, None)
        iteration = getattr(lv, 'VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION',
                            None)
        if iteration is not None:
            try:
                conn.domainEventRegisterAny(
                    None, iteration, self._on_migration_iteration, None)
            except lv.libvirtError as exc:
                # The monitor infers pass boundaries from its polls then.
                LOG.info('No migration-iteration events from %s: %s',
                         self._uri, exc)
        return conn

    def _start_event_loop(self):
        """Run libvirt's default event loop in a native daemon thread.

        One loop per libvirt module and process, shared by every Host (the
        all-in-one runs several). libvirt invokes callbacks from that
        thread; handlers must only record facts (set attributes), never
        block.
        """
        if self._event_thread is not None:
            return
        lv = self._libvirt
        with _EVENT_LOOPS_LOCK:
            thread = _EVENT_LOOPS.get(id(lv))
            if thread is None:
                lv.virEventRegisterDefaultImpl()

                def run_forever():
                    while True:
                        lv.virEventRunDefaultImpl()

                thread = utils.native_threading().Thread(
                    target=run_forever, name='libvirt-events', daemon=True)
                thread.start()
                _EVENT_LOOPS[id(lv)] = thread
        self._event_thread = thread

    # -- events -----------------------------------------------------------

    def register_lifecycle_handler(self, handler):
        """handler(domain_uuid, event, detail), called from libvirt's thread."""
        self._lifecycle_handlers.append(handler)

    def register_iteration_handler(self, handler):
        """handler(domain_uuid, iteration): a migration's new memory pass.

        Called from libvirt's thread (VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION)
        """
        self._iteration_handlers.append(handler)

    def _on_lifecycle_event(self, conn, dom, event, detail, opaque):
        self._dispatch(self._lifecycle_handlers, dom.UUIDString(), event,
                       detail)

    def _on_migration_iteration(self, conn, dom, iteration, opaque):
        self._dispatch(self._iteration_handlers, dom.UUIDString(),
                       iteration)

    @staticmethod
    def _dispatch(handlers, uuid, *args):
        for handler in list(handlers):
            try:
                handler(uuid, *args)
            except Exception:  # a bad handler must not kill the event loop
                LOG.exception('Event handler failed for %s', uuid)

    # -- versions ---------------------------------------------------------

    def get_libvirt_version(self):
        return int_to_version(self.get_connection().getLibVersion())

    def get_hypervisor_version(self):
        return int_to_version(self.get_connection().getVersion())

    def has_min_version(self, lv_ver=None, hv_ver=None):
        """True when libvirt and the hypervisor are at least these versions."""
        conn = self.get_connection()
        if lv_ver and conn.getLibVersion() < version_to_int(lv_ver):
            return False
        if hv_ver and conn.getVersion() < version_to_int(hv_ver):
            return False
        return True

    def get_hostname(self):
        return self.get_connection().getHostname()

    def get_info(self):
        """virConnect.getInfo: [model, memory MiB, cpus, ...]."""
        return self.get_connection().getInfo()

    def get_capabilities(self):
        """The host's capabilities XML."""
        return self.get_connection().getCapabilities()

    # -- guests -----------------------------------------------------------

    def get_guest(self, uuid):
        """The Guest with this UUID; raises libvirtError(NO_DOMAIN)."""
        dom = self.get_connection().lookupByUUIDString(uuid)
        return libvirt_guest.Guest(dom, self._libvirt)

    def find_guest(self, uuid):
        """The Guest with this UUID, or None when this host has none."""
        try:
            return self.get_guest(uuid)
        except self._libvirt.libvirtError as exc:
            if exc.get_error_code() == self._libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    def create_guest(self, xml, start=True):
        """Define a persistent domain from XML and (by default) start it."""
        dom = self.get_connection().defineXML(xml)
        guest = libvirt_guest.Guest(dom, self._libvirt)
        if start:
            guest.launch()
        return guest

    def list_guests(self):
        return [libvirt_guest.Guest(d, self._libvirt)
                for d in self.get_connection().listAllDomains(0)]

    # -- instance disks (a libvirt 'dir' storage pool) ----------------------

    def instances_pool(self, pool_xml, name):
        """The active storage pool ``name``, started from ``pool_xml`` (a
        transient pool: libvirt creates its directory) when the daemon has
        none by that name, e.g. after a restart. The pool is refreshed so
        that images another host created there (shared storage) are seen.
        """
        conn = self.get_connection()
        lv = self._libvirt
        try:
            pool = conn.storagePoolLookupByName(name)
        except lv.libvirtError as exc:
            if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_POOL:
                raise
            pool = conn.storagePoolCreateXML(
                pool_xml, lv.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
        if not pool.isActive():
            pool.create(0)
        pool.refresh(0)
        return pool

    def create_volume(self, pool, volume_xml):
        """Create an image in ``pool``; returns its path as QEMU sees it."""
        return pool.createXML(volume_xml, 0).path()

    def _lookup_volume(self, pool, name):
        """The volume ``name`` of ``pool``, or None when there is none."""
        lv = self._libvirt
        try:
            return pool.storageVolLookupByName(name)
        except lv.libvirtError as exc:
            if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_VOL:
                raise
            return None

    def find_volume(self, pool, name):
        """(path, capacity bytes) of the image ``name`` in ``pool``.

        None when the pool has no such image.
        """
        vol = self._lookup_volume(pool, name)
        return None if vol is None else (vol.path(), vol.info()[1])

    def delete_volume(self, pool, name):
        """Delete the image ``name`` from ``pool``; False when none."""
        vol = self._lookup_volume(pool, name)
        if vol is None:
            return False
        vol.delete(0)
        return True
