"""Facts about a compute host that os-hypervisors shows: CPU and uptime.

Pure functions over what libvirt and the kernel hand over (the
capabilities XML, /proc/uptime and /proc/loadavg), so they are tested
without a host.
"""

import datetime
import json
from typing import Any, Dict
from xml.etree import ElementTree


def cpu_info(capabilities_xml, fallback_arch=None):
    """Nova's ``cpu_info`` of a host from libvirt's capabilities XML.

    ``{"arch", "model", "vendor", "topology": {"sockets", "cores",
    "threads"}, "features": [...]}`` as Nova's libvirt driver describes the
    host CPU; os-hypervisors shows it (a JSON string before 2.28, the
    object from it). Missing parts are left out; unreadable XML gives
    only the architecture from ``virConnect.getInfo``.
    """
    info: Dict[str, Any] = {}
    try:
        root = ElementTree.fromstring(capabilities_xml or '')
    except ElementTree.ParseError:
        root = None
    cpu = root.find('./host/cpu') if root is not None else None
    if cpu is None:
        return {'arch': fallback_arch} if fallback_arch else {}
    for key in ('arch', 'model', 'vendor'):
        text = cpu.findtext(key)
        if text:
            info[key] = text.strip()
    if 'arch' not in info and fallback_arch:
        info['arch'] = fallback_arch
    topology = cpu.find('topology')
    if topology is not None:
        info['topology'] = {
            key: int(topology.get(key) or 0)
            for key in ('sockets', 'cores', 'threads')
            if (topology.get(key) or '').isdigit()}
    info['features'] = sorted({f.get('name') or '' for f in
                               cpu.findall('feature') if f.get('name')})
    return info


def cpu_info_json(capabilities_xml, fallback_arch=None):
    """cpu_info as the JSON text the compute node record keeps."""
    return json.dumps(cpu_info(capabilities_xml, fallback_arch),
                      sort_keys=True)


def uptime_line(now, uptime_seconds, load_averages, users=0):
    """The line ``uptime(1)`` prints, which Nova's os-hypervisors shows.

    ``now``: local wall-clock time; ``uptime_seconds``: since boot;
    ``load_averages``: the 1, 5 and 15 minute load averages.
    """
    minutes = int(uptime_seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append('%d day%s' % (days, '' if days == 1 else 's'))
    if hours:
        parts.append('%2d:%02d' % (hours, minutes))
    else:
        parts.append('%d min' % minutes)
    return ' %s up %s,  %d user%s,  load average: %s' % (
        now.strftime('%H:%M:%S'), ', '.join(parts), users,
        '' if users == 1 else 's',
        ', '.join('%.2f' % v for v in load_averages))


def read_uptime_line(proc='/proc'):
    """This machine's uptime line, from /proc (no uptime(1) needed)."""
    with open('%s/uptime' % proc) as handle:
        seconds = float(handle.read().split()[0])
    with open('%s/loadavg' % proc) as handle:
        loads = [float(v) for v in handle.read().split()[:3]]
    return uptime_line(datetime.datetime.now(), seconds, loads)
