"""SQLAlchemy models of the tables the services share.

The schema itself is created by the alembic migrations in
``nova/db/migrations``; these models must match them (a test compares the
two on every backend).
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm


def utcnow():
    """Naive UTC, the way the rows store time on every backend."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    pass


class TimestampMixin(object):
    created_at = sa.Column(sa.DateTime, default=utcnow)
    updated_at = sa.Column(sa.DateTime, onupdate=utcnow)


class Service(TimestampMixin, Base):
    __tablename__ = 'services'
    __table_args__ = (
        sa.UniqueConstraint('host', 'binary', name='uniq_services0host0binary'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    host = sa.Column(sa.String(255), nullable=False)
    binary = sa.Column(sa.String(255), nullable=False)
    topic = sa.Column(sa.String(255))
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    disabled_reason = sa.Column(sa.String(255))
    forced_down = sa.Column(sa.Boolean, nullable=False, default=False)
    last_seen_up = sa.Column(sa.DateTime)
    report_count = sa.Column(sa.Integer, nullable=False, default=0)


class ComputeNode(TimestampMixin, Base):
    __tablename__ = 'compute_nodes'
    __table_args__ = (
        sa.UniqueConstraint('host', 'hypervisor_hostname',
                            name='uniq_compute_nodes0host0hypervisor_hostname'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    host = sa.Column(sa.String(255), nullable=False)
    hypervisor_hostname = sa.Column(sa.String(255), nullable=False)
    hypervisor_type = sa.Column(sa.String(255))
    hypervisor_version = sa.Column(sa.BigInteger)
    cpu_info = sa.Column(sa.Text)
    vcpus = sa.Column(sa.Integer, nullable=False, default=0)
    memory_mb = sa.Column(sa.Integer, nullable=False, default=0)
    vcpus_used = sa.Column(sa.Integer, nullable=False, default=0)
    memory_mb_used = sa.Column(sa.Integer, nullable=False, default=0)
    running_vms = sa.Column(sa.Integer, nullable=False, default=0)
    state = sa.Column(sa.String(32), nullable=False, default='up')


class Flavor(TimestampMixin, Base):
    __tablename__ = 'flavors'

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    flavorid = sa.Column(sa.String(255), nullable=False, unique=True)
    name = sa.Column(sa.String(255), nullable=False, unique=True)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    vcpus = sa.Column(sa.Integer, nullable=False)
    root_gb = sa.Column(sa.Integer, nullable=False, default=0)
    is_public = sa.Column(sa.Boolean, nullable=False, default=True)


class Image(TimestampMixin, Base):
    __tablename__ = 'images'

    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    kernel = sa.Column(sa.String(1024), nullable=False)
    initrd = sa.Column(sa.String(1024), nullable=False)
    cmdline = sa.Column(sa.String(1024), nullable=False, default='')
    status = sa.Column(sa.String(32), nullable=False, default='active')


class Instance(TimestampMixin, Base):
    __tablename__ = 'instances'
    __table_args__ = (
        sa.Index('instances_host_deleted_idx', 'host', 'deleted'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    name = sa.Column(sa.String(255))
    host = sa.Column(sa.String(255))
    node = sa.Column(sa.String(255))
    vm_state = sa.Column(sa.String(255))
    task_state = sa.Column(sa.String(255))
    power_state = sa.Column(sa.Integer)
    flavor_id = sa.Column(sa.String(255))
    memory_mb = sa.Column(sa.Integer)
    vcpus = sa.Column(sa.Integer)
    # The flavor's root disk (GiB) at create; NULL for older rows.
    root_gb = sa.Column(sa.Integer)
    image_ref = sa.Column(sa.String(255))
    # 'metadata' is reserved by SQLAlchemy's declarative classes.
    metadata_ = sa.Column('metadata', sa.JSON)
    progress = sa.Column(sa.Integer)
    project_id = sa.Column(sa.String(255))
    user_id = sa.Column(sa.String(255))
    fault_message = sa.Column(sa.Text)
    launched_at = sa.Column(sa.DateTime)
    deleted_at = sa.Column(sa.DateTime)
    # The guest's host name (2.90) and the zone asked for at create (2.96).
    hostname = sa.Column(sa.String(255))
    pinned_availability_zone = sa.Column(sa.String(255))
    # 0 while the row is live, its id once deleted (Nova's soft delete).
    deleted = sa.Column(sa.Integer, nullable=False, default=0)


class Migration(TimestampMixin, Base):
    __tablename__ = 'migrations'
    __table_args__ = (
        sa.Index('migrations_instance_uuid_status_idx', 'instance_uuid',
                 'status'),
        sa.Index('migrations_source_compute_status_idx', 'source_compute',
                 'status'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    instance_uuid = sa.Column(sa.String(36), nullable=False)
    source_compute = sa.Column(sa.String(255))
    dest_compute = sa.Column(sa.String(255))
    source_node = sa.Column(sa.String(255))
    dest_node = sa.Column(sa.String(255))
    dest_host = sa.Column(sa.String(255))
    status = sa.Column(sa.String(255), nullable=False)
    migration_type = sa.Column(sa.String(255), nullable=False)
    memory_total = sa.Column(sa.BigInteger, nullable=False, default=0)
    memory_processed = sa.Column(sa.BigInteger, nullable=False, default=0)
    memory_remaining = sa.Column(sa.BigInteger, nullable=False, default=0)
    disk_total = sa.Column(sa.BigInteger, nullable=False, default=0)
    disk_processed = sa.Column(sa.BigInteger, nullable=False, default=0)
    disk_remaining = sa.Column(sa.BigInteger, nullable=False, default=0)
    project_id = sa.Column(sa.String(255))
    user_id = sa.Column(sa.String(255))


class MigrationTimeline(TimestampMixin, Base):
    """A migration's monitor samples (kind 'point') and decisions
    (kind 'event'); deleted with the migration (``migration_purge``).
    """
    __tablename__ = 'migration_timeline'
    __table_args__ = (
        sa.Index('migration_timeline_migration_id_kind_idx', 'migration_id',
                 'kind'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    migration_id = sa.Column(sa.Integer, nullable=False)
    kind = sa.Column(sa.String(8), nullable=False)
    elapsed = sa.Column(sa.Float, nullable=False)
    iteration = sa.Column(sa.Integer)
    memory_remaining = sa.Column(sa.BigInteger)
    memory_total = sa.Column(sa.BigInteger)
    data_remaining = sa.Column(sa.BigInteger)
    dirty_bps = sa.Column(sa.Float)
    transfer_bps = sa.Column(sa.Float)
    throttle = sa.Column(sa.Integer)
    downtime_ms = sa.Column(sa.Integer)
    phase = sa.Column(sa.String(16))
    action = sa.Column(sa.String(64))
    reason = sa.Column(sa.Text)
