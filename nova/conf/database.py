"""Options of the database the services share (group ``database``)."""

from oslo_config import cfg

database_group = cfg.OptGroup(
    'database', title='Database options',
    help='Where the services keep servers, migrations, services, compute '
         'nodes, flavors and images.')

database_opts = [
    cfg.StrOpt(
        'connection',
        default='sqlite:///$state_path/nova.sqlite',
        secret=True,
        help="""
SQLAlchemy URL of the database.

The default is an embedded SQLite file under ``state_path``; every service
of an all-in-one shares it. Any SQLAlchemy URL works, for example
``postgresql+psycopg2://nova:secret@db.example.org/nova`` or
``mysql+pymysql://nova:secret@db.example.org/nova``. Create or upgrade the
schema with ``nova-manage db sync``.
"""),
    cfg.BoolOpt(
        'connection_debug',
        default=False,
        help='Log every SQL statement (very verbose; for debugging).'),
    cfg.IntOpt(
        'connect_timeout',
        default=10,
        min=1,
        help="""
Seconds to wait for a PostgreSQL or MySQL/MariaDB server to accept a new
connection and answer its handshake.

A server that accepts TCP connections but never answers (a hung database,
a wrong port that leads to some other service) then fails the service's
start with a one-line error instead of hanging it. Passed to the driver as
``connect_timeout``; a ``connect_timeout`` in the URL's query wins. PyMySQL
reads the server's greeting under ``read_timeout``, so for MySQL/MariaDB the
start can take up to that long to fail. Not used for SQLite.
"""),
    cfg.IntOpt(
        'read_timeout',
        default=30,
        min=1,
        help="""
Seconds one statement may wait for the database server's answer before the
request fails.

The services' statements are short; a statement that waits this long is a
server that stopped answering or a lock nobody releases. MySQL/MariaDB
(PyMySQL, mysqlclient): the driver's ``read_timeout`` and ``write_timeout``.
PostgreSQL (psycopg2): the server-side ``statement_timeout``, plus TCP
keepalives and ``tcp_user_timeout`` so that a server that vanished from the
network is noticed within about this time. Parameters in the URL's query
win. Not used for SQLite, which has its own 30-second lock timeout.
"""),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: oslo.config keeps overrides in the
    # group object, and each compute service of an all-in-one has its own.
    group = cfg.OptGroup(database_group.name, title=database_group.title,
                         help=database_group.help)
    conf.register_group(group)
    conf.register_opts(database_opts, group=group)


def list_opts():
    return {database_group: database_opts}
