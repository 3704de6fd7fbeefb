"""Instances: root_gb, the flavor's root disk size (GiB) at create.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: rows created before it have no size (their flavor's disk
    # was never used, and the driver reads NULL as 0: no root disk).
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('root_gb', sa.Integer))
