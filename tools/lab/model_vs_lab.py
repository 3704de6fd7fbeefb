"""Put the lab's real migrations beside the model's prediction.

Reads the JSON lines the functional tests write ($NOVA_LAB_RESULTS), runs
each case through the same driver code on the simulated hypervisor with
the same guest, caps and options, and prints a Markdown table: lab / model
(ratio lab / model), the same cells as ``nova-migration-bench lab``
(``nova.bench.compare``).

    NOVA_LAB_RESULTS=/tmp/lab.jsonl tox -e functional
    python tools/lab/model_vs_lab.py /tmp/lab.jsonl
"""

import json
import sys

from oslo_config import cfg

from nova.bench import compare
from nova.bench import report
from nova.bench import scenario
from nova.bench import simulated
import nova.conf
from nova.virt.libvirt import guest as libvirt_guest

# The lab guests: 256 MiB RAM of which ~110 MiB is not zero pages (kernel,
# initramfs, the program's area), the dirtier's area and rate, the caps and
# options of each functional test. The veth link itself is far faster
# than any cap (QEMU uses it uncapped for the final copy and post-copy).
LINK = 1000
_BUSY = dict(memory_mib=256, resident_mib=110, working_set_mib=64,
             dirty_mib_s=60, link_mib_s=LINK)
_BUSY_CAP = {'live_migration_bandwidth': 32}
_LIGHT = dict(memory_mib=256, resident_mib=110, working_set_mib=32,
              link_mib_s=LINK)
_LIGHT_CAP = {'live_migration_bandwidth': 16}


def _force(ctx):
    ctx['driver'].live_migration_force_complete(ctx['instance'])


def _abort(ctx):
    ctx['driver'].live_migration_abort(ctx['instance'])


CASES = {
    'idle': (dict(memory_mib=256, resident_mib=110, dirty_mib_s=0,
                  working_set_mib=64, link_mib_s=LINK),
             {'live_migration_bandwidth': 100}),
    'busy, nothing permitted': (
        _BUSY, dict(_BUSY_CAP, live_migration_completion_timeout=8)),
    'busy, auto-converge': (
        _BUSY, dict(_BUSY_CAP, live_migration_permit_auto_converge=True)),
    'busy, post-copy': (
        _BUSY, dict(_BUSY_CAP, live_migration_permit_post_copy=True)),
    'force-complete, post-copy': (
        dict(_LIGHT, dirty_mib_s=4, at=[(2.0, _force)]),
        dict(_LIGHT_CAP, live_migration_permit_post_copy=True)),
    'force-complete, pause': (
        dict(_LIGHT, dirty_mib_s=30, at=[(2.0, _force)]), _LIGHT_CAP),
    'abort': (dict(_BUSY, at=[(3.5, _abort)]), _BUSY_CAP),
}


def model_figures(case):
    """The model's figures (nova.bench.compare) for one functional case."""
    workload, options = CASES[case]
    conf = cfg.ConfigOpts()
    nova.conf.libvirt.register_opts(conf)
    nova.conf.compute.register_opts(conf)
    conf([], project='nova')
    conf.set_override('live_migration_downtime_delay', 3, 'libvirt')
    for name, value in options.items():
        conf.set_override(name, value, 'libvirt')
    out = scenario.run(conf, **workload)
    # Outcomes by job type, as the functional tests record them.
    outcome = libvirt_guest.JOB_TYPE_NAMES.get(out.job_type,
                                               str(out.job_type))
    return compare.from_observation(simulated.observe(
        out.job, out.state, outcome, out.flags))


def lab_figures(lab):
    """Figures of one JSON line the functional tests wrote."""
    return compare.figures(
        lab['outcome'], lab['job_s'], lab['bytes_mib'] * compare.MiB,
        lab['downtime_ms'], lab['max_throttle'], lab['actions'],
        lab['iterations'])


def main(argv):
    path = argv[1] if len(argv) > 1 else '/tmp/lab-results.jsonl'
    rows = [json.loads(line) for line in open(path) if line.strip()]
    table = []
    for lab in rows:
        if lab['case'] not in CASES:
            continue
        table.append([lab['case']] + compare.pair_cells(
            lab_figures(lab), model_figures(lab['case'])))
    print(report.markdown_table(['case'] + compare.pair_headings(), table),
          end='')


if __name__ == '__main__':
    main(sys.argv)
