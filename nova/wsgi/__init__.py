"""Serving the compute API over HTTP.

``nova.wsgi.osapi_compute:application`` is the WSGI application for an
external server (uWSGI, mod_wsgi, gunicorn); ``nova.wsgi.server`` is the
server nova-api and nova-all run it in; ``nova.wsgi.reference`` is the
standard library's wsgiref server, kept only as the load benchmark's
reference point (``tox -e load``).
"""
