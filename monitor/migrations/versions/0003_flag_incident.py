"""flag.incident: a later, separate attack on the same target alerts again

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flag') as batch:
        batch.add_column(sa.Column('incident', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('flag') as batch:
        batch.drop_column('incident')
