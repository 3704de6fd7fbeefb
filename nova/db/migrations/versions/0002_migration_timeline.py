"""Migration timelines: the monitor's samples and decisions per migration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'migration_timeline',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('migration_id', sa.Integer, nullable=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('elapsed', sa.Float, nullable=False),
        sa.Column('iteration', sa.Integer),
        sa.Column('memory_remaining', sa.BigInteger),
        sa.Column('memory_total', sa.BigInteger),
        sa.Column('data_remaining', sa.BigInteger),
        sa.Column('dirty_bps', sa.Float),
        sa.Column('transfer_bps', sa.Float),
        sa.Column('throttle', sa.Integer),
        sa.Column('downtime_ms', sa.Integer),
        sa.Column('phase', sa.String(16)),
        sa.Column('action', sa.String(64)),
        sa.Column('reason', sa.Text),
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime))
    op.create_index('migration_timeline_migration_id_kind_idx',
                    'migration_timeline', ['migration_id', 'kind'])


def downgrade():
    op.drop_index('migration_timeline_migration_id_kind_idx',
                  table_name='migration_timeline')
    op.drop_table('migration_timeline')
