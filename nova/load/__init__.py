"""The API's load and hostile-client benchmark (``tox -e load``).

See ``nova.load.cli`` and doc/source/admin/serving-the-api.rst.
"""
