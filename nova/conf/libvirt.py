"""Options of the libvirt driver (group ``libvirt``).

Every ``live_migration_*`` option lives here; ``nova.conf.opts`` lists them
for oslo-config-generator and the Sphinx config reference.
"""

from oslo_config import cfg
from oslo_config import types

libvirt_group = cfg.OptGroup(
    'libvirt',
    title='Libvirt options',
    help="""
Options for the libvirt compute driver, which runs guests on QEMU/KVM through
the libvirt daemon of the compute host.
""")

connection_opts = [
    cfg.StrOpt(
        'virt_type',
        default='kvm',
        choices=[('kvm', 'Hardware virtualization through /dev/kvm.'),
                 ('qemu', 'QEMU software emulation (TCG): slower, but works '
                          'where KVM does not, e.g. nested without VMX.')],
        help="""
Domain type of the guests this host runs.

All compute hosts a guest may live-migrate between must use the same type.
"""),
    cfg.StrOpt(
        'guest_console_dir',
        default='',
        help="""
Directory where each guest's serial console is written, as
``<instance uuid>.log``.

Empty (the default) means guests get no file console. Put it on storage that
every compute host sees at the same path: after a live migration the
destination QEMU appends to the same file, so the log continues.
"""),
    cfg.ListOpt(
        'hw_machine_type',
        default=[],
        item_type=types.String(
            regex=r'^[a-z0-9_]{1,32}=[a-z0-9][a-z0-9._-]{0,63}$'),
        help="""
Machine type of new guests, per architecture: ``ARCH=MACHINE_TYPE`` entries
separated by commas, for example ``x86_64=pc-i440fx-7.2``.

A guest keeps its machine type for life, and a QEMU can load only the types
it knows. Left empty, a guest gets ``pc``, which each QEMU resolves to its
own newest type (``pc-i440fx-10.0`` on QEMU 10.0): such a guest cannot
live-migrate to a host whose QEMU is older. During a rolling upgrade set a
versioned type that every compute host has (``virsh capabilities`` or
``qemu-system-x86_64 -machine help`` lists them). A guest whose instance
metadata sets ``hw_machine_type`` gets that type instead (this project's
stand-in for Nova's image property). Checked at start.
"""),
    cfg.StrOpt(
        'guest_bridge',
        default='',
        help="""
Linux bridge on this compute host that guests' NICs are plugged into.

A guest whose instance metadata sets ``net_ip`` (an IPv4 address with its
prefix, e.g. ``198.18.0.100/24``) gets a virtio NIC on this bridge
(libvirt ``<interface type='bridge'>``) and the address on its kernel
command line. Every compute host a guest may live-migrate between needs a
bridge of this name on the same L2 segment; after the move the destination
QEMU announces the guest (RARP) so the segment learns where it went.

Empty (the default) means no NICs: booting a guest with ``net_ip`` fails.
"""),
    cfg.StrOpt(
        'instances_path',
        default='/var/lib/nova/instances',
        help="""
Directory on the hypervisor host where instances' disk images live.

An instance with a root disk (instance metadata ``disk_mib``, a whole number
of MiB) gets a qcow2 image here, created through this host's libvirt daemon
in a ``dir`` storage pool named ``nova-instances`` (so the path is the one
QEMU sees, wherever the compute service runs). Local storage: a live
migration must then be a block migration (``block_migration`` true, or
``auto`` from API microversion 2.25), which creates the image on the
destination first and copies the disk before the memory. Shared storage:
mount the same NFS export (or another filesystem libvirt knows as shared)
at this path on every host; libvirt refuses to treat a local directory as
shared.
"""),
    cfg.StrOpt(
        'images_nfs_share',
        default='',
        help="""
An NFS export, ``HOST:/path``, where instances' root disks live instead of
``instances_path``, opened by QEMU itself over NFSv3 (libnfs, QEMU's
``block-nfs`` module: Debian package ``qemu-block-extra``), with no NFS
mount on the host.

The compute service creates each root image there with
``qemu-img create nfs://HOST/path/<uuid>-vda.qcow2`` and gives the guest a
network disk (``<disk type='network'><source protocol='nfs'>``). libvirt
counts such a disk as shared storage, so a live migration leaves it in place:
``block_migration`` false (or ``auto``) copies nothing, and the destination
creates no image. Set the same value on every compute host of a migration
pair; the export must allow root access (no root squash) from every host.
Deleting the instance deletes its image from the export (over NFS, with
libnfs, from the host where it runs); the clean-ups of a live migration
never do. Empty (the default): root disks are local files in
``instances_path``.
"""),
    cfg.StrOpt(
        'connection_uri',
        default='',
        help="""
URI of the libvirt daemon that this compute service manages.

An empty value means ``qemu:///system``, the local system daemon.

Possible values:

* An empty string, or any libvirt connection URI, for example
  ``qemu+unix:///system?socket=/run/libvirt/libvirt-sock``.
"""),
]

