"""Instances: hostname (microversion 2.90) and pinned_availability_zone
(2.96).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('hostname', sa.String(255)))
        batch.add_column(sa.Column('pinned_availability_zone',
                                   sa.String(255)))
