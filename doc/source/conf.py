# Sphinx configuration of the operator documentation.
#
# Built by ``tox -e docs`` with warnings as errors. The configuration
# reference is generated from the option definitions in ``nova/conf/``
# through the ``oslo.config.opts`` entry point ``nova.conf`` (setup.cfg), so
# the project must be installed in the build environment (tox does that).

import datetime

# -- General ---------------------------------------------------------------

project = 'Nova libvirt live migration'
author = 'Nova live-migration team'
copyright = '%d, %s' % (datetime.date.today().year, author)

extensions = [
    # ``show-options`` directive and the ``oslo.config`` domain
    # (``:oslo.config:option:`` / ``:oslo.config:group:`` roles).
    'oslo_config.sphinxext',
    # Writes a sample nova.conf into the source tree at build time.
    'oslo_config.sphinxconfiggen',
]

# Relative to this directory (doc/source).
config_generator_config_file = '../../etc/nova/nova-config-generator.conf'
# Written as doc/source/_static/nova.conf.sample (ignored by git).
sample_config_basename = '_static/nova'

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'sphinx'

# -- HTML ------------------------------------------------------------------

html_theme = 'alabaster'
html_title = 'Nova libvirt driver: live migration'
html_theme_options = {
    'description': 'Automatic live-migration completion for the '
                   'libvirt driver',
    'fixed_sidebar': True,
}
html_static_path = []