live_migration_opts = [
    cfg.StrOpt(
        'live_migration_scheme',
        help="""
Transport used to reach the destination libvirt daemon for live migration.

The driver builds ``qemu+<scheme>://<destination>/system`` from it, for
example ``qemu+tcp://compute-2/system``. When unset, ``tcp`` is used.

Related options:

* ``live_migration_uri``: if set, it wins over this option.
* ``live_migration_inbound_addr``: the host part of the built URI.
* ``live_migration_with_native_tls``: encrypts the data stream; this option
  (``tls``) encrypts the control connection.
"""),
    cfg.StrOpt(
        'live_migration_inbound_addr',
        help="""
Address (IP or host name) of this host that other compute hosts use to send
live-migration traffic to it.

When unset, the destination's compute host name is used. Set it to send
migrations over a dedicated migration network.

Related options:

* ``live_migration_tunnelled``: when not tunnelled, this address is also
  used for the migration data stream (``migrate_uri``).
"""),
    cfg.StrOpt(
        'live_migration_uri',
        deprecated_for_removal=True,
        deprecated_reason="""
Use live_migration_scheme and live_migration_inbound_addr, which also set the
address of the data stream.
""",
        help="""
Full URI of the destination libvirt daemon, with ``%s`` standing for the
destination host name, for example ``qemu+ssh://nova@%s/system``.

When set, it overrides ``live_migration_scheme`` and
``live_migration_inbound_addr`` for the control connection: ``%s`` is
always the destination's compute host name.
"""),
    cfg.BoolOpt(
        'live_migration_tunnelled',
        default=False,
        help="""
Send migration data through the libvirt daemons' own connection
(``VIR_MIGRATE_TUNNELLED``) instead of a direct QEMU-to-QEMU stream.

Tunnelling encrypts the stream when the libvirt connection is encrypted, but
costs CPU on both hosts and lowers the achievable bandwidth.

Related options:

* ``live_migration_permit_post_copy``: post-copy is never used for a
  tunnelled migration, because libvirt cannot tunnel it; the option is
  ignored (with a log line) while this option is true.
* ``live_migration_with_native_tls``: encrypts the stream without the
  tunnel's cost; the two cannot be set together.
"""),
    cfg.BoolOpt(
        'live_migration_with_native_tls',
        default=False,
        help="""
Encrypt the migration data stream with QEMU's own TLS (libvirt's
``VIR_MIGRATE_TLS`` flag).

Guest memory, device state and, for block migrations, disk contents then
travel from the source QEMU to the destination QEMU over TLS, with each side
checking the other's certificate. Unlike ``live_migration_tunnelled``, the
stream keeps its direct path, so post-copy, parallel connections and block
migration stay available.

Every compute host must be prepared first, or migrations fail at their start
(the guest stays on the source): a CA certificate, a server and a client
certificate with their keys in the directory ``qemu.conf`` names with
``migrate_tls_x509_cert_dir`` (by default ``default_tls_x509_cert_dir``,
``/etc/pki/qemu``: ``ca-cert.pem``, ``server-cert.pem``, ``server-key.pem``,
``client-cert.pem``, ``client-key.pem``). A server certificate must name
the address the source uses to reach the destination
(``live_migration_inbound_addr``, or the host name).

This option secures only the data stream. The control connection between
the libvirt daemons is chosen by ``live_migration_scheme``: set it to
``tls`` (libvirt's TLS port, 16514, with libvirt's own certificates in
``/etc/pki``) so that neither travels in clear; the driver warns at start
when this option is set and the control connection is plain ``tcp``.

Related options:

* ``live_migration_scheme``: ``tls`` for the control connection.
* ``live_migration_tunnelled``: must be false with this option (nova-compute
  refuses to start with both).
"""),
    cfg.IntOpt(
        'live_migration_bandwidth',
        default=0,
        min=0,
        help="""
Maximum bandwidth of one live migration, in MiB/s.

0 means no limit from Nova: the migration uses what the network gives. The
value is passed to libvirt as the ``bandwidth`` migration parameter, which
limits the pre-copy phase; once a migration has switched to post-copy, QEMU
sends the remaining pages without this limit.

Related options:

* ``live_migration_downtime``: a guest converges in pre-copy only if the data
  it dirties during the allowed downtime fits through this bandwidth.
"""),
    cfg.IntOpt(
        'live_migration_downtime',
        default=500,
        min=100,
        help="""
Maximum downtime, in milliseconds, the guest may be paused for the final
switch-over of a pre-copy live migration.

The driver raises the allowed downtime towards this value in
``live_migration_downtime_steps`` steps, one every
``live_migration_downtime_delay`` seconds per GiB of guest data. QEMU
completes the migration as soon as the memory left to copy can be sent within
the currently allowed downtime. Values below 100 ms are rejected: QEMU needs
some tens of milliseconds just to move the device state.

A memory pass that sets out to send more than 80% of the pass before it
does not wait for the ladder's clock: the allowed downtime goes at once to
the lowest step that can carry that pass (with a 10% margin), when one can.

Related options:

* ``live_migration_downtime_steps``, ``live_migration_downtime_delay``.
"""),
    cfg.IntOpt(
        'live_migration_downtime_steps',
        default=10,
        min=1,
        help="""
Number of steps in which the allowed downtime rises to
``live_migration_downtime``.

The first step allows ``live_migration_downtime / steps`` milliseconds; each
later step adds an equal share until the last one allows the full value.
1 allows the full value from the start (a fixed downtime, as QEMU's own
300 ms default when nothing sets it).

Related options:

* ``live_migration_downtime_schedule``: whether the steps come with time
  or with memory passes that did not shrink.
"""),
    cfg.StrOpt(
        'live_migration_downtime_schedule',
        default='time',
        choices=[
            ('time', 'Step up the allowed downtime every '
                     '``live_migration_downtime_delay`` seconds per GiB.'),
            ('stalled-passes', 'Step up the allowed downtime once per '
                               'memory pass that sets out to send less '
                               'than 10% less than the pass before it; '
                               'once the last step has seen one more such '
                               'pass, take ``live_migration_timeout_action``'
                               ' (a convergence schedule, as oVirt\'s '
                               'migration policies have).'),
        ],
        help="""
What moves the allowed downtime up the ladder of
``live_migration_downtime_steps`` steps.

With ``time`` (the default) the ladder is a clock: a guest that would
converge with a larger downtime waits for it, and a guest that converges by
itself is never given more. With ``stalled-passes`` the ladder follows the
migration: a step only when a memory pass did not shrink, so a migration
that makes progress keeps the smallest downtime, and one that stalls gets
the next step one pass later. When the top step has not helped either (one
more stalled pass), the migration has run out of schedule and
``live_migration_timeout_action`` is taken, as at a timeout: abort, or
force completion (post-copy where permitted, else pause the guest).
``live_migration_downtime_delay`` is not used then.

Related options:

* ``live_migration_downtime``, ``live_migration_downtime_steps``: the
  ladder's top and number of steps.
* ``live_migration_timeout_action``: what happens at the end of the
  schedule.
"""),
    cfg.IntOpt(
        'live_migration_downtime_delay',
        default=75,
        min=3,
        help="""
Time between two downtime steps, in seconds per GiB of guest data.

The delay is multiplied by the guest's RAM plus the disk data that moves with
it, in GiB (RAM counts as at least 2 GiB), so a large guest gets more time in
each step. For a 4 GiB guest without block migration the default gives one
step every 300 seconds.
"""),
    cfg.IntOpt(
        'live_migration_completion_timeout',
        default=800,
        min=0,
        mutable=True,
        help="""
Time, in seconds per GiB of guest data, a live migration may run before
``live_migration_timeout_action`` is taken.

The limit is this value multiplied by the guest's RAM plus the disk data that
moves with it, in GiB (RAM counts as at least 2 GiB). With the default, a
4 GiB guest gets 3200 seconds. Once a migration has switched to post-copy it
is never aborted: the guest already runs on the destination.

Possible values:

* 0: no timeout; the migration runs until it completes or an operator
  aborts or force-completes it.
* A positive integer: seconds per GiB.

Related options:

* ``live_migration_timeout_action``: what happens at the timeout.
* ``live_migration_progress_timeout``: reacts earlier to a stalled
  migration.
"""),
    cfg.StrOpt(
        'live_migration_timeout_action',
        default='abort',
        choices=[
            ('abort', 'Cancel the migration; the guest keeps running on the '
                      'source host.'),
            ('force_complete', 'Complete the migration: switch it to '
                               'post-copy when post-copy is permitted and '
                               'available, otherwise pause the guest until '
                               'the remaining memory is copied.'),
        ],
        mutable=True,
        help="""
What the driver does when a live migration hits
``live_migration_completion_timeout`` or
``live_migration_progress_timeout``.

Related options:

* ``live_migration_permit_post_copy``: decides whether ``force_complete``
  switches to post-copy or pauses the guest.
"""),
    cfg.IntOpt(
        'live_migration_progress_timeout',
        default=0,
        min=0,
        mutable=True,
        help="""
Time, in seconds, a live migration may go without progress before
``live_migration_timeout_action`` is taken.

Progress is not judged on the raw "data remaining": at the start of every
pre-copy pass QEMU re-reads which pages the guest dirtied, so that figure
jumps up at each new pass and falls to almost nothing by its end, whether
the migration converges or not. The driver judges instead what would be left
to send if the guest stopped now::

    pending = data remaining + dirty rate x time since the pass began

This is continuous across passes (what one pass leaves dirty is what the
next sets out to send) and it is what QEMU compares with the allowed downtime
to decide that it can finish. The migration progresses when pending falls at
least 2% below its level at the last progress. Until libvirt reports a dirty
rate (QEMU measures it from the second pass on) pending is the data
remaining; when the first dirty rate arrives, the second pass counts as
progress if it sets out to send at least 10% less than the first. If there is
no progress for this many seconds, the migration is stalled.

Samples taken while QEMU still sets the migration up (it reports no data
then) do not count: the clock of progress starts with the first real data,
so a migration copying at full speed is never "stalled" during its first
pass.

Upstream Nova deprecated its own progress timeout (Stein) and disabled it by
default because it read raw "data remaining" and aborted healthy migrations
at pass boundaries; this one measures progress as above and stays, off by
default.

Possible values:

* 0: off (the default).
* A positive integer: seconds without progress.

Related options:

* ``live_migration_permit_post_copy``: when permitted, a stalled migration
  switches to post-copy automatically, usually long before this timeout.
"""),
    cfg.IntOpt(
        'live_migration_monitor_interval',
        default=5,
        min=1,
        mutable=True,
        help="""
How often, in seconds, a running live migration's statistics are written
out: the Migration record's memory and disk counters (what
``nova server-migration-show`` reports), the instance's progress, and a
progress line in the compute log.

The monitor still polls libvirt twice a second and acts on what it sees at
once; this only sets how often the numbers are saved. A status change (the
switch to post-copy) is saved immediately. Lower values give fresher numbers
in the API at the cost of more database writes per migration.
"""),
    cfg.BoolOpt(
        'live_migration_permit_post_copy',
        default=False,
        help="""
Permit live migrations to switch to post-copy mode.

In post-copy the guest stops on the source, its device state moves, and it
resumes at once on the destination; memory pages it has not received yet are
fetched from the source on first access while the rest are pushed in the
background. A migration in post-copy always completes, in a time bounded by
the guest's RAM divided by the bandwidth, and the guest is paused only for the
device-state switch.

When permitted, the migration is started with ``VIR_MIGRATE_POSTCOPY`` but
begins in ordinary pre-copy. The driver switches it to post-copy (which of
these apply is ``live_migration_post_copy_start``):

* automatically, as soon as pre-copy is predicted to take longer than
  post-copy: from the second memory pass on, when a pass sets out to send
  more than 80% of the pass before it (seen at two polls; the second pass
  compares with the first, so a guest that dirtied more than a fifth of
  its RAM during the first pass switches in its second pass) and the
  largest allowed downtime (``live_migration_downtime``) cannot carry that
  pass; or when two passes in a row set out to send less than 10% less data
  than the pass before them; or when libvirt reports a memory dirty rate of
  90% of the transfer rate or more at two polls in a row (each pass re-sends
  what the guest dirtied during the last one); never while the link looks
  down (less than 256 KiB moved in the last second, or the rate fell below
  half its best of the last 30 seconds). The guest pays for the shorter
  migration with page faults while in post-copy (see the migration
  benchmark in the admin guide);
* when an operator calls the ``live-migration-force-complete`` API;
* at ``live_migration_completion_timeout`` or
  ``live_migration_progress_timeout`` when
  ``live_migration_timeout_action`` is ``force_complete``.

``live_migration_bandwidth`` also caps the post-copy phase (libvirt's
``bandwidth.postcopy`` parameter). Ignored for tunnelled migrations
(``live_migration_tunnelled``). Every host the driver supports (libvirt 8.0,
QEMU 6.2 or newer) has post-copy.

Risk: once in post-copy the guest's memory is split between the two hosts.
If the network between them fails before the copy ends, the guest stops
until the migration is resumed (automatically with libvirt 8.5 and QEMU 3.0
or newer: see ``live_migration_postcopy_recovery_timeout``); if either host
fails, the guest is lost. Guest performance also drops while pages are
fetched over the network.

Related options:

* ``live_migration_permit_auto_converge``: when both are permitted and
  post-copy is available, post-copy is used and auto-converge is not
  requested.
* ``live_migration_post_copy_start``: when the switch may happen.
"""),
    cfg.StrOpt(
        'live_migration_post_copy_start',
        default='automatic',
        choices=[
            ('automatic', 'Switch as soon as pre-copy stops making progress '
                          '(the blueprint\'s behaviour), at the completion '
                          'or progress timeout when the timeout action is '
                          'force_complete, and on the operator\'s '
                          'force-complete.'),
            ('timeout', 'Never switch on stalled progress alone: only at '
                        'the timeouts when the timeout action is '
                        'force_complete, and on the operator\'s '
                        'force-complete (upstream Nova\'s behaviour).'),
            ('operator', 'Only the operator\'s force-complete switches to '
                         'post-copy; the force_complete timeout action '
                         'pauses the guest instead.'),
        ],
        mutable=True,
        help="""
When a migration permitted to use post-copy
(``live_migration_permit_post_copy``) switches to it.

How it combines with ``live_migration_timeout_action`` at
``live_migration_completion_timeout`` (or ``live_migration_progress_timeout``):

=========== ============================== ==============================
start       timeout_action = abort         timeout_action = force_complete
=========== ============================== ==============================
automatic   switch when stalled; abort at  switch when stalled; switch at
            the timeout if still pre-copy  the timeout if still pre-copy
timeout     no switch on a stall; abort at switch at the timeout
            the timeout
operator    no switch on a stall; abort at no switch on a stall; pause the
            the timeout                    guest at the timeout
=========== ============================== ==============================

In every case the operator's ``live-migration-force-complete`` switches to
post-copy, and a migration in post-copy is never aborted or timed out.
Without ``live_migration_permit_post_copy`` this option does nothing.

Related options:

* ``live_migration_permit_post_copy``, ``live_migration_timeout_action``.
"""),
    cfg.IntOpt(
        'live_migration_postcopy_recovery_timeout',
        default=600,
        min=0,
        mutable=True,
        help="""
How long, in seconds, the compute service keeps trying to resume a
post-copy live migration whose network stream broke.

When the connection between the hosts fails during post-copy, the guest
cannot run on either host until the copy finishes: its vCPUs are on the
destination, part of its memory on the source. The monitor then records the
migration as ``running (post-copy paused)`` and tries to resume it
(``VIR_MIGRATE_POSTCOPY_RESUME``) after 1, 2, 4, ... seconds, at most
``live_migration_postcopy_resume_max_interval`` apart, until it completes or
this time has passed. If it has not recovered by then, the migration is set
to ``error`` and the server to ``ERROR``, an ERROR line in the compute log
gives the command that resumes it by hand, and nothing is destroyed on
either host.

0 disables automatic recovery: a broken post-copy migration goes straight to
``error`` with that log line.

Requires libvirt 8.5.0 and QEMU 3.0.0 or newer; on older hosts a broken
post-copy migration cannot be resumed and an INFO line says so at start-up.
"""),
    cfg.IntOpt(
        'live_migration_postcopy_resume_max_interval',
        default=30,
        min=1,
        mutable=True,
        help="""
Longest wait, in seconds, between two attempts to resume a broken post-copy
live migration.

Attempts start 1 second after the break and the wait doubles after each
failed attempt up to this value.
"""),
    cfg.IntOpt(
        'live_migration_postcopy_stall_timeout',
        default=10,
        min=0,
        mutable=True,
        help="""
Seconds without any data moving after which a post-copy live migration is
treated as broken and paused, so that recovery can start.

A cut network does not break the connection at once: QEMU waits on a stalled
stream, and libvirt only gives up on the destination when its keepalive
times out (about 30 seconds with libvirt's defaults). Pausing the stream
earlier (QEMU ``migrate-pause``) starts recovery sooner, but only once the
destination's libvirt answers again: a stream paused while the network
still drops packets is paused on the source only, and the destination
refuses the resume until its own TCP gives up, minutes later. 0 leaves
detection to libvirt alone.
"""),
    cfg.BoolOpt(
        'live_migration_permit_auto_converge',
        default=False,
        help="""
Permit QEMU to slow the guest down so that a live migration converges
(``VIR_MIGRATE_AUTO_CONVERGE``).

When the guest dirties memory faster than the migration sends it, QEMU
throttles the guest's vCPUs: first to 20% of their time taken away, then 10%
more at each further check, up to 99%. A guest that dirties memory in
proportion to the CPU it gets then converges, at the cost of running slower
for the rest of the migration. A guest whose dirtying is not CPU-bound (for
example DMA from devices) may still not converge.

Every host the driver supports (libvirt 8.0, QEMU 6.2 or newer) has
auto-converge.

Related options:

* ``live_migration_permit_post_copy``: post-copy wins when both are
  permitted; auto-converge is then used only where post-copy is not
  (tunnelled migrations).
"""),
    cfg.IntOpt(
        'live_migration_parallel_connections',
        default=1,
        min=1,
        max=64,
        help="""
Number of network connections a live migration sends guest memory over.

1 (the default) is the classic single stream. Above 1, the migration uses
QEMU's multifd (``VIR_MIGRATE_PARALLEL`` with that many connections): each
connection has its own sending thread, so a host whose single migration
thread cannot fill the link (fast networks, TLS) moves memory faster. Each
connection can keep a host CPU busy while the migration runs; plan for that
CPU on both hosts. One connection per 10 Gbit/s of link is a sensible start.

Not used, with an INFO line saying why, when:

* ``live_migration_tunnelled`` is set (libvirt cannot tunnel parallel
  connections);
* ``live_migration_permit_post_copy`` is set, post-copy is available, and
  QEMU is older than 10.1.0, which cannot combine multifd with post-copy.
  Post-copy is kept, because it is what lets a busy guest finish.

Related options:

* ``live_migration_bandwidth`` caps the migration as a whole, not each
  connection.
"""),
]

ALL_OPTS = connection_opts + live_migration_opts


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: oslo.config keeps overrides in the
    # group object, so sharing one would leak them between configurations
    # (the benchmark and tools build several).
    group = cfg.OptGroup(libvirt_group.name, title=libvirt_group.title,
                         help=libvirt_group.help)
    conf.register_group(group)
    conf.register_opts(ALL_OPTS, group=group)


def list_opts():
    return {libvirt_group: ALL_OPTS}
