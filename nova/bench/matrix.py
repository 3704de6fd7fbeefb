"""What the benchmark runs: completion strategies and guest workloads.

A strategy is a set of ``[libvirt]`` option overrides (nothing more: the
driver reads them the way it does in production) plus, optionally, an
operator's ``live-migration-force-complete`` call at a given time. A
workload is a guest (RAM, working set, dirty rate over time) and the link
it migrates over. Add a strategy by appending to ``STRATEGIES``.
"""

import dataclasses
from typing import Optional, Tuple

GiB = 1024 ** 3
MiB = 1024 ** 2
# Network links are sold in decimal bits: 1 Gbit/s = 10^9 bit/s.
GBIT_BYTES = 1e9 / 8

# The matrix of issue 5.
RAM_GIB = (1, 4, 16, 64)
DIRTY_RATIOS = (0.1, 0.5, 0.9, 1.5, 3.0)
LINK_GBIT = (1, 10, 25)

# Share of RAM the guest keeps rewriting (see WorkloadSpec).
DEFAULT_WORKING_SET = 0.25

# The operator's force-complete comes this many floor times after start.
OPERATOR_AT_FLOORS = 2.0


@dataclasses.dataclass(frozen=True)
class Strategy(object):
    """A completion policy: nova.conf overrides and operator behaviour."""

    name: str
    description: str
    options: Tuple[Tuple[str, object], ...] = ()
    # Call live_migration_force_complete this many floor times after the
    # job began (None: the operator does nothing).
    operator_force_complete_at: Optional[float] = None

    def option(self, name, default=None):
        for key, value in self.options:
            if key == name:
                return value
        return default


STRATEGIES = (
    Strategy('defaults',
             'nova.conf as shipped: pre-copy, downtime steps, abort at the '
             'completion timeout'),
    Strategy('auto-converge',
             'live_migration_permit_auto_converge = True',
             (('live_migration_permit_auto_converge', True),)),
    Strategy('post-copy',
             'live_migration_permit_post_copy = True (automatic switch)',
             (('live_migration_permit_post_copy', True),)),
    Strategy('post-copy+auto-converge',
             'both permitted (post-copy wins, auto-converge is not '
             'requested)',
             (('live_migration_permit_post_copy', True),
              ('live_migration_permit_auto_converge', True))),
    Strategy('timeout-force-complete',
             'live_migration_timeout_action = force_complete (pauses the '
             'guest at the completion timeout)',
             (('live_migration_timeout_action', 'force_complete'),)),
    Strategy('operator-force-complete',
             'defaults, and the operator calls force-complete %g floor '
             'times after the start (pauses the guest)'
             % OPERATOR_AT_FLOORS,
             operator_force_complete_at=OPERATOR_AT_FLOORS),
)


# The strategy the project recommends (the one the targets are about).
RECOMMENDED = 'post-copy'

_NOVA_TODAY = (('live_migration_permit_post_copy', True),
               ('live_migration_post_copy_start', 'timeout'),
               ('live_migration_timeout_action', 'force_complete'))
_KUBEVIRT = (('live_migration_permit_post_copy', True),
             ('live_migration_post_copy_start', 'timeout'),
             ('live_migration_timeout_action', 'force_complete'),
             ('live_migration_completion_timeout', 150),
             ('live_migration_downtime', 300),
             ('live_migration_downtime_steps', 1))
_OVIRT = (('live_migration_downtime_schedule', 'stalled-passes'),
          ('live_migration_downtime', 500),
          ('live_migration_downtime_steps', 5),
          ('live_migration_completion_timeout', 64))

