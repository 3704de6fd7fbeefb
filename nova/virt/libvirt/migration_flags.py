"""Which libvirt migration flags and URIs a live migration uses.

Pure functions: configuration values and host capabilities in, flags and
the reasons behind them out. The driver logs the reasons.
"""

import dataclasses
from typing import Any, Dict, List

from nova import hostnames

# The oldest libvirt and QEMU the driver runs on (upstream Nova's minimum
# today); init_host refuses older ones. Auto-converge, post-copy, parallel
# connections and the post-copy bandwidth parameter are all older than
# that, so they need no gate of their own.
MIN_LIBVIRT_VERSION = (8, 0, 0)
MIN_QEMU_VERSION = (6, 2, 0)
# Resuming a broken post-copy migration (VIR_MIGRATE_POSTCOPY_RESUME,
# migrate-pause through abortJobFlags).
MIN_LIBVIRT_POSTCOPY_RESUME = (8, 5, 0)
MIN_QEMU_POSTCOPY_RESUME = (3, 0, 0)
# QEMU refuses the multifd and postcopy-ram capabilities together before.
MIN_QEMU_PARALLEL_WITH_POSTCOPY = (10, 1, 0)


@dataclasses.dataclass
class MigrationPlan(object):
    flags: int
    postcopy: bool
    auto_converge: bool
    notes: List[str]
    parallel_connections: int = 1
    postcopy_recoverable: bool = False
    # Block migration with post-copy permitted: post-copy covers the memory
    # only, and the switch cannot happen before the disks are copied.
    postcopy_after_disk_copy: bool = False


def build_migration_flags(lv, tunnelled, block_migration, permit_postcopy,
                          permit_auto_converge, parallel_connections=1,
                          parallel_with_postcopy_supported=False,
                          native_tls=False):
    """Flags for migrateToURI3 and why the optional ones are (not) there.

    ``native_tls`` (``live_migration_with_native_tls``) adds
    ``VIR_MIGRATE_TLS``: QEMU's own TLS on the data stream, which keeps
    post-copy, parallel connections and block migration available (libvirt
    >= 3.2, far below the driver's minimum). The start-up checks refuse it
    together with ``tunnelled``; if both still reach here, both flags are
    passed and libvirt decides.

    ``lv`` is the libvirt module (only its VIR_MIGRATE_* constants are
    read). Post-copy wins over auto-converge: throttling a guest that is
    about to be switched to post-copy would only slow it down for nothing.
    It also wins over parallel connections where QEMU cannot combine them:
    post-copy finishes any guest, more connections only finish some sooner.
    """
    flags = (lv.VIR_MIGRATE_LIVE | lv.VIR_MIGRATE_PEER2PEER |
             lv.VIR_MIGRATE_PERSIST_DEST | lv.VIR_MIGRATE_UNDEFINE_SOURCE)
    if tunnelled:
        flags |= lv.VIR_MIGRATE_TUNNELLED
    if block_migration:
        flags |= lv.VIR_MIGRATE_NON_SHARED_INC
    if native_tls:
        flags |= lv.VIR_MIGRATE_TLS
    notes = []

    postcopy = False
    if permit_postcopy:
        if tunnelled:
            notes.append('post-copy not used: live_migration_tunnelled is '
                         'set and libvirt cannot tunnel post-copy')
        else:
            postcopy = True
            flags |= lv.VIR_MIGRATE_POSTCOPY

    auto_converge = False
    if permit_auto_converge:
        if postcopy:
            notes.append('auto-converge not requested: post-copy is '
                         'permitted and available, and wins')
        else:
            auto_converge = True
            flags |= lv.VIR_MIGRATE_AUTO_CONVERGE

    connections = _parallel_connections(
        parallel_connections, tunnelled, postcopy,
        parallel_with_postcopy_supported, notes)
    if connections > 1:
        flags |= lv.VIR_MIGRATE_PARALLEL
    plan = MigrationPlan(flags, postcopy, auto_converge, notes, connections)
    note = postcopy_with_block_migration_note(postcopy, block_migration)
    if note:
        plan.postcopy_after_disk_copy = True
        notes.append(note)
    return plan


def postcopy_with_block_migration_note(postcopy, block_migration):
    """What post-copy can do for a block migration, or None.

    libvirt accepts VIR_MIGRATE_POSTCOPY together with
    VIR_MIGRATE_NON_SHARED_INC, but the disks are only ever pre-copied
    (NBD mirrors that must converge): QEMU refuses migrate-start-postcopy
    until its memory migration has started ("Postcopy must be started
    after migration has been started", seen on the lab with libvirt 9.0 /
    QEMU 7.2 and libvirt 11.3 / QEMU 10.0), and at the switch libvirt
    completes the mirrors. So
    post-copy stays permitted, for the memory phase only.
    """
    if not (postcopy and block_migration):
        return None
    return ('post-copy with block migration: only the memory can be '
            'post-copied; the switch waits until the disks are copied '
            '(QEMU refuses it during the disk copy), and a guest that '
            'rewrites its disk faster than the link carries never gets '
            'there')


