"""The lab matrix: real QEMU guests small enough for the two-host lab.

The lab (tools/lab) runs QEMU under TCG on a 2-core machine: a guest takes
about 8 s to boot, and each migration keeps both cores busy. The matrix is
therefore a list of *cells* (guest RAM, bandwidth cap, dirty rate / cap),
each with the strategies worth running on it, chosen so the whole matrix
takes about ten minutes:

* guests dirtying at 1.5 times the cap cannot converge by pre-copy alone,
  so every strategy is run on them: this is where the strategies differ;
* guests dirtying at half the cap converge with any strategy, so only the
  defaults, auto-converge and post-copy are run, to check the model's
  pre-copy passes and that nothing acts needlessly.

The lab link is a veth pair, far faster than any cap: the cap is
``live_migration_bandwidth``, the link is ``LINK_MIB_S`` (QEMU lifts the
cap for the final copy and post-copy). A short completion timeout keeps
runs that cannot converge to tens of seconds.
"""

import dataclasses
from typing import Tuple

from nova.bench import matrix

MiB = matrix.MiB

# The veth pair between the two lab hosts (the model's link).
LINK_MIB_S = 1000
# Share of RAM the guest program rewrites, as in the simulated matrix.
WORKING_SET = matrix.DEFAULT_WORKING_SET
# Non-zero memory of an idle lab guest besides the program's area (kernel,
# initramfs, page tables), in MiB: memory_normal_bytes of idle migrations
# minus the area (256 MiB from tools/lab/model_vs_lab.py; 512 and 1024 MiB
# measured the same way). QEMU sends zero pages as a few header bytes, so
# this, not RAM, is what the first pass sends.
BASE_RESIDENT_MIB = {256: 46, 512: 75, 1024: 83}

# [libvirt] options of every lab run (the set-up, not a strategy): a
# timeout of 12 s/GiB (lab guests count as 2 GiB: 24 s) and a downtime
# rung every 3 s/GiB (6 s), so the ladder moves within the short runs.
COMPLETION_TIMEOUT = 12
DOWNTIME_DELAY = 3
LAB_OPTIONS = (('live_migration_completion_timeout', COMPLETION_TIMEOUT),
               ('live_migration_downtime_delay', DOWNTIME_DELAY))

# The six strategies the lab was built for (the peers run only simulated).
EVERY_STRATEGY = ('defaults', 'auto-converge', 'post-copy',
                  'post-copy+auto-converge', 'timeout-force-complete',
                  'operator-force-complete')
CONVERGING = ('defaults', 'auto-converge', 'post-copy')


@dataclasses.dataclass(frozen=True)
class Cell(object):
    """One lab guest and cap, and the strategies run on it."""

    ram_mib: int
    cap_mib_s: int
    dirty_ratio: float
    strategies: Tuple[str, ...]


CELLS = (
    Cell(256, 32, 1.5, EVERY_STRATEGY),
    Cell(512, 64, 1.5, tuple(n for n in EVERY_STRATEGY
                             if n != 'operator-force-complete')),
    Cell(1024, 64, 1.5, tuple(n for n in EVERY_STRATEGY
                              if n != 'operator-force-complete')),
    Cell(256, 16, 0.5, CONVERGING),
    Cell(512, 32, 0.5, CONVERGING),
    Cell(1024, 64, 0.5, CONVERGING),
)

# Timelines are drawn for every strategy on this workload.
TIMELINE_WORKLOAD = '256MiB-x1.5-32MiBps'


def resident_mib(ram_mib, working_set_mib):
    """Non-zero memory of a lab guest whose program has this area."""
    sizes = sorted(BASE_RESIDENT_MIB)
    base = BASE_RESIDENT_MIB.get(ram_mib)
    if base is None:
        # Between or beyond the measured sizes: the nearest one.
        base = BASE_RESIDENT_MIB[min(sizes, key=lambda s: abs(s - ram_mib))]
    return min(base + working_set_mib, ram_mib)


def workload(ram_mib, cap_mib_s, dirty_ratio, working_set=WORKING_SET):
    """The WorkloadSpec of a lab guest (the model's input as well).

    ``gbit`` is the cap expressed in Gbit/s so the floor (RAM / cap) and
    every rate follow from it; the dirty rate and the program's area are
    whole MiB, as the guest's kernel command line takes them.
    """
    area = int(ram_mib * working_set)
    rate = dirty_ratio * cap_mib_s
    if rate != int(rate):
        raise ValueError('dirty rate %g MiB/s is not a whole number' % rate)
    return matrix.WorkloadSpec(
        ram_gib=ram_mib / 1024.0, dirty_ratio=dirty_ratio,
        gbit=cap_mib_s * MiB / matrix.GBIT_BYTES,
        working_set=area / float(ram_mib),
        label='%dMiB-x%g-%dMiBps' % (ram_mib, dirty_ratio, cap_mib_s),
        resident_mib=resident_mib(ram_mib, area),
        link_gbit=LINK_MIB_S * MiB / matrix.GBIT_BYTES,
        options=(('live_migration_bandwidth', int(cap_mib_s)),) +
        LAB_OPTIONS)


def cap_mib_s(spec):
    return int(round(spec.bandwidth / MiB))


def dirty_mib_s(spec):
    return int(round(spec.dirty_rate / MiB))


def guest_metadata(spec):
    """Instance metadata that makes the lab guest's program do ``spec``."""
    return {'dirty_mib': str(int(round(spec.working_set_bytes / MiB))),
            'dirty_rate': str(dirty_mib_s(spec))}


def pairs(cells=CELLS, strategies=None):
    """(Strategy, WorkloadSpec) of every lab run, cell by cell.

    ``strategies``: names to keep (all when empty).
    """
    known = {s.name: s for s in matrix.STRATEGIES}
    out = []
    for cell in cells:
        spec = workload(cell.ram_mib, cell.cap_mib_s, cell.dirty_ratio)
        for name in cell.strategies:
            if strategies and name not in strategies:
                continue
            out.append((known[name], spec))
    return out


# The blackout table (``nova-migration-bench lab --blackout-set``): one
# run of each way a migration completes, on the smallest guest: pre-copy
# where it converges, the others where pre-copy alone cannot finish.
BLACKOUT_PAIRS = (('defaults', '256MiB-x0.5-16MiBps'),
                  ('auto-converge', '256MiB-x1.5-32MiBps'),
                  ('post-copy', '256MiB-x1.5-32MiBps'),
                  ('operator-force-complete', '256MiB-x1.5-32MiBps'))


def blackout_pairs(all_pairs=None):
    """The (Strategy, WorkloadSpec) pairs of ``BLACKOUT_PAIRS``."""
    found = {(s.name, spec.name): (s, spec)
             for s, spec in (all_pairs or pairs())}
    return [found[key] for key in BLACKOUT_PAIRS]


def find_cell_pairs(all_pairs, workload_names):
    """The pairs whose workload is named (all when empty)."""
    if not workload_names:
        return list(all_pairs)
    known = {spec.name for _s, spec in all_pairs}
    unknown = [n for n in workload_names if n not in known]
    if unknown:
        raise ValueError('unknown lab workload %s (known: %s)' % (
            ', '.join(unknown), ', '.join(sorted(known))))
    return [(s, spec) for s, spec in all_pairs
            if spec.name in workload_names]