# Other projects' policies, expressed through this driver's options (see
# the benchmark page for how each maps and what differs).
PEERS = (
    Strategy('nova-today',
             'upstream Nova: post-copy permitted, no automatic switch; the '
             'completion timeout forces completion (post-copy)',
             _NOVA_TODAY),
    Strategy('nova-today+operator',
             'upstream Nova, and an operator calls force-complete %g floor '
             'times after the start (post-copy)' % OPERATOR_AT_FLOORS,
             _NOVA_TODAY, operator_force_complete_at=OPERATOR_AT_FLOORS),
    Strategy('kubevirt',
             'KubeVirt: downtime left at 300 ms, 150 s per GiB then '
             'post-copy, 64 MiB/s per migration',
             _KUBEVIRT + (('live_migration_bandwidth', 64),)),
    Strategy('kubevirt-uncapped',
             'KubeVirt without its bandwidth cap', _KUBEVIRT),
    Strategy('ovirt-post-copy',
             'oVirt "post-copy": downtime 100 to 500 ms stepped on stalled '
             'passes, then post-copy (64 s per GiB at most)',
             _OVIRT + (('live_migration_permit_post_copy', True),
                       ('live_migration_post_copy_start', 'timeout'),
                       ('live_migration_timeout_action', 'force_complete'))),
    Strategy('ovirt-suspend',
             'oVirt "suspend workload if needed": the same schedule, then '
             'the guest is paused until the rest is copied',
             _OVIRT + (('live_migration_timeout_action', 'force_complete'),)),
    Strategy('ovirt-minimal-downtime',
             'oVirt "minimal downtime": the same schedule, then abort',
             _OVIRT + (('live_migration_timeout_action', 'abort'),)),
)

ALL_STRATEGIES = STRATEGIES + PEERS


