"""listing.newest_review_id dropped: nothing wrote or read it

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.drop_column('newest_review_id')


def downgrade() -> None:
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('newest_review_id', sa.VARCHAR(), nullable=True))