def _parallel_connections(wanted, tunnelled, postcopy,
                          with_postcopy_supported, notes):
    """How many connections the migration uses (1: no multifd)."""
    if wanted <= 1:
        return 1
    why = None
    if tunnelled:
        why = ('live_migration_tunnelled is set and libvirt cannot tunnel '
               'parallel connections')
    elif postcopy and not with_postcopy_supported:
        why = ('post-copy is permitted and wins: QEMU < %s cannot combine '
               'it with parallel connections'
               % _v(MIN_QEMU_PARALLEL_WITH_POSTCOPY))
    if why:
        notes.append('%d parallel connections not used: %s' % (wanted, why))
        return 1
    return wanted


def postcopy_recovery_note(plan, supported, timeout):
    """Can a broken post-copy migration be resumed? Sets the plan's flag.

    Returns the reason when it cannot (None when it can or post-copy is
    not used at all).
    """
    plan.postcopy_recoverable = False
    if not plan.postcopy:
        return None
    if not supported:
        return ('a broken post-copy migration cannot be resumed: it needs '
                'libvirt >= %s and QEMU >= %s' % (
                    _v(MIN_LIBVIRT_POSTCOPY_RESUME),
                    _v(MIN_QEMU_POSTCOPY_RESUME)))
    if timeout <= 0:
        return ('a broken post-copy migration is not resumed: '
                'live_migration_postcopy_recovery_timeout is 0')
    plan.postcopy_recoverable = True
    return None


def _v(version):
    return '.'.join(str(part) for part in version)


def destination_uri(dest_host, scheme=None, uri_template=None,
                    target_connect_addr=None):
    """libvirt URI of the destination daemon (the peer-to-peer control link).

    ``live_migration_uri`` (a template with ``%s`` for the destination host
    name) wins when set; otherwise ``qemu+<scheme or tcp>://<addr>/system``
    with the destination's inbound address, or its host name.
    Both names are checked (``nova.hostnames``): a value that is not a host
    name or an IP address could change what the URI means (a user part,
    a path, another port), so it raises ValueError before libvirt sees it.
    """
    dest_host = hostnames.uri_host(dest_host)
    if uri_template:
        return uri_template % dest_host
    host = hostnames.uri_host(target_connect_addr) if target_connect_addr \
        else dest_host
    return 'qemu+%s://%s/system' % (scheme or 'tcp', host)


def control_link_warning(native_tls, scheme=None, uri_template=None):
    """Why the libvirt control connection may travel in clear while the
    data stream is encrypted (``live_migration_with_native_tls``), or None.

    Native TLS covers QEMU's stream only; the daemons' own connection is
    whatever ``live_migration_scheme`` (or ``live_migration_uri``) says,
    ``tcp`` when neither is set. Only a plain ``tcp`` connection is named:
    ``tls``, ``ssh`` and the rest encrypt it, and a URI template is the
    operator's explicit choice.
    """
    if not native_tls or uri_template:
        return None
    if (scheme or 'tcp').strip().lower() != 'tcp':
        return None
    return ('live_migration_with_native_tls encrypts the migration data, '
            'but live_migration_scheme is %s: the libvirt connection to '
            'the destination (the domain XML, job control) is not '
            'encrypted; set live_migration_scheme = tls'
            % ('tcp' if scheme else 'unset (tcp)'))


def version_problem(libvirt_version, qemu_version):
    """Why this host's libvirt/QEMU are too old for the driver, or None."""
    if tuple(libvirt_version) < MIN_LIBVIRT_VERSION:
        return 'libvirt %s is older than the minimum %s' % (
            _v(libvirt_version), _v(MIN_LIBVIRT_VERSION))
    if tuple(qemu_version) < MIN_QEMU_VERSION:
        return 'QEMU %s is older than the minimum %s' % (
            _v(qemu_version), _v(MIN_QEMU_VERSION))
    return None


def migrate_params(lv, target_connect_addr, tunnelled, bandwidth_mib,
                   parallel_connections=1, postcopy=False):
    """The typed parameters of migrateToURI3.

    ``live_migration_bandwidth`` also caps the post-copy phase when the
    migration may switch to it: QEMU's post-copy bandwidth is unlimited
    unless set (``bandwidth.postcopy``, libvirt >= 5.1).
    """
    params: Dict[str, Any] = {}
    if target_connect_addr:
        target_connect_addr = hostnames.uri_host(target_connect_addr)
    if parallel_connections > 1:
        params[lv.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = int(
            parallel_connections)
    if target_connect_addr and not tunnelled:
        params[lv.VIR_MIGRATE_PARAM_URI] = 'tcp://%s' % target_connect_addr
    if bandwidth_mib:
        params[lv.VIR_MIGRATE_PARAM_BANDWIDTH] = int(bandwidth_mib)
        if postcopy:
            params[lv.VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY] = int(
                bandwidth_mib)
    return params