def strategies_named(names):
    """The strategies in ``names`` (all when empty), in matrix order."""
    if not names:
        return ALL_STRATEGIES
    known = {s.name: s for s in ALL_STRATEGIES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError('unknown strategy %s (known: %s)' % (
            ', '.join(unknown), ', '.join(known)))
    return tuple(s for s in ALL_STRATEGIES if s.name in names)


@dataclasses.dataclass(frozen=True)
class WorkloadSpec(object):
    """One guest and link.

    The guest rewrites a *working set* of ``working_set`` x RAM at
    ``dirty_ratio`` x link bandwidth (rewriting a page that is already dirty
    adds nothing to send). ``phases`` overrides the steady ratio: a tuple
    of (until, dirty ratio) with ``until`` in floor times since the start.
    The guest is CPU-bound: auto-converge's throttle slows its dirtying.

    Three fields describe guests and links that are not the simulated
    matrix's (the lab's, see ``nova.bench.lab_matrix``): ``resident_mib``
    is the part of RAM that is not zero pages (QEMU sends a zero page as a
    few header bytes; None: all of it); ``link_gbit``, when set, is the
    physical link and ``gbit`` only the rate cap (``options`` then sets
    ``live_migration_bandwidth``; QEMU lifts the cap for the final copy and
    post-copy); ``options`` are ``[libvirt]`` overrides that belong to the
    set-up, not to a strategy (cap, timeouts).
    """

    ram_gib: float
    dirty_ratio: float
    gbit: float
    working_set: float = DEFAULT_WORKING_SET
    phases: Optional[Tuple[Tuple[float, float], ...]] = None
    label: str = ''
    resident_mib: Optional[float] = None
    link_gbit: Optional[float] = None
    options: Tuple[Tuple[str, object], ...] = ()
    # The benchmark gives up on a run after this many floor times (None:
    # twice the completion timeout); a run that has not finished by then
    # is no rival for a strategy that finishes in under two.
    cap_floors: Optional[float] = None

    @property
    def name(self):
        if self.label:
            return self.label
        return '%gGiB-x%g-%gGbit' % (self.ram_gib, self.dirty_ratio,
                                     self.gbit)

    @property
    def ram_bytes(self):
        return int(self.ram_gib * GiB)

    @property
    def memory_mib(self):
        return int(self.ram_gib * 1024)

    @property
    def bandwidth(self):
        """Link bandwidth in bytes/s."""
        return self.gbit * GBIT_BYTES

    @property
    def floor_s(self):
        """The physical floor: every byte of RAM sent once."""
        return self.ram_bytes / self.bandwidth

    @property
    def link_bandwidth(self):
        """The physical link in bytes/s (the cap unless ``link_gbit``)."""
        return (self.link_gbit or self.gbit) * GBIT_BYTES

    @property
    def resident_bytes(self):
        if self.resident_mib is None:
            return None
        return int(self.resident_mib * MiB)

    @property
    def dirty_rate(self):
        return self.dirty_ratio * self.bandwidth

    @property
    def working_set_bytes(self):
        return int(self.ram_bytes * self.working_set)

    def model_phases(self):
        """``phases`` as the migration model takes them (s, bytes/s)."""
        if not self.phases:
            return None
        return [(until * self.floor_s, ratio * self.bandwidth)
                for until, ratio in self.phases]


# Quiet (10% of the link) for the first 3/4 of the first pass, then a burst
# at 1.5x the link until 10 floor times, then quiet again.
PHASED = ((0.75, 0.1), (10.0, 1.5), (1e9, 0.1))


def phased_workload(working_set=DEFAULT_WORKING_SET):
    return WorkloadSpec(16, 1.5, 10, working_set=working_set, phases=PHASED,
                        label='16GiB-phased-10Gbit')


def default_matrix(working_set=DEFAULT_WORKING_SET):
    """Issue 5's 4 x 5 x 3 matrix plus the phased workload."""
    specs = [WorkloadSpec(ram, ratio, gbit, working_set=working_set)
             for ram in RAM_GIB for gbit in LINK_GBIT
             for ratio in DIRTY_RATIOS]
    specs.append(phased_workload(working_set))
    return specs


# Issue 11 item 5, added after the policy was tuned on default_matrix.
WIDE_RAM_GIB = (128, 256)
WIDE_LINK_GBIT = 100
WIDE_WORKING_SETS = (0.05, 0.75)
WIDE_CAP_FLOORS = 20.0
# Quiet for half a floor, then three bursts at 3x the link, half a floor
# each, separated by half a floor of quiet.
BURSTS = ((0.5, 0.1), (1.0, 3.0), (1.5, 0.1), (2.0, 3.0), (2.5, 0.1),
          (3.0, 3.0), (1e9, 0.1))


def wider_matrix():
    """The wider rows: big guests, a 100 Gbit/s link, other working sets
    and a guest whose dirty rate bursts. Runs give up after
    ``WIDE_CAP_FLOORS`` floors (a 256 GiB guest's completion timeout is
    57 hours of virtual time).
    """
    cap = WIDE_CAP_FLOORS
    specs = [WorkloadSpec(ram, ratio, gbit, cap_floors=cap)
             for ram in WIDE_RAM_GIB for gbit in (10, WIDE_LINK_GBIT)
             for ratio in (0.1, 0.5, 0.9, 3.0)]
    specs += [WorkloadSpec(ram, ratio, WIDE_LINK_GBIT, cap_floors=cap)
              for ram in (1, 4, 16, 64) for ratio in (0.1, 0.5, 0.9, 3.0)]
    specs += [WorkloadSpec(16, ratio, 10, working_set=ws, cap_floors=cap,
                           label='16GiB-x%g-10Gbit-ws%g' % (ratio, ws))
              for ws in WIDE_WORKING_SETS for ratio in (0.1, 0.5, 0.9, 3.0)]
    specs += [WorkloadSpec(ram, 3.0, gbit, phases=BURSTS, cap_floors=cap,
                           label='%dGiB-bursts-%dGbit' % (ram, gbit))
              for ram, gbit in ((4, 10), (16, 10), (64, 25))]
    return specs


def quick_matrix(working_set=DEFAULT_WORKING_SET):
    """A small matrix for smoke runs: 1 and 4 GiB at 10 Gbit/s."""
    specs = [WorkloadSpec(ram, ratio, 10, working_set=working_set)
             for ram in (1, 4) for ratio in DIRTY_RATIOS]
    specs.append(phased_workload(working_set))
    return specs


def find_workload(specs, name):
    for spec in specs:
        if spec.name == name:
            return spec
    raise ValueError('no workload %r in the matrix' % name)
