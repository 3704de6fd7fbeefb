"""Initial schema: services, compute nodes, flavors, images, instances,
migrations.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime),
            sa.Column('updated_at', sa.DateTime)]


def upgrade():
    op.create_table(
        'services',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255)),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('forced_down', sa.Boolean, nullable=False),
        sa.Column('last_seen_up', sa.DateTime),
        sa.Column('report_count', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'))
    op.create_table(
        'compute_nodes',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('hypervisor_hostname', sa.String(255), nullable=False),
        sa.Column('hypervisor_type', sa.String(255)),
        sa.Column('hypervisor_version', sa.BigInteger),
        sa.Column('cpu_info', sa.Text),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('vcpus_used', sa.Integer, nullable=False),
        sa.Column('memory_mb_used', sa.Integer, nullable=False),
        sa.Column('running_vms', sa.Integer, nullable=False),
        sa.Column('state', sa.String(32), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint(
            'host', 'hypervisor_hostname',
            name='uniq_compute_nodes0host0hypervisor_hostname'))
    op.create_table(
        'flavors',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('flavorid', sa.String(255), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('root_gb', sa.Integer, nullable=False),
        sa.Column('is_public', sa.Boolean, nullable=False),
        *_timestamps())
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('kernel', sa.String(1024), nullable=False),
        sa.Column('initrd', sa.String(1024), nullable=False),
        sa.Column('cmdline', sa.String(1024), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        *_timestamps())
    op.create_table(
        'instances',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('name', sa.String(255)),
        sa.Column('host', sa.String(255)),
        sa.Column('node', sa.String(255)),
        sa.Column('vm_state', sa.String(255)),
        sa.Column('task_state', sa.String(255)),
        sa.Column('power_state', sa.Integer),
        sa.Column('flavor_id', sa.String(255)),
        sa.Column('memory_mb', sa.Integer),
        sa.Column('vcpus', sa.Integer),
        sa.Column('image_ref', sa.String(255)),
        sa.Column('metadata', sa.JSON),
        sa.Column('progress', sa.Integer),
        sa.Column('project_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('fault_message', sa.Text),
        sa.Column('launched_at', sa.DateTime),
        sa.Column('deleted_at', sa.DateTime),
        sa.Column('deleted', sa.Integer, nullable=False),
        *_timestamps())
    op.create_index('instances_host_deleted_idx', 'instances',
                    ['host', 'deleted'])
    op.create_table(
        'migrations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('source_compute', sa.String(255)),
        sa.Column('dest_compute', sa.String(255)),
        sa.Column('source_node', sa.String(255)),
        sa.Column('dest_node', sa.String(255)),
        sa.Column('dest_host', sa.String(255)),
        sa.Column('status', sa.String(255), nullable=False),
        sa.Column('migration_type', sa.String(255), nullable=False),
        sa.Column('memory_total', sa.BigInteger, nullable=False),
        sa.Column('memory_processed', sa.BigInteger, nullable=False),
        sa.Column('memory_remaining', sa.BigInteger, nullable=False),
        sa.Column('disk_total', sa.BigInteger, nullable=False),
        sa.Column('disk_processed', sa.BigInteger, nullable=False),
        sa.Column('disk_remaining', sa.BigInteger, nullable=False),
        sa.Column('project_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        *_timestamps())
    op.create_index('migrations_instance_uuid_status_idx', 'migrations',
                    ['instance_uuid', 'status'])
    op.create_index('migrations_source_compute_status_idx', 'migrations',
                    ['source_compute', 'status'])
