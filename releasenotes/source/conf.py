# Sphinx configuration of the release notes.
#
# Built by ``tox -e releasenotes`` with warnings as errors. reno reads the
# notes from git history, so a note appears only once it is committed.

import datetime

project = 'Nova libvirt live migration release notes'
author = 'Nova live-migration team'
copyright = '%d, %s' % (datetime.date.today().year, author)

extensions = [
    'reno.sphinxext',
]

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'sphinx'

html_theme = 'alabaster'
html_static_path = []
