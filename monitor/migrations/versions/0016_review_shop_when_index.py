"""review: index on (shop_id, coalesce(created_at, first_seen)) for detection's shop timelines

Detection reads the touched shops' last 30 days filtered on that expression; no index served it,
so SQLite scanned the whole review table (1M rows for 100 new reviews).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_review_shop_when', 'review',
                    ['shop_id', sa.text('coalesce(created_at, first_seen)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_shop_when', table_name='review')
