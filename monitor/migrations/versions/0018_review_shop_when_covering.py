"""review: ix_review_shop_when also holds deleted_at, rating, reviewer_id and listing_id

Detection reads the touched shops' last 30 days (172k rows for 100 new reviews at 1M) for the
burst baselines. With the index holding only (shop_id, time) SQLite fetched every matching table
row, and those are spread over the whole table (reviews arrive in no time order): ~0.4 s of page
reads at 1M. With the columns the read needs in the index, it walks one index range.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_review_shop_when', table_name='review')
    op.create_index('ix_review_shop_when', 'review',
                    ['shop_id', sa.text('coalesce(created_at, first_seen)'), 'deleted_at', 'rating', 'reviewer_id',
                     'listing_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_shop_when', table_name='review')
    op.create_index('ix_review_shop_when', 'review',
                    ['shop_id', sa.text('coalesce(created_at, first_seen)')], unique=False)
