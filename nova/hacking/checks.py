"""Local flake8 checks: the project's layering, enforced by the linter.

Run by ``tox -e pep8`` (``[flake8:local-plugins]`` in tox.ini), as
upstream Nova's N3xx checks are. Each check is a plain function over one
logical line and its file name, so it is unit-tested without flake8.

* N801: only ``nova/virt`` (the drivers), ``nova/cmd`` and ``tools`` (the
  composition roots) and ``nova/bench`` may import ``nova.virt.libvirt``;
  compute loads its driver by name (``[DEFAULT] compute_driver``).
* N802: the REST API (``nova/api``) imports nothing of ``nova.virt`` or
  the simulator: it reaches hypervisors only through compute.
* N803: production code never imports ``nova.tests``.
* N804: only ``nova/virt/libvirt/guest.py`` and ``host.py`` import the
  libvirt module itself (the simulator and tests stand in for it).
* N805: log an instance with ``instance=instance``, not with a
  hand-formatted "Instance %s" (oslo.log then tags the line as Nova does).
"""

import re

_IMPORT = re.compile(r'^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|'
                     r'import\s+([\w.]+))')
_INSTANCE_LOG = re.compile(r"LOG\.\w+\(\s*['\"]Instance %s")


def _imported_modules(logical_line):
    match = _IMPORT.match(logical_line)
    if not match:
        return []
    if match.group(3):
        return [match.group(3)]
    base = match.group(1)
    names = [n.strip() for n in match.group(2).split(',') if n.strip()]
    return [base] + ['%s.%s' % (base, name) for name in names]


def _under(filename, *folders):
    path = filename.replace('\\', '/')
    return any('/%s/' % folder in '/' + path or
               path.startswith(folder + '/') for folder in folders)


def _imports(logical_line, prefix):
    return any(module == prefix or module.startswith(prefix + '.')
               for module in _imported_modules(logical_line))


def check_libvirt_driver_layering(logical_line, filename):
    """N801: nova.virt.libvirt only from virt, cmd, bench and tests."""
    if _under(filename, 'nova/virt', 'nova/cmd', 'nova/bench',
              'nova/tests', 'tools'):
        return
    if _imports(logical_line, 'nova.virt.libvirt'):
        yield (0, 'N801: only nova/virt, nova/cmd and nova/bench may import '
                  'nova.virt.libvirt; use the ComputeDriver interface')


def check_api_does_not_import_virt(logical_line, filename):
    """N802: the API reaches hypervisors only through compute."""
    if not _under(filename, 'nova/api'):
        return
    if (_imports(logical_line, 'nova.virt') or
            _imports(logical_line, 'nova.simulator')):
        yield (0, 'N802: nova/api must not import nova.virt or '
                  'nova.simulator; go through nova.compute')


def check_no_tests_in_production(logical_line, filename):
    """N803: production code does not import the tests."""
    if _under(filename, 'nova/tests'):
        return
    if _imports(logical_line, 'nova.tests'):
        yield (0, 'N803: production code must not import nova.tests')


def check_libvirt_module_confined(logical_line, filename):
    """N804: only guest.py and host.py import libvirt-python."""
    path = filename.replace('\\', '/')
    if path.endswith(('nova/virt/libvirt/guest.py',
                      'nova/virt/libvirt/host.py')) or _under(
            filename, 'nova/tests', 'nova/simulator'):
        return
    if 'libvirt' in _imported_modules(logical_line):
        yield (0, 'N804: only nova/virt/libvirt/guest.py and host.py may '
                  'import libvirt')


def check_instance_logging(physical_line, filename):
    """N805: LOG.x('...', instance=instance), not 'Instance %s: ...'.

    A physical-line check: flake8 blanks string contents in logical lines.
    """
    if _INSTANCE_LOG.search(physical_line):
        yield (0, "N805: log with instance=instance (oslo.log's tag) "
                  "instead of 'Instance %s'")
