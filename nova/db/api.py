"""Queries of the shared database; rows come back as plain dicts.

``Database`` owns one SQLAlchemy engine. Every function here takes it as
its first argument and runs in one short transaction of its own. State
changes that may race (a migration claimed by the compute service while the
API cancels it) are conditional updates: ``expected`` values go into the
WHERE clause and the caller learns whether it won.
"""

import contextlib
import threading
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm
from sqlalchemy import pool

from nova.db import models
from nova import exception

utcnow = models.utcnow

_ENGINES = {}
_ENGINES_LOCK = threading.Lock()


def _sqlite_setup(engine):
    """SQLite: writers queue behind a lock instead of failing at once.

    Every transaction starts with BEGIN IMMEDIATE, so two services that
    read then write never deadlock on a lock upgrade; WAL lets readers go
    on while one writes.
    """
    @event.listens_for(engine, 'connect')
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, '', ':memory:'):
            cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA busy_timeout=30000')
        cursor.close()

    @event.listens_for(engine, 'begin')
    def on_begin(connection):
        connection.exec_driver_sql('BEGIN IMMEDIATE')


# Defaults of [database] connect_timeout / read_timeout, for callers that
# build a Database from a bare URL (tools, tests, nova-manage's override).
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30


def driver_timeouts(url, connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT):
    """``connect_args`` that bound how long the DB driver waits, by driver.

    Without them a server that accepts TCP connections but never answers
    hangs a service forever: neither libpq nor PyMySQL gives up on its own.
    Parameters already in the URL's query are the operator's and win.

    * MySQL/MariaDB (pymysql, mysqldb): ``connect_timeout`` (connection and
      handshake), ``read_timeout`` and ``write_timeout`` on the socket.
    * PostgreSQL (psycopg2, psycopg): libpq's ``connect_timeout`` (the whole
      connection set-up), the server-side ``statement_timeout``, and TCP
      keepalives plus ``tcp_user_timeout`` so that a peer gone from the
      network is noticed in about ``read_timeout`` seconds.
    * pg8000: its socket ``timeout``.
    """
    url = sa.engine.make_url(url)
    backend = url.get_backend_name()
    driver = url.get_driver_name()
    args = {}
    if backend in ('mysql', 'mariadb') and driver in ('pymysql', 'mysqldb'):
        args = {'connect_timeout': connect_timeout,
                'read_timeout': read_timeout,
                'write_timeout': read_timeout}
    elif backend == 'postgresql' and driver in ('psycopg2', 'psycopg'):
        idle = max(1, read_timeout // 3)
        args = {'connect_timeout': connect_timeout,
                'options': '-c statement_timeout=%d' % (read_timeout * 1000),
                'keepalives': 1,
                'keepalives_idle': idle,
                'keepalives_interval': max(1, idle // 3),
                'keepalives_count': 3,
                'tcp_user_timeout': read_timeout * 1000}
    elif backend == 'postgresql' and driver == 'pg8000':
        args = {'timeout': max(connect_timeout, read_timeout)}
    return {key: value for key, value in args.items()
            if key not in url.query}


def create_engine(url, echo=False, connect_timeout=CONNECT_TIMEOUT,
                  read_timeout=READ_TIMEOUT):
    url = sa.engine.make_url(url)
    kwargs = {'echo': echo, 'future': True}
    if url.get_backend_name() == 'sqlite':
        kwargs['connect_args'] = {'check_same_thread': False, 'timeout': 30}
        if url.database in (None, '', ':memory:'):
            kwargs['poolclass'] = pool.StaticPool
        engine = sa.create_engine(url, **kwargs)
        _sqlite_setup(engine)
        return engine
    kwargs['pool_pre_ping'] = True
    connect_args = driver_timeouts(url, connect_timeout, read_timeout)
    if connect_args:
        kwargs['connect_args'] = connect_args
    engine = sa.create_engine(url, **kwargs)
    if url.get_driver_name() == 'psycopg2':
        _bound_green_connect(engine, connect_timeout)
    return engine


def _bound_green_connect(engine, connect_timeout):
    """psycopg2 under eventlet: bound the connection set-up ourselves.

    Monkey-patching gives psycopg2 a wait callback, which makes libpq
    connect asynchronously; libpq then leaves ``connect_timeout`` to the
    application, and eventlet's callback waits without limit.
    """
    @event.listens_for(engine, 'do_connect')
    def do_connect(dialect, _record, cargs, cparams):
        from nova import utils
        if not utils._eventlet_patched():
            return None     # libpq's own connect_timeout applies
        from psycopg2 import extensions
        if extensions.get_wait_callback() is None:
            return None
        import eventlet
        try:
            with eventlet.Timeout(connect_timeout):
                return dialect.connect(*cargs, **cparams)
        except eventlet.Timeout:
            raise dialect.loaded_dbapi.OperationalError(
                'timeout expired (no answer within connect_timeout = %s s)'
                % connect_timeout)


class Database(object):
    """One database (a URL) and the sessions on it."""

    def __init__(self, url, echo=False, engine=None,
                 connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT):
        self.url = str(url)
        self.engine = engine or create_engine(
            url, echo=echo, connect_timeout=connect_timeout,
            read_timeout=read_timeout)
        self._sessionmaker = orm.sessionmaker(bind=self.engine,
                                              expire_on_commit=False)

    @classmethod
    def from_conf(cls, conf):
        return get_database(conf.database.connection,
                            echo=conf.database.connection_debug,
                            connect_timeout=conf.database.connect_timeout,
                            read_timeout=conf.database.read_timeout)

    @property
    def safe_url(self):
        """The URL without its password, for messages."""
        try:
            return sa.engine.make_url(self.url).render_as_string(
                hide_password=True)
        except Exception:
            return '<unparsable URL>'

    def check_connection(self):
        """Connect and run one statement; DatabaseUnavailable if that fails.

        Called at start so that an unreachable or hung database is a
        one-line error (bounded by [database] connect_timeout) rather than
        a traceback at the first query, or no answer at all.
        """
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql('SELECT 1')
        except sa.exc.SQLAlchemyError as exc:
            orig = getattr(exc, 'orig', None) or exc
            reason = ' '.join(str(orig).split()) or type(orig).__name__
            raise exception.DatabaseUnavailable(url=self.safe_url,
                                                reason=reason[:300])

    @contextlib.contextmanager
    def session(self):
        """A session in a transaction, committed on success."""
        with self._sessionmaker() as session:
            with session.begin():
                yield session

    def dispose(self):
        self.engine.dispose()


def get_database(url, echo=False, connect_timeout=CONNECT_TIMEOUT,
                 read_timeout=READ_TIMEOUT):
    """The process-wide Database of ``url`` (services in one process share
    it, and so its connection pool).
    """
    with _ENGINES_LOCK:
        db = _ENGINES.get(url)
        if db is None:
            db = _ENGINES[url] = Database(url, echo=echo,
                                          connect_timeout=connect_timeout,
                                          read_timeout=read_timeout)
        return db


# -- helpers -----------------------------------------------------------------

def _to_dict(row):
    if row is None:
        return None
    values = {}
    for attr in sa.inspect(row).mapper.column_attrs:
        values[attr.key] = getattr(row, attr.key)
    if isinstance(row, models.Instance):
        values['metadata'] = values.pop('metadata_') or {}
    return values


def _instance_values(values):
    values = dict(values)
    if 'metadata' in values:
        values['metadata_'] = values.pop('metadata')
    return values


def _conditional_update(db, model, key_column, key, values, expected):
    """UPDATE ... WHERE key = :key AND <expected>; True when a row matched.

    ``expected`` maps a column to a value or to a tuple/list of values.
    """
    stmt = sa.update(model).where(key_column == key)
    for name, want in (expected or {}).items():
        column = getattr(model, name)
        if isinstance(want, (list, tuple, set, frozenset)):
            want = list(want)
            if None in want:
                others = [w for w in want if w is not None]
                stmt = stmt.where(sa.or_(column.is_(None),
                                         column.in_(others)))
            else:
                stmt = stmt.where(column.in_(want))
        elif want is None:
            stmt = stmt.where(column.is_(None))
        else:
            stmt = stmt.where(column == want)
    values = dict(values)
    if 'updated_at' not in values:
        values['updated_at'] = utcnow()
    with db.session() as session:
        result = session.execute(stmt.values(**values))
        return result.rowcount > 0


# -- services ----------------------------------------------------------------

def service_get_all(db, binary=None, host=None):
    stmt = sa.select(models.Service).order_by(models.Service.id)
    if binary:
        stmt = stmt.where(models.Service.binary == binary)
    if host:
        stmt = stmt.where(models.Service.host == host)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


def service_get(db, service_id):
    with db.session() as session:
        row = session.get(models.Service, service_id)
        if row is None:
            raise exception.ServiceNotFound(service_id=service_id)
        return _to_dict(row)


def service_get_by_host_and_binary(db, host, binary):
    stmt = sa.select(models.Service).where(
        models.Service.host == host, models.Service.binary == binary)
    with db.session() as session:
        return _to_dict(session.scalars(stmt).first())


def service_register(db, host, binary, topic):
    """Create the service row, or mark an existing one alive again."""
    now = utcnow()
    stmt = sa.select(models.Service).where(
        models.Service.host == host, models.Service.binary == binary)
    with db.session() as session:
        row = session.scalars(stmt).first()
        if row is None:
            row = models.Service(uuid=str(uuid_lib.uuid4()), host=host,
                                 binary=binary, topic=topic,
                                 disabled=False, forced_down=False,
                                 report_count=0, last_seen_up=now)
            session.add(row)
        else:
            row.topic = topic
            row.last_seen_up = now
        session.flush()
        return _to_dict(row)


def service_heartbeat(db, service_id):
    stmt = sa.update(models.Service).where(
        models.Service.id == service_id).values(
            last_seen_up=utcnow(),
            report_count=models.Service.report_count + 1)
    with db.session() as session:
        session.execute(stmt)


def service_update(db, service_id, values):
    with db.session() as session:
        row = session.get(models.Service, service_id)
        if row is None:
            raise exception.ServiceNotFound(service_id=service_id)
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        return _to_dict(row)


def service_delete(db, service_id):
    with db.session() as session:
        row = session.get(models.Service, service_id)
        if row is None:
            raise exception.ServiceNotFound(service_id=service_id)
        session.delete(row)


# -- compute nodes -----------------------------------------------------------

def compute_node_update_for_host(db, host, values):
    """Create or update the compute node of ``host`` (one per host here)."""
    stmt = sa.select(models.ComputeNode).where(
        models.ComputeNode.host == host)
    with db.session() as session:
        row = session.scalars(stmt).first()
        if row is None:
            row = models.ComputeNode(uuid=str(uuid_lib.uuid4()), host=host,
                                     vcpus_used=0, memory_mb_used=0,
                                     running_vms=0, state='up')
            session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        return _to_dict(row)


def compute_node_get_all(db):
    stmt = sa.select(models.ComputeNode).order_by(models.ComputeNode.id)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


def compute_node_get(db, node_id):
    with db.session() as session:
        row = session.get(models.ComputeNode, node_id)
        if row is None:
            raise exception.ComputeHostNotFound(host=node_id)
        return _to_dict(row)


def compute_node_get_by_host(db, host):
    stmt = sa.select(models.ComputeNode).where(
        models.ComputeNode.host == host)
    with db.session() as session:
        return _to_dict(session.scalars(stmt).first())


# -- flavors and images --------------------------------------------------------

def flavor_create(db, values):
    values = dict(values)
    values.setdefault('flavorid', str(uuid_lib.uuid4()))
    values.setdefault('root_gb', 0)
    values.setdefault('is_public', True)
    with db.session() as session:
        clash = session.scalars(sa.select(models.Flavor).where(sa.or_(
            models.Flavor.name == values['name'],
            models.Flavor.flavorid == values['flavorid']))).first()
        if clash is not None:
            raise exception.FlavorExists(name=values['name'],
                                         flavor_id=values['flavorid'])
        row = models.Flavor(**values)
        session.add(row)
        session.flush()
        return _to_dict(row)


def flavor_get_all(db):
    stmt = sa.select(models.Flavor).order_by(models.Flavor.memory_mb,
                                             models.Flavor.flavorid)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


def flavor_get_by_flavorid(db, flavorid):
    stmt = sa.select(models.Flavor).where(
        models.Flavor.flavorid == str(flavorid))
    with db.session() as session:
        return _to_dict(session.scalars(stmt).first())


def flavor_get_by_name(db, name):
    stmt = sa.select(models.Flavor).where(models.Flavor.name == name)
    with db.session() as session:
        return _to_dict(session.scalars(stmt).first())


def image_create(db, values):
    values = dict(values)
    values.setdefault('id', str(uuid_lib.uuid4()))
    values.setdefault('status', 'active')
    values.setdefault('cmdline', '')
    with db.session() as session:
        row = models.Image(**values)
        session.add(row)
        session.flush()
        return _to_dict(row)


def image_get_all(db):
    stmt = sa.select(models.Image).order_by(models.Image.created_at,
                                            models.Image.name)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


def image_get(db, image_id):
    with db.session() as session:
        return _to_dict(session.get(models.Image, str(image_id)))


def image_get_by_name(db, name):
    stmt = sa.select(models.Image).where(models.Image.name == name)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


# -- instances -----------------------------------------------------------------

def instance_create(db, values):
    values = _instance_values(values)
    values.setdefault('uuid', str(uuid_lib.uuid4()))
    values.setdefault('deleted', 0)
    with db.session() as session:
        row = models.Instance(**values)
        session.add(row)
        session.flush()
        return _to_dict(row)


def instance_get_by_uuid(db, uuid, read_deleted=False):
    stmt = sa.select(models.Instance).where(models.Instance.uuid == uuid)
    if not read_deleted:
        stmt = stmt.where(models.Instance.deleted == 0)
    with db.session() as session:
        row = session.scalars(stmt).first()
        if row is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        return _to_dict(row)


def instance_get_all(db, filters=None, limit=None, marker=None):
    """Live instances, newest first; ``filters`` maps a column to a value,
    plus ``changes-since`` / ``changes-before`` (datetimes) and
    ``deleted`` (True to list deleted ones only).
    """
    filters = dict(filters or {})
    model = models.Instance
    stmt = sa.select(model)
    deleted = filters.pop('deleted', False)
    stmt = stmt.where(model.deleted != 0 if deleted else model.deleted == 0)
    since = filters.pop('changes-since', None)
    if since is not None:
        stmt = stmt.where(sa.func.coalesce(model.updated_at,
                                           model.created_at) >= since)
    before = filters.pop('changes-before', None)
    if before is not None:
        stmt = stmt.where(sa.func.coalesce(model.updated_at,
                                           model.created_at) <= before)
    for key, value in filters.items():
        column = getattr(model, key)
        if isinstance(value, (list, tuple, set)):
            stmt = stmt.where(column.in_(list(value)))
        else:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(model.created_at.desc(), model.id.desc())
    with db.session() as session:
        rows = [_to_dict(r) for r in session.scalars(stmt)]
    return _page(rows, 'uuid', limit, marker)


def _page(rows, key, limit, marker):
    if marker is not None:
        keys = [row[key] for row in rows]
        if marker not in keys:
            raise exception.MarkerNotFound(marker=marker)
        rows = rows[keys.index(marker) + 1:]
    if limit is not None:
        rows = rows[:int(limit)]
    return rows


def instance_update(db, uuid, values, expected=None):
    """Update a live instance; with ``expected``, only when it matches.

    Returns True when the row was updated.
    """
    expected = dict(expected or {})
    expected['deleted'] = 0
    return _conditional_update(db, models.Instance, models.Instance.uuid,
                               uuid, _instance_values(values), expected)


def instance_destroy(db, uuid):
    """Soft-delete: the row stays (os-migrations still names it)."""
    now = utcnow()
    with db.session() as session:
        row = session.scalars(sa.select(models.Instance).where(
            models.Instance.uuid == uuid,
            models.Instance.deleted == 0)).first()
        if row is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        row.deleted = row.id
        row.deleted_at = now
        row.vm_state = 'deleted'
        row.task_state = None
        row.power_state = 0
        session.flush()
        return _to_dict(row)


def instance_usage_by_host(db):
    """{host: (instances, memory_mb, vcpus)} of live instances."""
    model = models.Instance
    stmt = sa.select(model.host, sa.func.count(model.id),
                     sa.func.coalesce(sa.func.sum(model.memory_mb), 0),
                     sa.func.coalesce(sa.func.sum(model.vcpus), 0)).where(
        model.deleted == 0, model.host.is_not(None)).group_by(model.host)
    with db.session() as session:
        return {host: (int(count), int(mem), int(cpus))
                for host, count, mem, cpus in session.execute(stmt)}


# -- migrations ----------------------------------------------------------------

def migration_create(db, values):
    values = dict(values)
    values.setdefault('uuid', str(uuid_lib.uuid4()))
    for name in ('memory_total', 'memory_processed', 'memory_remaining',
                 'disk_total', 'disk_processed', 'disk_remaining'):
        if values.get(name) is None:
            values[name] = 0
    with db.session() as session:
        row = models.Migration(**values)
        session.add(row)
        session.flush()
        return _to_dict(row)


def migration_get(db, migration_id):
    with db.session() as session:
        row = session.get(models.Migration, int(migration_id))
        if row is None:
            raise exception.MigrationNotFound(migration_id=migration_id)
        return _to_dict(row)


def migration_get_by_id_and_instance(db, migration_id, instance_uuid):
    try:
        migration_id = int(migration_id)
    except (TypeError, ValueError):
        raise exception.MigrationNotFoundForInstance(
            migration_id=migration_id, instance_id=instance_uuid)
    stmt = sa.select(models.Migration).where(
        models.Migration.id == migration_id,
        models.Migration.instance_uuid == instance_uuid)
    with db.session() as session:
        row = session.scalars(stmt).first()
        if row is None:
            raise exception.MigrationNotFoundForInstance(
                migration_id=migration_id, instance_id=instance_uuid)
        return _to_dict(row)


def migration_get_all(db, filters=None, limit=None, marker=None):
    """Migrations, newest first.

    ``filters``: ``host`` (source or destination compute), ``status``,
    ``instance_uuid``, ``migration_type``, ``source_compute``,
    ``dest_compute``, ``project_id``, ``user_id``, ``changes-since`` /
    ``changes-before`` (datetimes, on updated_at or created_at). A value
    may be a list. ``marker`` is a migration uuid.
    """
    filters = dict(filters or {})
    model = models.Migration
    stmt = sa.select(model)
    host = filters.pop('host', None)
    if host:
        stmt = stmt.where(sa.or_(model.source_compute == host,
                                 model.dest_compute == host))
    since = filters.pop('changes-since', None)
    if since is not None:
        stmt = stmt.where(sa.func.coalesce(model.updated_at,
                                           model.created_at) >= since)
    before = filters.pop('changes-before', None)
    if before is not None:
        stmt = stmt.where(sa.func.coalesce(model.updated_at,
                                           model.created_at) <= before)
    for key, value in filters.items():
        if value is None:
            continue
        column = getattr(model, key)
        if isinstance(value, (list, tuple, set)):
            stmt = stmt.where(column.in_(list(value)))
        else:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(model.created_at.desc(), model.id.desc())
    with db.session() as session:
        rows = [_to_dict(r) for r in session.scalars(stmt)]
    return _page(rows, 'uuid', limit, marker)


def migration_update(db, migration_id, values, expected=None):
    """Update a migration; with ``expected``, only when it matches.

    Returns True when the row was updated.
    """
    return _conditional_update(db, models.Migration, models.Migration.id,
                               int(migration_id), values, expected)


# -- migration timelines -------------------------------------------------------

TIMELINE_POINT = 'point'
TIMELINE_EVENT = 'event'


def migration_timeline_add(db, migration_id, kind, rows, thin=None):
    """Append timeline rows (dicts of the table's columns) of one kind.

    ``thin(ids)``, given the ids of every row of that kind oldest first,
    returns the ids to keep; the others are deleted in the same
    transaction, which bounds the rows a migration holds.
    """
    model = models.MigrationTimeline
    with db.session() as session:
        for values in rows:
            session.add(model(migration_id=int(migration_id), kind=kind,
                              **values))
        session.flush()
        if thin is None:
            return
        ids = list(session.scalars(sa.select(model.id).where(
            model.migration_id == int(migration_id),
            model.kind == kind).order_by(model.elapsed, model.id)))
        keep = set(thin(ids))
        drop = [i for i in ids if i not in keep]
        if drop:
            session.execute(sa.delete(model).where(model.id.in_(drop)))


def migration_timeline_get(db, migration_id, kind=None):
    """The timeline rows of a migration (of one kind), in time order."""
    model = models.MigrationTimeline
    stmt = sa.select(model).where(
        model.migration_id == int(migration_id)).order_by(model.elapsed,
                                                          model.id)
    if kind is not None:
        stmt = stmt.where(model.kind == kind)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


def migration_get_finished_before(db, before, statuses):
    """Migrations in one of ``statuses`` last changed before ``before``."""
    model = models.Migration
    stmt = sa.select(model).where(
        model.status.in_(list(statuses)),
        sa.func.coalesce(model.updated_at, model.created_at) < before
    ).order_by(model.id)
    with db.session() as session:
        return [_to_dict(r) for r in session.scalars(stmt)]


def migration_purge(db, migration_ids):
    """Delete migrations and their timelines; (migrations, timeline rows)."""
    ids = [int(i) for i in migration_ids]
    if not ids:
        return 0, 0
    with db.session() as session:
        rows = session.execute(sa.delete(models.MigrationTimeline).where(
            models.MigrationTimeline.migration_id.in_(ids))).rowcount
        migrations = session.execute(sa.delete(models.Migration).where(
            models.Migration.id.in_(ids))).rowcount
    return migrations, rows
