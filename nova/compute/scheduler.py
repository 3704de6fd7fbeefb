"""Where a server goes: pure choices over plain host facts.

A ``HostState`` is what the API knows about one compute host; the
functions pick one or say why none fits. No I/O here.
"""

import dataclasses
from typing import Optional


@dataclasses.dataclass
class HostState(object):
    host: str
    node: Optional[str]
    up: bool
    disabled: bool
    memory_mb: int          # the hypervisor's RAM
    vcpus: int
    instances: int = 0      # live instances placed on it
    memory_mb_used: int = 0  # RAM of those instances

    @property
    def free_ram_mb(self):
        return self.memory_mb - self.memory_mb_used


def unsuitable_reason(state, memory_mb):
    """Why ``state`` cannot take a guest of ``memory_mb``, or None."""
    if state.disabled:
        return 'compute service of host %s is disabled' % state.host
    if not state.up:
        return 'compute service of host %s is down' % state.host
    if state.node is None:
        return 'host %s has not reported its resources yet' % state.host
    if memory_mb > state.free_ram_mb:
        return ('host %s has %d MiB of RAM free, %d MiB needed'
                % (state.host, state.free_ram_mb, memory_mb))
    return None


def pick_host(states, memory_mb, exclude=()):
    """The least-loaded suitable host, or None.

    Least loaded: fewest instances, then most free RAM, then name (so the
    choice is stable).
    """
    fits = [s for s in states if s.host not in exclude and
            unsuitable_reason(s, memory_mb) is None]
    if not fits:
        return None
    return min(fits, key=lambda s: (s.instances, -s.free_ram_mb, s.host))


def no_host_reason(states, memory_mb, exclude=()):
    """A one-line explanation for NoValidHost."""
    reasons = [unsuitable_reason(s, memory_mb) for s in states
               if s.host not in exclude]
    reasons = [r for r in reasons if r]
    if not reasons:
        return 'There are not enough hosts available.'
    return 'There are not enough hosts available: %s.' % '; '.join(reasons)
