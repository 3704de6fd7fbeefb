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
