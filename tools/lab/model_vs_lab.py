"""Put the lab's real migrations beside the model's prediction.

Reads the JSON lines the functional tests write ($NOVA_LAB_RESULTS), runs
each case through the same driver code on the simulated hypervisor with
the same guest, caps and options, and prints a Markdown table.

    NOVA_LAB_RESULTS=/tmp/lab.jsonl tox -e functional
    python tools/lab/model_vs_lab.py /tmp/lab.jsonl
"""

import json
import sys

from oslo_config import cfg

import nova.conf
from nova.tests.unit.virt.libvirt import scenario

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
    workload, options = CASES[case]
    conf = cfg.ConfigOpts()
    nova.conf.libvirt.register_opts(conf)
    nova.conf.compute.register_opts(conf)
    conf([], project='nova')
    conf.set_override('live_migration_downtime_delay', 3, 'libvirt')
    for name, value in options.items():
        conf.set_override(name, value, 'libvirt')
    out = scenario.run(conf, **workload)
    job = out.job
    return {
        'outcome': {3: 'completed', 4: 'failed', 5: 'cancelled'}.get(
            out.job_type, str(out.job_type)),
        'job_s': round(job.elapsed, 1),
        'bytes_mib': round(job.sent / scenario.MiB, 1),
        'downtime_ms': (int(job.downtime * 1000)
                        if out.job_type == 3 else None),
        'max_throttle': max(s.throttle for s in job.samples),
        'iterations': job.iteration,
        'acted_at': [a[0] for a in out.state.actions],
    }


def _ratio(lab, model):
    if not lab or not model:
        return ''
    return '%.2f' % (float(model) / lab)


def main(argv):
    path = argv[1] if len(argv) > 1 else '/tmp/lab-results.jsonl'
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print('| case | outcome lab/model | job s lab/model (ratio) | MiB sent '
          'lab/model (ratio) | downtime ms lab/model | max throttle '
          'lab/model | passes lab/model | monitor acted at s lab/model |')
    print('|---|---|---|---|---|---|---|---|')
    for lab in rows:
        if lab['case'] not in CASES:
            continue
        model = model_figures(lab['case'])
        print('| %s | %s / %s | %s / %s (%s) | %s / %s (%s) | %s / %s | '
              '%s / %s | %s / %s | %s / %s |' % (
                  lab['case'], lab['outcome'], model['outcome'],
                  lab['job_s'], model['job_s'],
                  _ratio(lab['job_s'], model['job_s']),
                  lab['bytes_mib'], model['bytes_mib'],
                  _ratio(lab['bytes_mib'], model['bytes_mib']),
                  lab['downtime_ms'], model['downtime_ms'],
                  lab['max_throttle'], model['max_throttle'],
                  lab['iterations'], model['iterations'],
                  [a[0] for a in lab['actions']], model['acted_at']))


if __name__ == '__main__':
    main(sys.argv)
